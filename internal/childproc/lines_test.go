package childproc

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLines drives a shell child that answers "ready", echoes each command
// as {"type":"echo","text":…}, prints a non-JSON line and answers "boom"
// with an error; then checks a wrong type, a timeout and the exit.
func TestLines(t *testing.T) {
	script := `echo '{"type":"ready"}'; read first; echo "not json"
while read cmd; do
  if [ "$cmd" = boom ]; then echo '{"type":"error","error":"it broke"}'; else echo "{\"type\":\"echo\",\"text\":\"$cmd\"}"; fi
done`
	l, err := StartLines("sh", exec.Command("sh", "-c", script), map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(5 * time.Second)
	if err := l.Next("ready", 10*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	var got struct{ Text string }
	if err := l.Do("hello", "echo", 10*time.Second, &got); err != nil || got.Text != "hello" {
		t.Fatalf("Do(hello) = %+v, %v", got, err)
	}
	if err := l.Do("boom", "echo", 10*time.Second, nil); err == nil || !strings.Contains(err.Error(), "it broke") {
		t.Fatalf("Do(boom) = %v, want the child's error", err)
	}
	if err := l.Do("x", "other", 10*time.Second, nil); err == nil || !strings.Contains(err.Error(), `got "echo", want "other"`) {
		t.Fatalf("wrong type: %v", err)
	}
	if err := l.Next("echo", 50*time.Millisecond, nil); err == nil || !strings.Contains(err.Error(), "no \"echo\" after") {
		t.Fatalf("timeout: %v", err)
	}
	l.Close(5 * time.Second)
	if err := l.Next("echo", time.Second, nil); err == nil || !strings.Contains(err.Error(), "exited before") {
		t.Fatalf("after exit: %v", err)
	}
}
