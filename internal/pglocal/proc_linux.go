package pglocal

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as this process) in its own
// process group, and has the kernel send it SIGTERM if this process dies, so a
// crashed test binary leaves no server behind.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
