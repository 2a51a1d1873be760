package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"
	"github.com/sioredis/sioredis/engine"
	"github.com/sioredis/sioredis/internal/redistest"
)

// wsHost is a minimal Host: a real server would write Frame.Text (and the
// binary attachments) to each socket's websocket connection.
type wsHost struct {
	mu   sync.Mutex
	outs map[string][]string // socket id → text frames "written"
}

func (h *wsHost) Deliver(sid string, p *engine.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.outs[sid] = append(h.outs[sid], string(p.Frame.Text)) // conn.WriteMessage(websocket.TextMessage, p.Frame.Text)
}

func (h *wsHost) Disconnect(sid string, close bool) {} // conn.Close()

func (h *wsHost) Describe(sid string) (engine.SocketInfo, bool) {
	return engine.SocketInfo{ID: sid, Handshake: map[string]any{"auth": map[string]any{}}, Data: map[string]any{}}, true
}

func (h *wsHost) ServerSideEmit(ev *engine.ServerEvent) {}

func (h *wsHost) frames(sid string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.outs[sid]
}

// Example shows a minimal host embedding the engine: two servers on one
// Redis, a socket on the second in room "news", a broadcast from the first.
func Example() {
	srv, err := redistest.StartStandalone() // your Redis here; this starts a throwaway one
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Stop()
	ctx := context.Background()

	newServer := func() (*engine.Engine, *engine.Namespace, *wsHost) {
		e, err := engine.New(engine.Options{ClientOption: rueidis.ClientOption{InitAddress: []string{srv.Addr}}})
		if err != nil {
			panic(err)
		}
		host := &wsHost{outs: map[string][]string{}}
		ns, err := e.Namespace(ctx, "/", host)
		if err != nil {
			panic(err)
		}
		return e, ns, host
	}
	e1, ns1, _ := newServer()
	defer e1.Close()
	e2, ns2, host2 := newServer()
	defer e2.Close()

	sid := engine.NewSocketID() // on connection
	_ = ns2.AddSocket(sid)
	_ = ns2.Join(sid, engine.StringRoom("news"))

	_ = ns1.To(engine.StringRoom("news")).Emit(ctx, "headline", "sioredis ships", 1)

	for deadline := time.Now().Add(5 * time.Second); len(host2.frames(sid)) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	fmt.Println(strings.Join(host2.frames(sid), "\n"))
	// Output: 42["headline","sioredis ships",1]
}
