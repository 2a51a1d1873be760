package zishang520

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sioredis/sioredis/engine"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// AdapterBuilder is the socket.AdapterConstructor of a zishang520 server
// whose namespaces are served by one sioredis Engine. Give each server its
// own builder (and Engine): the engine holds one namespace per name.
//
// Set its fields before passing it to ServerOptions.SetAdapter; they are
// read when a namespace is created.
type AdapterBuilder struct {
	// Engine serves the namespaces. Required.
	Engine *engine.Engine

	// Logger receives every error the adapter cannot return (socket.Adapter
	// has no error path). Nil: slog.Default().
	Logger *slog.Logger

	// OnError, when set, is called with each of those errors too (wrapped
	// with the namespace and the operation; test them with errors.Is /
	// errors.As: engine.ErrClosed, *engine.IncompleteError…). It may be
	// called from any goroutine and must not block.
	OnError func(err error)

	// SetupTimeout bounds the creation of a namespace (Redis confirming its
	// subscriptions). Zero: 10 s.
	SetupTimeout time.Duration

	mu       sync.Mutex
	adapters map[string]*Adapter
}

// NewAdapterBuilder returns the builder to pass to
// socket.ServerOptions.SetAdapter: every namespace of the server becomes a
// namespace of eng.
func NewAdapterBuilder(eng *engine.Engine) *AdapterBuilder {
	return &AdapterBuilder{Engine: eng}
}

var _ socket.AdapterConstructor = (*AdapterBuilder)(nil)

// New implements socket.AdapterConstructor: it returns the adapter of nsp.
// When the server replaces its adapters (Server.SetAdapter), the previous
// adapter of the same namespace is closed first, so that the engine
// namespace is created anew with the new adapter as its host.
func (b *AdapterBuilder) New(nsp socket.Namespace) socket.Adapter {
	a := newAdapter(b)
	a.Prototype(a)
	a.Construct(nsp)
	return a
}

// register records a as the adapter of its namespace and returns the one it
// replaces.
func (b *AdapterBuilder) register(name string, a *Adapter) (old *Adapter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.adapters == nil {
		b.adapters = make(map[string]*Adapter)
	}
	old = b.adapters[name]
	b.adapters[name] = a
	return old
}

func (b *AdapterBuilder) unregister(name string, a *Adapter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.adapters[name] == a {
		delete(b.adapters, name)
	}
}

func (b *AdapterBuilder) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

func (b *AdapterBuilder) setupTimeout() time.Duration {
	if b.SetupTimeout > 0 {
		return b.SetupTimeout
	}
	return 10 * time.Second
}

// report logs err and hands it to OnError.
func (b *AdapterBuilder) report(nsp, op string, err error) {
	err = fmt.Errorf("sioredis/zishang520 %s: %s: %w", nsp, op, err)
	b.logger().Error(err.Error())
	if b.OnError != nil {
		b.OnError(err)
	}
}
