package engine

import (
	"context"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// BenchmarkEmit_Parallel broadcasts from many goroutines at once and reports
// how many Redis round trips each broadcast cost (the publisher coalesces
// concurrent publishes into pipelined batches): far below 1.
func BenchmarkEmit_Parallel(b *testing.B) {
	srv := redistest.Standalone(b)
	a := newNode(b, srv.Addr, Options{})
	payload := string(make([]byte, 100))
	before := a.e.Stats()
	b.ReportAllocs()
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := a.ns.To("room").Emit(context.Background(), "ev", payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	// Wait until everything was sent, then count round trips.
	eventually(b, "every broadcast published", func() bool {
		return a.e.Stats().Published-before.Published >= uint64(b.N)
	})
	after := a.e.Stats()
	b.ReportMetric(float64(after.PublishBatches-before.PublishBatches)/float64(b.N), "roundtrips/op")
}
