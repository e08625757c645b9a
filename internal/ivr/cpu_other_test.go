//go:build !unix

package ivr_test

import "time"

// processCPU reports no CPU time: getrusage is a Unix call.
func processCPU() time.Duration { return 0 }
