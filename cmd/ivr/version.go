package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/ivrhq/ivr/db"
)

// runVersion prints the version of the binary and the schema version it
// needs (its newest embedded migration).
func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "", "Print the version of the binary and the schema version it needs.")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	schema, file := db.LatestVersion()
	fmt.Fprintf(e.stdout, "ivr %s\n", binaryVersion())
	fmt.Fprintf(e.stdout, "schema %d (%s)\n", schema, file)
	return nil
}

// binaryVersion describes the build: the module version (or "devel"), the
// VCS revision when the build recorded one, and the Go version.
func binaryVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev + modified
	}
	return v + " " + bi.GoVersion
}
