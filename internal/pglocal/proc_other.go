//go:build unix && !linux

package pglocal

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as this process) in its own
// process group.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
