// Package nodepeer runs real Node.js Socket.IO server nodes for interop tests.
//
// Each [Peer] is one `node testdata/peer.js` child process: a socket.io 4.8
// server joined to a Redis Pub/Sub cluster with the classic
// @socket.io/redis-adapter 8.3 (createAdapter, node-redis v4 clients), plus
// any number of socket.io-client clients connected to it and an optional
// @socket.io/redis-emitter 5.1. The test drives it with JSON-line commands
// (see README.md in this directory) through [Peer.Call] or the typed wrappers.
//
// Typical use:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		srv := redistest.Standalone(t)
//		a := nodepeer.Start(t, nodepeer.Options{RedisURL: srv.URL(), Name: "A"})
//		a.Connect("c1", "/", nil)
//		a.Join("c1", "/", "room1")
//		a.Emit(nodepeer.Target{Rooms: []any{"room1"}}, "hello", "world")
//		evs := a.WaitReceived("c1", 1, 5*time.Second)
//		...
//	}
//
// The Node dependencies live in testdata/node_modules, installed by
// `make node-peers` (npm ci). A missing node binary or missing node_modules
// fails the test with a message saying so; it is never a silent skip.
//
// Value conventions in both directions (arguments, socket data, acks, received
// events): binary is {"$bin":"<hex>"} on the wire ([Bin] on the Go side;
// plain []byte arguments are converted by [ToWire]), dates arrive as ISO
// strings and can be sent as [Date], BigInt is [BigInt], and [Undefined]
// sends a JavaScript undefined. Everything else is plain JSON, decoded with
// encoding/json (numbers become float64). See [FromWire].
//
// The typed wrappers (Connect, Emit, WaitReceived, ...) fail the test with
// tb.Fatalf on error, so they must be called from the test goroutine; use
// [Peer.Call] from other goroutines or when an error is the expected outcome.
package nodepeer

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/childproc"
)

// DefaultCallTimeout is how long [Peer.Call] waits for an answer unless
// [Options.CallTimeout] says otherwise. Commands that carry their own
// timeout (timeoutMs, timeout) get that timeout plus 5 s if it is longer.
const DefaultCallTimeout = 15 * time.Second

// DefaultStartTimeout is how long [Start] waits for the peer's ready line.
const DefaultStartTimeout = 30 * time.Second

// closeGrace is how long Close lets the peer shut down before killing it.
const closeGrace = 5 * time.Second

// Options configures one Node peer.
type Options struct {
	// RedisURL is the Redis server, e.g. redistest.Standalone(t).URL(). Required.
	RedisURL string
	// Key is the adapter/emitter channel prefix; empty means "socket.io".
	Key string
	// Name names the node in logs and in the default server-side ack reply
	// ("pong-from-"+Name). Empty means "node-<pid>".
	Name string
	// RequestsTimeout is the adapter's requestsTimeout; zero keeps the
	// adapter default (5 s).
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel is the adapter option of the same name.
	PublishOnSpecificResponseChannel bool
	// Sharded, when not empty, makes the node use createShardedAdapter
	// (Redis ≥ 7) with this subscriptionMode: "static", "dynamic" or
	// "dynamic-private"; Key is then its channelPrefix. Empty (the
	// default) keeps the classic createAdapter.
	Sharded string
	// Cluster connects with node-redis createCluster: RedisURL may then
	// list several comma-separated URLs of the cluster's nodes.
	Cluster bool
	// CallTimeout overrides DefaultCallTimeout for this peer.
	CallTimeout time.Duration
	// StartTimeout overrides DefaultStartTimeout.
	StartTimeout time.Duration
	// Env adds environment variables (KEY=VALUE) to the node process, for
	// example DEBUG=socket.io:* (its output lands in the captured stderr).
	Env []string
	// Fixture selects the Node generation: empty is testdata (socket.io
	// 4.8 + @socket.io/redis-adapter 8.3, peer.js); FixtureRedis40,
	// FixtureRedis5 and FixtureRedis6 run testdata-legacy/peer.js in the
	// folder of that generation (see README.md).
	Fixture string
	// Verbose mirrors the peer's stderr to the test binary's stderr as it
	// arrives. Also enabled by the environment variable NODEPEER_VERBOSE=1.
	Verbose bool
}

// The legacy fixtures: folders beside testdata, each with its own
// package-lock.json, driven by testdata-legacy/peer.js.
const (
	// FixtureRedis40 is socket.io-redis 4.0.0 + socket.io 1.7.4 + socket.io-client 1.7.4.
	FixtureRedis40 = "testdata-redis40"
	// FixtureRedis5 is socket.io-redis 5.4.0 + socket.io 2.4.1 + socket.io-client 2.4.0.
	FixtureRedis5 = "testdata-redis5"
	// FixtureRedis6 is socket.io-redis 6.1.1 + socket.io 4.0.2 + socket.io-client 4.0.2.
	FixtureRedis6 = "testdata-redis6"
)

// Peer is one running Node Socket.IO server process.
type Peer struct {
	// Name is the node name given to peer.js.
	Name string
	// Port is the TCP port of the node's HTTP/Socket.IO server on 127.0.0.1.
	Port int
	// UID is the redis-adapter uid of the node's "/" namespace.
	UID string

	tb          testing.TB
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	stderr      *syncBuffer
	callTimeout time.Duration

	writeMu sync.Mutex

	mu            sync.Mutex
	nextID        int64
	pending       map[int64]chan response
	notifications []Notification

	ready     chan readyLine
	done      chan struct{} // closed after the process has exited
	exitErr   error         // valid after done is closed
	closeOnce sync.Once
}

// Notification is an asynchronous {"event":...} line from the peer other
// than "ready": "disconnect" (a client was disconnected) or "error" (an
// uncaught exception, unhandled rejection or Redis client error).
type Notification struct {
	// Event is the notification name.
	Event string
	// Raw is the whole JSON line.
	Raw json.RawMessage
}

// String returns the notification's JSON line.
func (n Notification) String() string { return string(n.Raw) }

// CallError is the error returned by [Peer.Call] when the peer answered
// {"ok":false,"error":...}.
type CallError struct {
	// Cmd is the command that failed.
	Cmd string
	// Msg is the peer's error message.
	Msg string
}

// Error implements error.
func (e *CallError) Error() string { return fmt.Sprintf("nodepeer: %s: %s", e.Cmd, e.Msg) }

type response struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
}

type readyLine struct {
	Port int    `json:"port"`
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Start launches a Node peer and waits until it is ready (its "/" namespace
// subscribed to Redis). It fails the test if node or the node_modules of the
// fixture are missing, or if the peer does not start. The peer is closed by
// tb.Cleanup; its stderr is logged there if the test failed.
func Start(tb testing.TB, opts Options) *Peer {
	tb.Helper()
	if opts.RedisURL == "" {
		tb.Fatalf("nodepeer: Options.RedisURL is required")
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("nodepeer: node not found in PATH: install Node.js (>= 18), then run make node-peers")
	}
	dir, err := FixtureDir()
	if err != nil {
		tb.Fatalf("nodepeer: %v", err)
	}
	script := "peer.js"
	var pkgs []string // checkNodeModules's default: the modern fixture's
	if opts.Fixture != "" {
		dir = filepath.Join(filepath.Dir(dir), opts.Fixture)
		script = filepath.Join("..", "testdata-legacy", "peer.js")
		pkgs = []string{"socket.io", "socket.io-client", "socket.io-redis"}
	}
	if err := checkNodeModules(dir, pkgs...); err != nil {
		tb.Fatalf("nodepeer: %v: run make node-peers (npm ci in %s)", err, dir)
	}

	args := []string{script, "--redis", opts.RedisURL}
	if opts.Key != "" {
		args = append(args, "--key", opts.Key)
	}
	if opts.Name != "" {
		args = append(args, "--name", opts.Name)
	}
	if opts.RequestsTimeout > 0 {
		args = append(args, "--requests-timeout", strconv.FormatInt(opts.RequestsTimeout.Milliseconds(), 10))
	}
	if opts.PublishOnSpecificResponseChannel {
		args = append(args, "--specific-response-channel")
	}
	if opts.Sharded != "" {
		args = append(args, "--sharded", opts.Sharded)
	}
	if opts.Cluster {
		args = append(args, "--cluster")
	}
	cmd := exec.Command(nodeBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), opts.Env...)
	childproc.DieWithParent(cmd)

	p := &Peer{
		tb:          tb,
		cmd:         cmd,
		stderr:      &syncBuffer{},
		callTimeout: opts.CallTimeout,
		pending:     make(map[int64]chan response),
		ready:       make(chan readyLine, 1),
		done:        make(chan struct{}),
	}
	if p.callTimeout <= 0 {
		p.callTimeout = DefaultCallTimeout
	}
	if opts.Verbose || os.Getenv("NODEPEER_VERBOSE") == "1" {
		p.stderr.mirror = os.Stderr
	}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatalf("nodepeer: stdin pipe: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatalf("nodepeer: stdout pipe: %v", err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		tb.Fatalf("nodepeer: start node: %v", err)
	}
	go p.readLoop(stdout)

	tb.Cleanup(func() {
		p.Close()
		if tb.Failed() {
			tb.Logf("nodepeer %s (port %d) stderr:\n%s", p.Name, p.Port, p.Stderr())
		}
	})

	startTimeout := opts.StartTimeout
	if startTimeout <= 0 {
		startTimeout = DefaultStartTimeout
	}
	select {
	case r := <-p.ready:
		p.Name, p.Port, p.UID = r.Name, r.Port, r.UID
	case <-p.done:
		tb.Fatalf("nodepeer: peer exited before it was ready (%v); stderr:\n%s", p.exitErr, p.Stderr())
	case <-time.After(startTimeout):
		p.kill()
		tb.Fatalf("nodepeer: peer not ready after %s; stderr:\n%s", startTimeout, p.Stderr())
	}
	return p
}

// FixtureDir returns the directory holding peer.js and its node_modules:
// testdata next to this source file, or else internal/nodepeer/testdata
// under the module root found by walking up from the working directory.
func FixtureDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		d := filepath.Join(filepath.Dir(file), "testdata")
		if fileExists(filepath.Join(d, "peer.js")) {
			return d, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot locate the fixture: %w", err)
	}
	for dir := wd; ; {
		if fileExists(filepath.Join(dir, "go.mod")) {
			d := filepath.Join(dir, "internal", "nodepeer", "testdata")
			if fileExists(filepath.Join(d, "peer.js")) {
				return d, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("cannot locate internal/nodepeer/testdata/peer.js from %s", wd)
}

// checkNodeModules reports the first of pkgs (default: the packages of
// testdata) missing from dir/node_modules.
func checkNodeModules(dir string, pkgs ...string) error {
	if len(pkgs) == 0 {
		pkgs = []string{"socket.io", "socket.io-client", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "redis"}
	}
	for _, pkg := range pkgs {
		if !fileExists(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")) {
			return fmt.Errorf("Node package %s missing from %s", pkg, filepath.Join(dir, "node_modules"))
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (p *Peer) readLoop(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 256<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var head struct {
			ID    *int64 `json:"id"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			fmt.Fprintf(p.stderr, "[nodepeer] unparsable stdout line: %s\n", line)
			continue
		}
		switch {
		case head.ID != nil:
			var r response
			if err := json.Unmarshal(line, &r); err != nil {
				r = response{Error: "unparsable response: " + err.Error()}
			}
			p.mu.Lock()
			ch := p.pending[*head.ID]
			delete(p.pending, *head.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- r
			}
		case head.Event == "ready":
			var r readyLine
			_ = json.Unmarshal(line, &r)
			select {
			case p.ready <- r:
			default:
			}
		case head.Event != "":
			p.mu.Lock()
			p.notifications = append(p.notifications, Notification{Event: head.Event, Raw: append(json.RawMessage(nil), line...)})
			p.mu.Unlock()
		default:
			fmt.Fprintf(p.stderr, "[nodepeer] unexpected stdout line: %s\n", line)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(p.stderr, "[nodepeer] reading stdout: %v\n", err)
		_, _ = io.Copy(io.Discard, stdout)
	}
	p.exitErr = p.cmd.Wait()
	close(p.done)
}

// Call sends one command and waits for its answer, at most the peer's call
// timeout (DefaultCallTimeout unless configured); when args carry a longer
// "timeoutMs" or "timeout" (milliseconds), the wait is that plus 5 s. Values
// in args go through [ToWire]. It returns the raw result, a *CallError when
// the peer answered with an error, or another error on timeout or when the
// process has exited. Safe for concurrent use; the peer runs commands
// concurrently, in arrival order of their start.
func (p *Peer) Call(cmd string, args map[string]any) (json.RawMessage, error) {
	timeout := p.callTimeout
	for _, k := range []string{"timeoutMs", "timeout"} {
		if ms, ok := toMillis(args[k]); ok {
			if d := time.Duration(ms)*time.Millisecond + 5*time.Second; d > timeout {
				timeout = d
			}
		}
	}
	return p.CallTimeout(timeout, cmd, args)
}

// CallTimeout is [Peer.Call] with an explicit wait limit.
func (p *Peer) CallTimeout(timeout time.Duration, cmd string, args map[string]any) (json.RawMessage, error) {
	msg := make(map[string]any, len(args)+2)
	for k, v := range args {
		msg[k] = ToWire(v)
	}
	if _, ok := args["id"]; ok {
		return nil, errors.New("nodepeer: argument name \"id\" is reserved")
	}
	if _, ok := args["cmd"]; ok {
		return nil, errors.New("nodepeer: argument name \"cmd\" is reserved")
	}
	ch := make(chan response, 1)
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.pending[id] = ch
	p.mu.Unlock()
	msg["id"] = id
	msg["cmd"] = cmd
	line, err := json.Marshal(msg)
	if err != nil {
		p.forget(id)
		return nil, fmt.Errorf("nodepeer: %s: encode arguments: %w", cmd, err)
	}
	line = append(line, '\n')

	select {
	case <-p.done:
		p.forget(id)
		return nil, p.exitedError(cmd)
	default:
	}
	p.writeMu.Lock()
	_, err = p.stdin.Write(line)
	p.writeMu.Unlock()
	if err != nil {
		p.forget(id)
		return nil, fmt.Errorf("nodepeer: %s: write to peer: %w", cmd, err)
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if !r.OK {
			return nil, &CallError{Cmd: cmd, Msg: r.Error}
		}
		return r.Result, nil
	case <-p.done:
		p.forget(id)
		// The answer may have been read just before the process ended.
		select {
		case r := <-ch:
			if !r.OK {
				return nil, &CallError{Cmd: cmd, Msg: r.Error}
			}
			return r.Result, nil
		default:
		}
		return nil, p.exitedError(cmd)
	case <-timer.C:
		p.forget(id)
		return nil, fmt.Errorf("nodepeer: %s: no answer from peer %s within %s", cmd, p.Name, timeout)
	}
}

func (p *Peer) forget(id int64) {
	p.mu.Lock()
	delete(p.pending, id)
	p.mu.Unlock()
}

func (p *Peer) exitedError(cmd string) error {
	return fmt.Errorf("nodepeer: %s: peer %s has exited (%v); stderr tail:\n%s", cmd, p.Name, p.exitErr, tail(p.Stderr(), 20))
}

func toMillis(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return int64(x), true
	case time.Duration:
		return x.Milliseconds(), true
	}
	return 0, false
}

// Close shuts the peer down: it closes the peer's stdin (peer.js then
// disconnects its clients, closes the Socket.IO server and quits its Redis
// clients) and kills the process if it has not exited within a few seconds.
// Safe to call more than once; registered with tb.Cleanup by [Start].
func (p *Peer) Close() {
	p.closeOnce.Do(func() {
		p.writeMu.Lock()
		_ = p.stdin.Close()
		p.writeMu.Unlock()
		select {
		case <-p.done:
		case <-time.After(closeGrace):
			fmt.Fprintf(p.stderr, "[nodepeer] peer did not exit within %s, killing it\n", closeGrace)
			p.kill()
		}
	})
}

func (p *Peer) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// Done is closed once the peer process has exited.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Stderr returns everything the peer has written to stderr so far.
func (p *Peer) Stderr() string { return p.stderr.String() }

// Notifications returns the asynchronous notifications received so far.
func (p *Peer) Notifications() []Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Notification(nil), p.notifications...)
}

// URL returns the base URL of the peer's Socket.IO server.
func (p *Peer) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.Port) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a goroutine-safe bytes.Buffer, optionally mirrored.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	mirror io.Writer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mirror != nil {
		_, _ = b.mirror.Write(p)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ---------------------------------------------------------------- values

// Bin is binary data. It is sent as {"$bin":"<hex>"}, which peer.js turns
// into a Node Buffer; binary received by the peer comes back as
// {"$bin":...} and [FromWire] turns it into []byte.
type Bin []byte

// MarshalJSON implements json.Marshaler.
func (b Bin) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"$bin": hex.EncodeToString(b)})
}

// Date is sent as {"$date":"<RFC 3339>"}, which peer.js turns into a JS Date.
// Dates received by the peer come back as ISO strings.
type Date time.Time

// MarshalJSON implements json.Marshaler.
func (d Date) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"$date": time.Time(d).UTC().Format("2006-01-02T15:04:05.000Z07:00")})
}

// BigInt is a decimal integer sent as {"$bigint":"…"} (a JS BigInt); values
// of type bigint received by the peer come back that way too.
type BigInt string

// MarshalJSON implements json.Marshaler.
func (b BigInt) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"$bigint": string(b)})
}

// Undefined is sent as {"$undefined":true}, which peer.js turns into a JS
// undefined (an array element, or an object property that is then present
// with the value undefined).
type Undefined struct{}

// MarshalJSON implements json.Marshaler.
func (Undefined) MarshalJSON() ([]byte, error) { return []byte(`{"$undefined":true}`), nil }

// ToWire prepares a Go value for a command: []byte becomes [Bin], and
// []any, map[string]any and []map[string]any are converted element by
// element. Other values are left to encoding/json (use [Bin] inside structs).
func ToWire(v any) any {
	switch x := v.(type) {
	case []byte:
		return Bin(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToWire(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = ToWire(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToWire(e)
		}
		return out
	}
	return v
}

// FromWire converts a value decoded by encoding/json from the peer's
// conventions: {"$bin":hex} becomes []byte and {"$bigint":"n"} becomes
// [BigInt], recursively. Other values are returned unchanged.
func FromWire(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = FromWire(e)
		}
		return x
	case map[string]any:
		if len(x) == 1 {
			if h, ok := x["$bin"].(string); ok {
				if b, err := hex.DecodeString(h); err == nil {
					return b
				}
			}
			if s, ok := x["$bigint"].(string); ok {
				return BigInt(s)
			}
		}
		for k, e := range x {
			x[k] = FromWire(e)
		}
		return x
	}
	return v
}

// DecodeValue unmarshals raw JSON from the peer and applies [FromWire].
func DecodeValue(raw json.RawMessage) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return FromWire(v), nil
}
