package zishang520_test

import (
	"log"
	"net/http"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/integrations/zishang520"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// A zishang520 server that is a member of a cluster on the Redis at
// 127.0.0.1:6379: start it twice on two ports, or beside a Node server with
// @socket.io/redis-adapter on the same Redis, and a broadcast on any of them
// reaches the clients of all.
func ExampleNewAdapterBuilder() {
	eng, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}}})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(zishang520.NewAdapterBuilder(eng))
	io := socket.NewServer(nil, opts)

	_ = io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.Join("lobby")
		_ = s.On("chat", func(args ...any) {
			_ = io.To("lobby").Emit("chat", args...) // every server's lobby
		})
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:3000", io.ServeHandler(nil)))
}
