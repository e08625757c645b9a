package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// Schema compares the migrations applied to a database with those embedded in
// the binary, and applies the pending ones.
type Schema struct {
	sqlDB    *sql.DB
	versions database.StoreExtender // goose's own version table, to see whether it exists
	migrator *goose.Provider
}

// NewSchema returns the Schema of the database behind sqlDB. The Schema uses
// sqlDB, and its Close closes it.
func NewSchema(sqlDB *sql.DB) (*Schema, error) {
	store, err := database.NewStore(database.DialectPostgres, goose.DefaultTablename)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	ext, ok := store.(database.StoreExtender)
	if !ok {
		return nil, fmt.Errorf("schema: goose's PostgreSQL store cannot tell whether its table exists")
	}
	p, err := NewMigrator(sqlDB)
	if err != nil {
		return nil, err
	}
	return &Schema{sqlDB: sqlDB, versions: ext, migrator: p}, nil
}

// Close closes the database/sql handle the Schema was made with.
func (s *Schema) Close() error { return s.migrator.Close() }

// Versions returns the database's newest applied migration (0 for a database
// never migrated) and the binary's newest.
func (s *Schema) Versions(ctx context.Context) (current, newest int64, err error) {
	sources := s.migrator.ListSources()
	newest = sources[len(sources)-1].Version
	exists, err := s.versions.TableExists(ctx, s.sqlDB)
	if err != nil {
		return 0, newest, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, newest, nil
	}
	current, _, err = s.migrator.GetVersions(ctx)
	if err != nil {
		return 0, newest, fmt.Errorf("read schema version: %w", err)
	}
	return current, newest, nil
}

// Prepare applies the pending migrations when migrate is set, and otherwise
// returns an error for a database whose schema is behind the binary. A schema
// ahead of the binary is logged as a warning on log.
func (s *Schema) Prepare(ctx context.Context, migrate bool, log *slog.Logger) error {
	current, newest, err := s.Versions(ctx)
	if err != nil {
		return err
	}
	switch {
	case current < newest && migrate:
		res, err := s.migrator.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		log.Info("migrated", "from", current, "to", newest, "applied", len(res))
	case current < newest:
		return fmt.Errorf("the database schema is at version %d and this ivr needs %d: run `ivr migrate up` (or serve with -migrate)", current, newest)
	case current > newest:
		log.Warn("the database schema is newer than this ivr: upgrade the binary", "schema", current, "binary", newest)
	}
	return nil
}
