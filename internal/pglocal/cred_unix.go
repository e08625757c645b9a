//go:build unix

package pglocal

import (
	"os"
	"syscall"
)

// credential is the user and group the server binaries run as.
type credential = syscall.Credential

// owner returns the user and group that own the file fi describes.
func owner(fi os.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, st.Gid, true
}
