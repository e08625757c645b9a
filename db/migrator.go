package db

import (
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// NewMigrator returns a goose Provider over the embedded migrations
// (Migrations) for the database behind sqlDB. It holds a PostgreSQL session
// advisory lock while it migrates, so two processes migrating the same database
// at once take turns instead of racing. The Provider uses sqlDB, and its Close
// closes sqlDB.
func NewMigrator(sqlDB *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migrator: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, Migrations, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migrator: %w", err)
	}
	return p, nil
}

// LatestVersion returns the version of the newest embedded migration: the
// schema version this binary needs.
func LatestVersion() (version int64, name string) {
	names, _ := fs.Glob(Migrations, "*.sql")
	for _, n := range names {
		if v, err := goose.NumericComponent(n); err == nil && v > version {
			version, name = v, n
		}
	}
	return version, name
}
