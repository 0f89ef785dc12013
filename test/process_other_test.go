//go:build !linux

package e2e

import "syscall"

// childAttr: no parent-death signal outside Linux; the tests' cleanups stop the subprocesses.
func childAttr() *syscall.SysProcAttr { return nil }
