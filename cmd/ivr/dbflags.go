package main

import (
	"context"
	"database/sql"
	"flag"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ivrhq/ivr/internal/store"
)

// dbFlags is the database a command works on: --database-url, or
// $DATABASE_URL when the flag is not given.
type dbFlags struct {
	e   *env
	url string
}

// newDBFlags adds --database-url to fs.
func newDBFlags(fs *flag.FlagSet, e *env) *dbFlags {
	d := &dbFlags{e: e}
	fs.StringVar(&d.url, "database-url", "", "PostgreSQL connection URL, postgres://user:pass@host:5432/ivr?sslmode=... (default $DATABASE_URL)")
	return d
}

// URL returns the connection URL, or a usage error when none is given.
func (d *dbFlags) URL() (string, error) {
	if d.url != "" {
		return d.url, nil
	}
	if u := d.e.getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	return "", usageError{"no database: give --database-url or set DATABASE_URL"}
}

// operatorStatementTimeout is the longest one statement of an operator
// command may run unless the URL sets statement_timeout (0 turns it off).
const operatorStatementTimeout = time.Minute

// Store opens the store for an operator command, with statements limited to
// operatorStatementTimeout; the caller closes it.
func (d *dbFlags) Store(ctx context.Context) (*store.DB, error) {
	url, err := d.URL()
	if err != nil {
		return nil, err
	}
	return store.OpenWith(ctx, url, store.Options{StatementTimeout: operatorStatementTimeout})
}

// SQL opens a database/sql handle over a pgx pool, for goose. The caller
// calls done when finished, which closes both.
func (d *dbFlags) SQL(ctx context.Context) (sqlDB *sql.DB, done func(), err error) {
	url, err := d.URL()
	if err != nil {
		return nil, nil, err
	}
	pool, err := store.Connect(ctx, url, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	sqlDB = stdlib.OpenDBFromPool(pool)
	return sqlDB, func() {
		sqlDB.Close()
		pool.Close()
	}, nil
}
