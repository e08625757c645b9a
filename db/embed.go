// Package db holds the database schema as goose SQL migrations, embedded into the
// binary so that `ivr migrate` and the test harness apply exactly the files in
// db/migrations.
package db

import (
	"embed"
	"io/fs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations is the directory of goose SQL migrations (00001_callers.sql ...),
// rooted so that the files sit at its top level, as goose.NewProvider wants them.
var Migrations fs.FS = mustSub(migrations, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // only on a malformed constant path
	}
	return sub
}
