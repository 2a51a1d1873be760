package childproc

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

func TestDieWithParent(t *testing.T) {
	cmd := exec.Command("true")
	DieWithParent(cmd)
	if runtime.GOOS != "linux" {
		return
	}
	if cmd.SysProcAttr == nil || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Fatalf("SysProcAttr = %+v, want Pdeathsig SIGKILL", cmd.SysProcAttr)
	}
}
