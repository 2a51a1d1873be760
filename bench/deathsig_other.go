//go:build !linux

package main

import "os/exec"

// setDeathSignal does nothing outside Linux (no Pdeathsig).
func setDeathSignal(*exec.Cmd) {}
