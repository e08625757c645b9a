//go:build !unix

package pglocal

import (
	"os"
	"syscall"
)

// credential is the user and group the server binaries run as. Outside Unix
// the process never runs them as another user, so it is always nil.
type credential struct{ Uid, Gid uint32 }

// owner reports no owner: outside Unix, reachable has nothing to check.
func owner(os.FileInfo) (uid, gid uint32, ok bool) { return 0, 0, false }

// sysProcAttr runs a server binary as this process, with the default
// attributes.
func sysProcAttr(*credential) *syscall.SysProcAttr { return nil }
