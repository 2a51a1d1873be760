// Command chat runs one chat server (package chat): a zishang520 Socket.IO
// server on the sioredis adapter, serving the chat page at its address.
//
//	go run ./cmd/chat -addr 127.0.0.1:3000 -redis 127.0.0.1:6379
//
// Start it again on another port against the same Redis (or start the Node
// server, internal/nodepeer/testdata/chat.js) and the pages of both talk to
// each other.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/sioredis/sioredis/integrations/chat"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "HTTP address to listen on")
	redis := flag.String("redis", "127.0.0.1:6379", "Redis address (host:port)")
	name := flag.String("name", "", "server name shown in the pages (default: go-<port>)")
	flag.Parse()
	if err := run(*addr, *redis, *name); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(addr, redis, name string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if name == "" {
		name = "go-" + portOf(ln.Addr())
	}
	srv, err := chat.New(chat.Options{Redis: redis, Name: name})
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer srv.Close()
	hs := &http.Server{Handler: srv}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	slog.Info("chat server listening", "name", name, "url", "http://"+ln.Addr().String(), "redis", redis)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-sig:
	}
	_ = hs.Close()
	return nil
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
