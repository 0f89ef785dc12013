package proctest

import "syscall"

// childAttr makes a child process die with the test binary even when no cleanup runs (go test -timeout panic,
// SIGKILL of the test), so that no consumer outlives its test and keeps a group member alive.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
