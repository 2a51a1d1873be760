package redistest

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn is a hand-driven client connection for the tests.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func newReader(conn net.Conn) *bufio.Reader { return bufio.NewReader(conn) }

// do sends one command and reads one reply, with a deadline.
func (c *rawConn) do(args ...string) (any, error) {
	_ = c.conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.conn.Write(encodeCommand(args)); err != nil {
		return nil, err
	}
	return readValue(c.r)
}

func (c *rawConn) must(args ...string) any {
	c.t.Helper()
	v, err := c.do(args...)
	if err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return v
}

func findClient(t *testing.T, s *Server, name string) (ClientInfo, bool) {
	t.Helper()
	clients, err := s.ClientList()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if c.Name == name {
			return c, true
		}
	}
	return ClientInfo{}, false
}

func TestClientListAndKillClient(t *testing.T) {
	s := NewStandalone(t)
	c := dialRaw(t, s.Addr)
	c.must("CLIENT", "SETNAME", "watched")
	c.must("SUBSCRIBE", "ch1")
	_ = c.must("PSUBSCRIBE", "p*")

	ci, ok := findClient(t, s, "watched")
	if !ok {
		t.Fatal("named client not in CLIENT LIST")
	}
	if ci.ID <= 0 || ci.Sub != 1 || ci.Psub != 1 || ci.Cmd != "psubscribe" || !strings.Contains(ci.Flags, "P") {
		t.Fatalf("client = %+v", ci)
	}
	if ci.Addr != c.conn.LocalAddr().String() {
		t.Fatalf("addr = %q, want %q", ci.Addr, c.conn.LocalAddr())
	}
	if _, ok := ci.Fields["ssub"]; !ok {
		t.Fatalf("redis 7 reports ssub; fields %v", ci.Fields)
	}
	if _, err := strconv.Atoi(ci.Fields["omem"]); err != nil {
		t.Fatalf("omem = %q", ci.Fields["omem"])
	}

	if err := s.KillClient(ci.ID); err != nil {
		t.Fatal(err)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.r.ReadByte(); err == nil {
		t.Fatal("killed connection still open")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("killed connection not closed by the server")
	}
	if _, ok := findClient(t, s, "watched"); ok {
		t.Fatal("killed client still listed")
	}
	if err := s.KillClient(ci.ID); err == nil {
		t.Fatal("killing a gone client is not an error")
	}
}

func TestParseClientLine(t *testing.T) {
	c, err := parseClientLine("id=7 addr=127.0.0.1:5 laddr=127.0.0.1:6 fd=8 name= age=0 idle=0 flags=N db=0 sub=2 psub=0 multi=-1 cmd=ping user=default")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != 7 || c.Addr != "127.0.0.1:5" || c.Name != "" || c.Sub != 2 || c.Ssub != 0 || c.Cmd != "ping" || c.Fields["user"] != "default" {
		t.Fatalf("%+v", c)
	}
	if _, err := parseClientLine("id=x addr=1"); err == nil {
		t.Fatal("bad id accepted")
	}
}

func TestInfo(t *testing.T) {
	s := NewStandalone(t)
	before, err := s.Info("stats")
	if err != nil {
		t.Fatal(err)
	}
	n0, err := strconv.ParseInt(before["total_net_output_bytes"], 10, 64)
	if err != nil {
		t.Fatalf("total_net_output_bytes = %q", before["total_net_output_bytes"])
	}
	if _, err := s.Command("SET", "big", strings.Repeat("x", 10000)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Command("GET", "big"); err != nil {
		t.Fatal(err)
	}
	after, err := s.Info("stats")
	if err != nil {
		t.Fatal(err)
	}
	if n1, _ := strconv.ParseInt(after["total_net_output_bytes"], 10, 64); n1 < n0+10000 {
		t.Fatalf("total_net_output_bytes %d -> %d after a 10 kB GET", n0, n1)
	}
	all, err := s.Info("")
	if err != nil || all["redis_version"] == "" || all["role"] != "master" {
		t.Fatalf("INFO: version %q role %q, %v", all["redis_version"], all["role"], err)
	}
	if _, err := s.Info("keyspace"); err != nil {
		t.Fatal(err)
	}
}

func TestSetUser(t *testing.T) {
	s := NewStandalone(t)
	if err := s.SetUser("alice", "on", ">secret", "~app:*", "+get", "+set"); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.Addr)
	if _, err := c.do("AUTH", "alice", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	c.must("AUTH", "alice", "secret")
	c.must("SET", "app:k", "v")
	if _, err := c.do("SET", "other:k", "v"); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("key outside the pattern: %v", err)
	}
	if _, err := c.do("DEL", "app:k"); err == nil {
		t.Fatal("command outside the rules allowed")
	}
	if got, err := s.Command("GET", "other:k"); err != nil || got != "" {
		t.Fatalf("default user after SetUser: %q, %v", got, err)
	}
	if err := s.SetUser("bob", "nosuchrule"); err == nil {
		t.Fatal("bad rule accepted")
	}
}
