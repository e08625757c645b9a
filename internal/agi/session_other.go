//go:build !unix

package agi

// useSocket leaves the session without a socket: on systems other than
// Unix, commands are written with conn.Write, replies read with conn.Read
// and the call half-closed with CloseWrite, as on any net.Conn.
func (s *Session) useSocket() {}
