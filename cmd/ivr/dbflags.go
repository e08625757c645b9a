package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// dbFlags is the database a command works on: -database-url and
// -database-password, each with its -file twin, and for the commands that
// read in bulk and write nothing, -reports-database-url.
type dbFlags struct {
	url      string
	password string
	reports  string // a replica to read instead of url, when set
}

// database adds -database-url and -database-password (and their -file twins).
func (f *cmdFlags) database() *dbFlags {
	d := &dbFlags{}
	f.secret(&d.url, "database-url", "PostgreSQL connection URL (postgres://user@host:5432/ivr?sslmode=... or key=value form); pool settings such as pool_max_conns go here too")
	f.secret(&d.password, "database-password", "database password, replacing any password in the URL")
	return d
}

// reportsDatabase is database for the commands that only read, in bulk, what
// is stored (the reports, the exports, recordings verify): it adds
// -reports-database-url, so they can run on a streaming replica and keep
// their load off the primary the calls write to. Commands that write, and
// the listings an operator reads right after a change, have no such flag: on a
// replica they would miss what the primary has not sent it yet.
func (f *cmdFlags) reportsDatabase() *dbFlags {
	d := f.database()
	f.secret(&d.reports, "reports-database-url", "PostgreSQL connection URL of a replica to read instead of -database-url, in the same forms, "+
		"with its password in it (-database-password applies to -database-url only); unset, the command reads -database-url")
	return d
}

// given reports whether a database was named.
func (d *dbFlags) given() bool { return d.url != "" }

// URL returns the connection URL with the password of -database-password, or
// a usage error when no database is named.
func (d *dbFlags) URL() (string, error) {
	if d.url == "" {
		return "", usageError{"no database: set DATABASE_URL (or -database-url or -database-url-file)"}
	}
	return withPassword(d.url, d.password)
}

// operatorStatementTimeout is the longest one statement of an operator
// command may run unless the URL sets statement_timeout (0 turns it off).
const operatorStatementTimeout = time.Minute

// Store opens the store for an operator command, with statements limited to
// operatorStatementTimeout: the database of -reports-database-url when it is
// set, else that of -database-url. The caller closes it. A reports database
// that cannot be reached is named as such, by its host.
func (d *dbFlags) Store(ctx context.Context) (*store.DB, error) {
	opts := store.Options{StatementTimeout: operatorStatementTimeout}
	if d.reports != "" {
		db, err := store.OpenWith(ctx, d.reports, opts)
		if err != nil {
			return nil, fmt.Errorf("reports database (-reports-database-url): %w", err)
		}
		return db, nil
	}
	url, err := d.URL()
	if err != nil {
		return nil, err
	}
	return store.OpenWith(ctx, url, opts)
}

// pinKey adds -pin-key and -pin-key-file.
func (f *cmdFlags) pinKey(p *string) {
	f.secret(p, "pin-key", "PIN hashing keys as id:base64key[,id:base64key...], the first one current (at least 16 bytes each)")
}

// pinKeyring parses the PIN keys of -pin-key (or -pin-key-file). It is the one
// place a PIN key setting is read.
func pinKeyring(spec string) (*ivr.Keyring, error) {
	if spec == "" {
		return nil, usageError{"no PIN key: set IVR_PIN_KEY_FILE (or -pin-key-file) to a file holding id:base64key, the same key the server uses; " +
			"make one with: printf 'k1:%s\\n' \"$(head -c 32 /dev/urandom | base64)\""}
	}
	k, err := ivr.ParseKeyring(spec)
	if err != nil {
		return nil, usageError{strings.TrimPrefix(err.Error(), "pin keyring: ") + " (in -pin-key)"}
	}
	return k, nil
}
