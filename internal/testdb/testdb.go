// Package testdb gives each test its own PostgreSQL database, migrated to the
// current schema, so database tests run in parallel against the real thing.
//
// A package's TestMain calls Main. Main uses the server at TEST_DATABASE_URL
// when it is set; otherwise it starts one private throwaway PostgreSQL for the
// test binary from the locally installed binaries (see package pglocal), on a
// unix socket in a temporary directory with fsync off, and stops it when the
// tests are done. There are no skips: when no PostgreSQL can be found, the run
// fails and says how to get one.
//
// Each New or URL clones a database from a template that is migrated once per
// schema (github.com/peterldowns/pgtestdb), which takes milliseconds. A test
// that passes has its database dropped; a test that fails leaves it for a look
// (the URL is in the test log).
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		pool := testdb.New(t)
//		...
//	}
package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/ivrhq/ivr/db"
	"github.com/ivrhq/ivr/internal/pglocal"
)

// EnvURL is the environment variable naming an existing server to test
// against, as a connection URL whose user may create roles and databases.
const EnvURL = "TEST_DATABASE_URL"

// server is the database server of this test binary, set once by Main.
var server struct {
	mu  sync.Mutex
	url string
}

// Main runs the tests of a package against a PostgreSQL server and exits with
// their status: TEST_DATABASE_URL when set, otherwise a private server started
// for this test binary and stopped after the tests. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv(EnvURL); u != "" {
		setServerURL(u)
		return m.Run()
	}
	dir, err := pglocal.TempDir("ivr-testdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := pglocal.Start(context.Background(), pglocal.Config{
		DataDir:   filepath.Join(dir, "data"),
		SocketDir: dir,
		NoFsync:   true,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdb: no PostgreSQL to test against (set %s to use a running server): %v\n", EnvURL, err)
		return 1
	}
	defer srv.Stop()
	setServerURL(srv.URL("postgres"))
	return m.Run()
}

func setServerURL(u string) {
	server.mu.Lock()
	defer server.mu.Unlock()
	server.url = u
}

// New returns a pool on a new database of t's own holding the migrated schema.
// The pool is closed and, if t passed, the database dropped when t ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// URL returns the connection URL of a new database of t's own holding the
// migrated schema. Whoever connects closes their connections before t ends;
// the database is dropped when t ends, if t passed.
func URL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, config(t), migrator{}).URL()
}

// EmptyURL is URL for a database with no schema at all, for tests of
// migrations themselves.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, config(t), pgtestdb.NoopMigrator{}).URL()
}

// config is the pgtestdb configuration for the server of this test binary.
func config(t testing.TB) pgtestdb.Config {
	t.Helper()
	server.mu.Lock()
	u := server.url
	server.mu.Unlock()
	if u == "" {
		t.Fatalf("testdb: no database server: call testdb.Main(m) from TestMain in this package")
	}
	conf, err := configFromURL(u)
	if err != nil {
		t.Fatalf("testdb: %s: %v", EnvURL, err)
	}
	return conf
}

// configFromURL splits a connection URL (or key=value string) into the fields
// of pgtestdb.Config, keeping a unix socket directory as a host option.
func configFromURL(u string) (pgtestdb.Config, error) {
	pc, err := pgconn.ParseConfig(u)
	if err != nil {
		return pgtestdb.Config{}, err
	}
	c := pgtestdb.Config{
		DriverName:                "pgx",
		User:                      userinfoEscape(pc.User),
		Password:                  userinfoEscape(pc.Password),
		Database:                  pc.Database,
		Host:                      pc.Host,
		Port:                      strconv.Itoa(int(pc.Port)),
		ForceTerminateConnections: true,
	}
	q := url.Values{}
	if strings.HasPrefix(pc.Host, "/") {
		// A socket directory cannot stand in the host part of a URL; the host
		// option overrides it.
		c.Host = "localhost"
		q.Set("host", pc.Host)
	} else if strings.Contains(pc.Host, ":") {
		c.Host = "[" + pc.Host + "]"
	}
	if pc.TLSConfig == nil {
		q.Set("sslmode", "disable")
	}
	c.Options = q.Encode()
	if c.Database == "" {
		return c, errors.New("no database name")
	}
	return c, nil
}

// userinfoEscape escapes s for the user or password part of a URL.
func userinfoEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// migrator is the pgtestdb.Migrator of the ivr schema: it applies the embedded
// goose migrations through db.NewMigrator.
type migrator struct{}

// Hash identifies the schema by the names and contents of the migrations, so
// any change to them builds a new template.
func (migrator) Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(db.Migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(db.Migrations, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Migrate applies every migration to the new template database.
func (migrator) Migrate(ctx context.Context, sqlDB *sql.DB, _ pgtestdb.Config) error {
	p, err := db.NewMigrator(sqlDB)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}
