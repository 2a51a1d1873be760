package prometheus_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	sioprom "github.com/sioredis/sioredis/integrations/prometheus"
)

// Example registers the engine's metrics and serves them on /metrics, next
// to the Go runtime's and the process's.
func Example() {
	eng, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}}})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	// … eng.Namespace(ctx, "/", host) for each namespace the server has.

	prometheus.MustRegister(sioprom.New(eng, sioprom.Options{})) // sioredis_* metrics
	http.Handle("/metrics", promhttp.Handler())
	log.Fatal(http.ListenAndServe(":2112", nil))
}
