//go:build !unix

package agi

import "time"

// raiseFileLimit does nothing: outside Unix there is no open-files limit to
// raise.
func raiseFileLimit() {}

// rusage reports no CPU time: getrusage is a Unix call.
func rusage() (user, sys time.Duration) { return 0, 0 }
