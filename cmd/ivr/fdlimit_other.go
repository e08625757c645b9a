//go:build !unix

package main

import "math"

// raiseFileLimit returns math.MaxUint64: outside Unix there is no limit of
// open files per process to raise or to check -max-calls against.
func raiseFileLimit() (uint64, error) { return math.MaxUint64, nil }
