package ivr_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver of database/sql

	"github.com/ivrhq/ivr/db"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/pglocal"
	"github.com/ivrhq/ivr/internal/store"
)

// outage is an IVR on a PostgreSQL server of its own, which the test stops
// and starts.
type outage struct {
	t    *testing.T
	cfg  pglocal.Config
	pg   *pglocal.Server
	url  string
	app  *ivr.App
	srv  *agitest.Server
	logs *syncBuffer
}

func newOutage(t *testing.T) *outage {
	t.Helper()
	ctx := context.Background()
	dir, err := pglocal.TempDir("ivr-outage-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	o := &outage{t: t, cfg: pglocal.Config{DataDir: filepath.Join(dir, "data"), SocketDir: dir, NoFsync: true}, logs: &syncBuffer{}}
	o.start()
	t.Cleanup(func() { o.pg.Stop() })
	if o.url, err = o.pg.CreateDatabase(ctx, "ivr"); err != nil {
		t.Fatal(err)
	}
	sqlDB, err := sql.Open("pgx", o.url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.NewMigrator(sqlDB)
	if err == nil {
		_, err = m.Up(ctx)
	}
	sqlDB.Close()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, o.url)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(7)})
	if err != nil {
		t.Fatal(err)
	}
	seedCaller(t, pool, kr, aliceAccount, "Alice Example", "", alicePIN, alicePhone)
	seedMenu(t, pool, mainMenu())
	pool.Close()

	st, err := store.Open(ctx, o.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	logger := slog.New(slog.NewTextHandler(o.logs, nil))
	o.app, err = ivr.New(ivr.Config{StoreTimeout: 2 * time.Second},
		ivr.Services{Callers: st, Journal: st, PINs: st, Catalog: st, Messages: st, Keyring: kr, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	o.srv = serve(t, o.app, o.logs)
	return o
}

func (o *outage) start() {
	o.t.Helper()
	var err error
	if o.pg, err = pglocal.Start(context.Background(), o.cfg); err != nil {
		o.t.Fatal(err)
	}
}

func (o *outage) stop() {
	o.t.Helper()
	if err := o.pg.Stop(); err != nil {
		o.t.Fatal(err)
	}
}

// row reads the call row of uniqueid: its route and end reason ("" while
// open); found is false when there is none.
func (o *outage) row(uniqueid string) (route, reason string, found bool) {
	o.t.Helper()
	conn, err := pgx.Connect(context.Background(), o.url)
	if err != nil {
		o.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var r *string
	err = conn.QueryRow(context.Background(), "SELECT route, end_reason FROM calls WHERE uniqueid = $1", uniqueid).Scan(&route, &r)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false
	}
	if err != nil {
		o.t.Fatal(err)
	}
	if r != nil {
		reason = *r
	}
	return route, reason, true
}

// TestCallsAcrossDatabaseRestart stops the database during a call and lets
// calls arrive while it is down: each caller hears the apology and the
// dialplan gets its result at once, and once the database is back every one
// of these calls has its row, closed.
func TestCallsAcrossDatabaseRestart(t *testing.T) {
	t.Parallel()
	o := newOutage(t)

	// The database stops while the caller listens to the main menu.
	during := fromAlice(alicePIN+"#", "9")
	during.Responder = func(cmd agiclient.Command) agiclient.Reply {
		if cmd.Name == "GET DATA" && cmd.Arg(0) == "ivr/main-menu" {
			o.stop()
		}
		return agiclient.Reply{}
	}
	calls := map[string]struct{ route, result string }{}
	tr := o.srv.Run(t, during)
	calls[tr.EnvValue("agi_uniqueid")] = struct{ route, result string }{"ivr", tr.Variables["IVR_RESULT"]}
	// A call arrives while the database is down, and a caller lookup.
	tr = o.srv.Run(t, fromAlice(alicePIN+"#", "9"))
	calls[tr.EnvValue("agi_uniqueid")] = struct{ route, result string }{"ivr", tr.Variables["IVR_RESULT"]}
	p := tr.Prompts()
	if len(p) == 0 || p[len(p)-1] != "tt-somethingwrong" {
		t.Errorf("a call while the database is down heard %v, want the apology", p)
	}
	tr = o.srv.Run(t, agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": aliceLocal}})
	calls[tr.EnvValue("agi_uniqueid")] = struct{ route, result string }{"lookup", "error"}
	if got := tr.Variables["IVR_LOOKUP_ERROR"]; got != "error" {
		t.Errorf("IVR_LOOKUP_ERROR = %q, want error", got)
	}
	for uid, c := range calls {
		if c.result != "error" {
			t.Errorf("call %s: IVR_RESULT = %q, want error", uid, c.result)
		}
	}
	// The lookup's row is written in the background from the start: it is
	// kept for retry once its first attempt has failed.
	for wait := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := o.app.PendingStats()
		if st.Pending == len(calls) {
			break
		}
		if time.Now().After(wait) {
			t.Errorf("%d writes kept for retry, want one per call (%d): %+v", st.Pending, len(calls), st)
			break
		}
	}

	o.start()
	deadline := time.Now().Add(30 * time.Second)
	for uid, c := range calls {
		for {
			route, reason, found := o.row(uid)
			if found && reason != "" {
				if route != c.route {
					t.Errorf("call %s: route %q, want %q", uid, route, c.route)
				}
				want := "error"
				if c.route == "lookup" {
					want = "completed"
				}
				if reason != want {
					t.Errorf("call %s: closed as %q, want %q", uid, reason, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %s: row found %v, end reason %q after the database came back\n%s", uid, found, reason, o.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n := o.app.Close(ctx); n != 0 {
		t.Errorf("Close abandoned %d writes, want none", n)
	}
	if st := o.app.PendingStats(); st.Done != int64(len(calls)) || st.Pending != 0 {
		t.Errorf("retries: %+v, want %d written", st, len(calls))
	}
	if got := strings.Count(o.logs.String(), "written once the database was back"); got != len(calls) {
		t.Errorf("%d lines tell a row was written once the database was back, want %d:\n%s", got, len(calls), o.logs)
	}
}

// TestCloseAbandonsPendingWrites closes the App while the database is down:
// the writes still pending are abandoned, and it says so.
func TestCloseAbandonsPendingWrites(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	o.stop()
	tr := o.srv.Run(t, fromAlice(alicePIN+"#", "9"))
	if tr.Variables["IVR_RESULT"] != "error" {
		t.Errorf("IVR_RESULT = %q, want error", tr.Variables["IVR_RESULT"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if n := o.app.Close(ctx); n != 1 {
		t.Errorf("Close abandoned %d writes, want 1", n)
	}
	if !strings.Contains(o.logs.String(), "call row abandoned: the server is stopping") {
		t.Errorf("no line tells the write was abandoned:\n%s", o.logs)
	}
	o.start()
}
