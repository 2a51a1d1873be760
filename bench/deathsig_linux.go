package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes cmd get SIGKILL when the harness dies, so that a
// crashed run leaves no redis-server behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
