//go:build !linux

package proctest

import "syscall"

// childAttr: no parent-death signal outside Linux; the tests' cleanups stop the children.
func childAttr() *syscall.SysProcAttr { return nil }
