package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"
)

// tlsPing dials addr with cfg and sends PING; it returns the reply or the
// first error (of the handshake or of the exchange).
func tlsPing(addr string, cfg *tls.Config) (any, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := &rawConn{conn: conn, r: newReader(conn)}
	return c.do("PING")
}

func TestTLSStandalone(t *testing.T) {
	ts := NewTLSStandalone(t, TLSOptions{})
	mustPing(t, ts.Server) // the plain admin port
	if ts.TLSAddr == ts.Server.Addr || ts.TLSPort == ts.Server.Port {
		t.Fatalf("TLS %s and plain %s share a port", ts.TLSAddr, ts.Server.Addr)
	}
	for _, withCert := range []bool{false, true} {
		if v, err := tlsPing(ts.TLSAddr, ts.ClientTLS(withCert)); err != nil || v != "PONG" {
			t.Fatalf("TLS PING (client cert %v) = %v, %v", withCert, v, err)
		}
	}
	// The TLS port speaks TLS only.
	if _, err := (&Server{Addr: ts.TLSAddr}).Command("PING"); err == nil {
		t.Fatal("plain-text PING answered on the TLS port")
	}
	// Without the test CA the server certificate is not trusted.
	if _, err := tlsPing(ts.TLSAddr, &tls.Config{ServerName: "127.0.0.1", RootCAs: x509.NewCertPool()}); err == nil {
		t.Fatal("server certificate trusted without the CA")
	}
	// The name localhost is in the certificate too.
	cfg := ts.ClientTLS(false)
	cfg.ServerName = "localhost"
	if v, err := tlsPing(ts.TLSAddr, cfg); err != nil || v != "PONG" {
		t.Fatalf("TLS PING as localhost = %v, %v", v, err)
	}
	for _, f := range []string{ts.CAFile, ts.ClientCertFile, ts.ClientKeyFile} {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tls.LoadX509KeyPair(ts.ClientCertFile, ts.ClientKeyFile); err != nil {
		t.Fatalf("client key pair files: %v", err)
	}
}

func TestTLSAuthClients(t *testing.T) {
	ts := NewTLSStandalone(t, TLSOptions{AuthClients: true})
	if v, err := tlsPing(ts.TLSAddr, ts.ClientTLS(true)); err != nil || v != "PONG" {
		t.Fatalf("TLS PING with a client certificate = %v, %v", v, err)
	}
	// With TLS 1.3 the refusal may only show after the client's side of
	// the handshake: either way there is no PONG.
	v, err := tlsPing(ts.TLSAddr, ts.ClientTLS(false))
	if err == nil {
		t.Fatalf("TLS PING without a client certificate = %v; want refused", v)
	}
	t.Logf("without a client certificate: %v", err)

	// Restart keeps the TLS port and certificates.
	ts.Server.Kill()
	if _, err := ts.Server.Restart(); err != nil {
		t.Fatal(err)
	}
	if v, err := tlsPing(ts.TLSAddr, ts.ClientTLS(true)); err != nil || v != "PONG" {
		t.Fatalf("TLS PING after Restart = %v, %v", v, err)
	}
}
