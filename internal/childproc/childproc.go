// Package childproc holds what every process the project starts needs:
// tests, the bench harness and the example commands start redis-server,
// Node peers and copies of themselves, and none of them may outlive the
// process that started it.
package childproc

import "os/exec"

// DieWithParent makes cmd (not yet started) get SIGKILL when the process
// that starts it dies, so that a crashed test or harness leaves no
// redis-server or node process behind. On Linux it sets Pdeathsig; other
// systems have no such thing and it does nothing there. It replaces any
// SysProcAttr cmd had.
func DieWithParent(cmd *exec.Cmd) { dieWithParent(cmd) }
