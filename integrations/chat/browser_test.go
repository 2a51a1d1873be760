package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/sioredis/sioredis/internal/redistest"
)

// The browser test's limits: the whole run, and one wait for the pages.
const (
	browserBudget = 50 * time.Second
	pageWait      = 10 * time.Second
	viewW, viewH  = 900, 720
)

// chromium returns the system Chromium (Debian's chromium package, which
// `make test` installs when it is missing), or $CHROMIUM_BIN. Never a
// download.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found in PATH (nor $CHROMIUM_BIN): the browser test needs the system Chromium; " +
		"`make test` installs it (apt-get install chromium)")
	return ""
}

// page is one browser tab on one chat server.
type page struct {
	t      *testing.T
	name   string // the server's name
	ctx    context.Context
	errors chan string // uncaught exceptions in the page
}

func openPage(t *testing.T, browser context.Context, name, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	p := &page{t: t, name: name, ctx: ctx, errors: make(chan string, 16)}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for e, err := range exceptions {
			if err != nil {
				return
			}
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			select {
			case p.errors <- fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1):
			default:
			}
		}
	}()
	p.run("open "+url, chromedp.EmulateViewport(viewW, viewH), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("connect")))
	return p
}

func (p *page) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("page on %s: %s: %v", p.name, what, err)
	}
}

// eval evaluates expr in the page.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("page on %s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// logText is what the page's log shows, for failure messages.
func (p *page) logText() string {
	s, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("log").innerText`))
	return s
}

// wait polls expr (a JavaScript boolean) until it is true.
func (p *page) wait(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(pageWait)
	for {
		if eval[bool](p, "!!("+expr+")") {
			return
		}
		select {
		case e := <-p.errors:
			p.t.Fatalf("page on %s: uncaught exception: %s", p.name, e)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("page on %s: %s: not within %s (%s).\nThe page's log:\n%s", p.name, what, pageWait, expr, p.logText())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// count evaluates a CSS selector count.
func (p *page) count(selector string) int {
	p.t.Helper()
	return eval[int](p, fmt.Sprintf("document.querySelectorAll(%s).length", js(selector)))
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sel builds `[data-k="v"]…` for the entries of the log.
func sel(kind string, kv ...string) string {
	s := fmt.Sprintf(`#log .entry[data-kind=%q]`, kind)
	for i := 0; i+1 < len(kv); i += 2 {
		s += fmt.Sprintf(`[data-%s=%q]`, kv[i], kv[i+1])
	}
	return s
}

func (p *page) has(what, selector string) {
	p.t.Helper()
	p.wait(what, fmt.Sprintf("document.querySelector(%s)", js(selector)))
}

// connect types the nickname and connects, as a user does.
func (p *page) connect(nick string) string {
	p.t.Helper()
	p.run("connect", chromedp.SetValue(chromedp.ID("nick"), nick), chromedp.Click(chromedp.ID("connect")))
	p.wait("connected to "+p.name, fmt.Sprintf(`document.getElementById("status").dataset.server === %s`, js(p.name)))
	return eval[string](p, `document.getElementById("me").dataset.id`)
}

func (p *page) join(room string) {
	p.t.Helper()
	p.run("join "+room, chromedp.SetValue(chromedp.ID("room"), room), chromedp.Click(chromedp.ID("join")))
	p.has("own join of "+room+" acknowledged", sel("system", "event", "you-joined", "room", room))
}

func (p *page) leave(room string) {
	p.t.Helper()
	p.run("leave "+room, chromedp.SetValue(chromedp.ID("room"), room), chromedp.Click(chromedp.ID("leave")))
	p.has("own leave of "+room+" acknowledged", sel("system", "event", "you-left", "room", room))
}

// send sends text to room and waits until the server acknowledged it as
// delivered to want other members.
func (p *page) send(room, text string, want int) {
	p.t.Helper()
	p.run("send "+text, chromedp.SetValue(chromedp.ID("msg-room"), room), chromedp.SetValue(chromedp.ID("msg-text"), text), chromedp.Click(chromedp.ID("send")))
	p.has(fmt.Sprintf("%q acknowledged as delivered to %d", text, want),
		sel("msg", "dir", "out", "text", text, "state", "delivered", "delivered", fmt.Sprint(want)))
}

// pm sends a private message to the socket id to and waits until the
// server acknowledged it as read by nick.
func (p *page) pm(to, nick, text string) {
	p.t.Helper()
	p.run("pm "+text, chromedp.SetValue(chromedp.ID("pm-to"), to), chromedp.SetValue(chromedp.ID("pm-text"), text), chromedp.Click(chromedp.ID("pm-send")))
	p.has(fmt.Sprintf("private %q acknowledged as read by %s", text, nick), sel("pm", "dir", "out", "text", text, "state", "delivered", "by", nick))
}

// screenshot captures the viewport.
func (p *page) screenshot() image.Image {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("page on %s: screenshot: %v", p.name, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		p.t.Fatalf("page on %s: screenshot: %v", p.name, err)
	}
	return img
}

// TestBrowser opens the chat page in headless Chromium on two Go servers
// and one Node server of one Redis cluster, and checks in the pages that
// joins, room messages, private messages and their acks cross between
// them: Go↔Go and Go↔Node, both ways.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	start := time.Now()
	rs := redistest.Standalone(t)
	_, urlA := startGo(t, rs.Addr, "go-1")
	_, urlB := startGo(t, rs.Addr, "go-2")
	urlN := startNode(t, rs.URL(), "node-1")

	ctx, cancel := context.WithTimeout(context.Background(), browserBudget)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.WindowSize(viewW, viewH),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}

	a := openPage(t, browser, "go-1", urlA)
	b := openPage(t, browser, "go-2", urlB)
	n := openPage(t, browser, "node-1", urlN)

	idA := a.connect("alice")
	idB := b.connect("bob")
	idN := n.connect("carol")

	// Everyone sees everyone (fetchSockets across Go and Node, presence).
	for _, p := range []*page{a, b, n} {
		for _, u := range [][2]string{{idA, "go-1"}, {idB, "go-2"}, {idN, "node-1"}} {
			p.has("user "+u[0]+" listed", fmt.Sprintf(`#users li[data-id=%q][data-server=%q]`, u[0], u[1]))
		}
	}

	// Room joins: Node → Go, then Go → Go and Go → Node.
	a.join("lobby")
	n.join("lobby")
	a.has("carol's join seen on go-1", sel("system", "event", "joined", "room", "lobby", "nick", "carol", "server", "node-1"))
	b.join("lobby")
	a.has("bob's join seen on go-1", sel("system", "event", "joined", "room", "lobby", "nick", "bob", "server", "go-2"))
	n.has("bob's join seen on node-1", sel("system", "event", "joined", "room", "lobby", "nick", "bob", "server", "go-2"))

	// Room messages from each server, acknowledged by the two others'
	// pages before the sender's server marks them delivered.
	for _, c := range []struct {
		from         *page
		nick, text   string
		others       []*page
		fromServerID string
	}{
		{a, "alice", "hello from alice on go-1", []*page{b, n}, "go-1"},
		{b, "bob", "hi from bob on go-2", []*page{a, n}, "go-2"},
		{n, "carol", "hey from carol on node-1", []*page{a, b}, "node-1"},
	} {
		c.from.send("lobby", c.text, 2)
		for _, o := range c.others {
			o.has(fmt.Sprintf("%q on %s", c.text, o.name), sel("msg", "dir", "in", "room", "lobby", "nick", c.nick, "server", c.fromServerID, "text", c.text))
		}
	}

	// Private messages: Go → Node, Node → Go, Go → Go, each acked by the
	// recipient's page through the recipient's server and Redis.
	a.pm(idN, "carol", "psst carol, alice here")
	n.has("alice's private message on node-1", sel("pm", "dir", "in", "nick", "alice", "text", "psst carol, alice here"))
	n.pm(idB, "bob", "bob, a secret from carol")
	b.has("carol's private message on go-2", sel("pm", "dir", "in", "nick", "carol", "text", "bob, a secret from carol"))
	b.pm(idA, "alice", "alice, bob whispering")
	a.has("bob's private message on go-1", sel("pm", "dir", "in", "nick", "bob", "text", "alice, bob whispering"))
	// Nobody else got them.
	for _, c := range []struct {
		p    *page
		want int
	}{{a, 1}, {b, 1}, {n, 1}} {
		if got := c.p.count(`#log .entry[data-kind="pm"][data-dir="in"]`); got != c.want {
			t.Errorf("page on %s: %d private messages received, want %d:\n%s", c.p.name, got, c.want, c.p.logText())
		}
	}

	// Leaving: bob's leave is seen on go-1 and node-1, and he no longer
	// gets the room's messages.
	b.leave("lobby")
	a.has("bob's leave seen on go-1", sel("system", "event", "left", "room", "lobby", "nick", "bob"))
	n.has("bob's leave seen on node-1", sel("system", "event", "left", "room", "lobby", "nick", "bob"))
	n.send("lobby", "bob has gone", 1)
	a.has("carol's last message on go-1", sel("msg", "dir", "in", "nick", "carol", "text", "bob has gone"))
	if got := b.count(sel("msg", "text", "bob has gone")); got != 0 {
		t.Errorf("bob got a message of a room he left:\n%s", b.logText())
	}

	// The artifact: the three pages side by side.
	shots := []image.Image{a.screenshot(), b.screenshot(), n.screenshot()}
	w, h := 0, 0
	for _, s := range shots {
		w += s.Bounds().Dx()
		h = max(h, s.Bounds().Dy())
	}
	all := image.NewRGBA(image.Rect(0, 0, w, h))
	x := 0
	for _, s := range shots {
		draw.Draw(all, image.Rect(x, 0, x+s.Bounds().Dx(), s.Bounds().Dy()), s, s.Bounds().Min, draw.Src)
		x += s.Bounds().Dx()
	}
	dir := os.Getenv("CHAT_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.ArtifactDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "chat-browser.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, all); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the three pages (go-1, go-2, node-1): %s (kept with CHAT_SCREENSHOT_DIR=dir, or go test -artifacts)", path)
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}
