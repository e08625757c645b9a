package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// listenWorld is what the tests of a cache kept fresh by LISTEN share: a
// store, an operator's connection of its own for plain SQL, a log for the
// cache, and the cache's stats and listener once listening is called.
type listenWorld struct {
	t        *testing.T
	db       *store.DB
	op       *pgx.Conn
	log      *slog.Logger // the cache's, writing to logPath
	logPath  string
	password string
	stats    func() store.CacheStats
	pid      func() uint32 // the server process of the cache's listening connection
}

// newListenWorld returns a listenWorld on a fresh database of t's own.
func newListenWorld(t *testing.T) *listenWorld {
	t.Helper()
	ctx := context.Background()
	url := testdb.URL(t)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	op, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close(context.Background()) })
	w := &listenWorld{t: t, db: db, op: op, logPath: filepath.Join(t.TempDir(), "cache.log"), password: op.Config().Password}
	logFile, err := os.Create(w.logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	w.log = slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return w
}

// listening sets the cache's stats and listener PID and waits until the
// cache listens.
func (w *listenWorld) listening(stats func() store.CacheStats, pid func() uint32) {
	w.t.Helper()
	w.stats, w.pid = stats, pid
	w.waitUntil("the cache listens", func(s store.CacheStats) bool { return s.Listening })
}

// logs returns what the cache has logged so far.
func (w *listenWorld) logs() string {
	b, err := os.ReadFile(w.logPath)
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// waitUntil polls the cache's stats until ok holds.
func (w *listenWorld) waitUntil(what string, ok func(store.CacheStats) bool) {
	w.t.Helper()
	eventually(w.t, what, func() bool { return ok(w.stats()) })
}

// eventually polls ok until it holds, and fails t when that takes more than
// ten seconds.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
	}
}

// exec runs sql on the operator's connection and waits until the cache has
// received more notifications than before (the change is one that is
// announced).
func (w *listenWorld) exec(sql string, args ...any) {
	w.t.Helper()
	w.announced(func() error {
		_, err := w.op.Exec(context.Background(), sql, args...)
		return err
	})
}

// announced runs change and waits until the cache has received more
// notifications than before.
func (w *listenWorld) announced(change func() error) {
	w.t.Helper()
	before := w.stats().Invalidations
	if err := change(); err != nil {
		w.t.Fatal(err)
	}
	w.waitUntil("the change is announced", func(s store.CacheStats) bool { return s.Invalidations > before })
}

// hit runs read and says whether the cache answered it from memory.
func (w *listenWorld) hit(read func()) bool {
	before := w.stats().Hits
	read()
	return w.stats().Hits > before
}

// stopListener terminates the cache's listening connection and makes the
// database refuse new connections until the test calls the returned
// function, so the cache cannot listen again before then.
func (w *listenWorld) stopListener() (allow func()) {
	w.t.Helper()
	ctx := context.Background()
	var name string
	if err := w.op.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		w.t.Fatal(err)
	}
	limit := func(n int) {
		if _, err := w.op.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT %d", pgx.Identifier{name}.Sanitize(), n)); err != nil {
			w.t.Fatal(err)
		}
	}
	limit(0)
	pid := w.pid()
	var gone bool
	if err := w.op.QueryRow(ctx, "SELECT pg_terminate_backend($1, 5000)", int32(pid)).Scan(&gone); err != nil || !gone {
		w.t.Fatalf("terminate the listener %d: %v %v", pid, gone, err)
	}
	w.waitUntil("the cache stops listening", func(s store.CacheStats) bool { return !s.Listening })
	return func() { limit(-1) }
}

// reconnect cuts the cache's listening connection and waits until the cache
// listens again on a new one.
func (w *listenWorld) reconnect() {
	w.t.Helper()
	w.stopListener()()
	w.waitUntil("the cache listens again", func(s store.CacheStats) bool { return s.Listening })
}

// checkLossLogged checks that the cache called name logged the loss of its
// listening connection, and never the database password.
func (w *listenWorld) checkLossLogged(name string) {
	w.t.Helper()
	logs := w.logs()
	if !strings.Contains(logs, name+": listening connection lost") {
		w.t.Errorf("the loss was not logged:\n%s", logs)
	}
	if w.password != "" && strings.Contains(logs, w.password) {
		w.t.Errorf("the database password reached the log:\n%s", logs)
	}
}
