package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/pglocal"
	"github.com/ivrhq/ivr/internal/store"
)

// BenchmarkSoak is the bad-day soak of docs/operations.md: ivr serve on a
// PostgreSQL of its own takes 10,000 ivr calls, 20 at a time, a quarter of
// them hung up at a random command, while the database's connections are
// killed twice and the database is stopped for three seconds and started
// again twice. Once the database is back it checks that every call the client
// completed has its row, closed; that no row is left open; and that no step
// or PIN audit was written twice. Run it with
//
//	go test -run '^$' -bench Soak -benchtime 1x ./cmd/ivr
func BenchmarkSoak(b *testing.B) {
	for b.Loop() {
		soak(b, 10000)
	}
}

// soakServer is the database of the soak, which it stops and starts.
type soakServer struct {
	tb  testing.TB
	cfg pglocal.Config
	mu  sync.Mutex
	pg  *pglocal.Server
	url string
}

func (s *soakServer) start() {
	pg, err := pglocal.Start(context.Background(), s.cfg)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.mu.Lock()
	s.pg = pg
	s.mu.Unlock()
}

// restart stops the server (a fast shutdown, as pg_ctl stop -m fast) and
// starts it again after down.
func (s *soakServer) restart(down time.Duration) {
	s.mu.Lock()
	pg := s.pg
	s.mu.Unlock()
	if err := pg.Stop(); err != nil {
		s.tb.Error(err)
	}
	time.Sleep(down)
	s.start()
}

// killConns terminates every other session of the database.
func (s *soakServer) killConns() int {
	conn, err := pgx.Connect(context.Background(), s.url)
	if err != nil {
		s.tb.Error(err)
		return 0
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		s.tb.Error(err)
	}
	return n
}

func soak(tb testing.TB, calls int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := pglocal.TempDir("ivr-soak-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db := &soakServer{tb: tb, cfg: pglocal.Config{DataDir: filepath.Join(dir, "data"), SocketDir: dir, NoFsync: true}}
	db.start()
	defer func() { db.pg.Stop() }()
	if db.url, err = db.pg.CreateDatabase(ctx, "ivr"); err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	e := &env{getenv: envMap(map[string]string{"DATABASE_URL": db.url}), stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if err := runMigrate(ctx, e, []string{"up"}); err != nil {
		tb.Fatalf("migrate: %v\n%s", err, out.String())
	}
	st, err := store.Open(ctx, db.url)
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := ivr.ParseKeyring(servePINKey)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := loadDemo(ctx, e, st, db.url, kr, []string{filepath.Join("..", "..")}, promptsDir(tb)); err != nil {
		tb.Fatalf("load demo: %v\n%s", err, out.String())
	}
	st.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logs := &lockedBuffer{}
	served := make(chan error, 1)
	serveCtx, stopServe := context.WithCancel(ctx)
	go func() {
		served <- run(serveCtx, []string{"serve", "-agi-addr", addr, "-http-addr", "", "-store-timeout", "2s"},
			envMap(map[string]string{"DATABASE_URL": db.url, "IVR_PIN_KEY": servePINKey}), strings.NewReader(""), logs, logs)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("ivr serve never listened:\n%s", logs.String())
		}
	}

	// The faults, each once the calls reach a share of the whole.
	faults := []struct {
		at int64
		do func()
	}{
		{int64(calls) / 10, func() { tb.Logf("killed %d connections", db.killConns()) }},
		{int64(calls) * 3 / 10, func() { db.restart(3 * time.Second); tb.Log("database restarted") }},
		{int64(calls) * 5 / 10, func() { tb.Logf("killed %d connections", db.killConns()) }},
		{int64(calls) * 7 / 10, func() { db.restart(3 * time.Second); tb.Log("database restarted") }},
	}
	var faulted sync.WaitGroup
	fire := make([]sync.Once, len(faults))
	hangups := randomHangups(0.25)
	vary := func(n int64, c *agiclient.Call) {
		hangups(n, c)
		for i, f := range faults {
			if n == f.at {
				fire[i].Do(func() { faulted.Go(f.do) })
			}
		}
	}
	base := agiclient.Call{Script: "ivr?menu=main", Env: map[string]string{"agi_callerid": demoCallers[0].phone},
		Keys: []string{demoCallers[0].pin + "#", "0"}}
	res := bench(ctx, base, addr, 20, calls, 0, nil, vary)
	faulted.Wait()

	// Recovery: every row closed, or a minute passes.
	st, err = store.Open(ctx, db.url)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	var closed map[string]store.ChannelRows
	for {
		if closed, err = st.CallRowsClosed(ctx, res.uniqueids); err != nil {
			tb.Fatal(err)
		}
		open := 0
		for _, c := range closed {
			if !c.Closed {
				open++
			}
		}
		if (len(closed) == len(res.uniqueids) && open == 0) || time.Since(start) > time.Minute {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	recovered := time.Since(start)
	stopServe()
	if err := <-served; err != nil {
		tb.Errorf("ivr serve: %v", err)
	}

	var missing, open, openAll, dupRows, dupSteps, dupPINs int
	for _, u := range res.uniqueids {
		c, ok := closed[u]
		switch {
		case !ok:
			missing++
		case !c.Closed:
			open++
		case c.Sessions != 1:
			dupRows++ // one AGI session per call: more rows is a call stored twice
		}
	}
	pool := st.Pool()
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM calls WHERE ended_at IS NULL":                                           &openAll,
		"SELECT count(*) FROM (SELECT 1 FROM call_steps GROUP BY call_id, seq HAVING count(*) > 1) d": &dupSteps,
		"SELECT count(*) FROM (SELECT 1 FROM pin_attempts GROUP BY call_id HAVING count(*) > 1) d":    &dupPINs,
	} {
		if err := pool.QueryRow(ctx, q).Scan(dst); err != nil {
			tb.Fatal(err)
		}
	}
	completed := res.calls - res.errors
	tb.Logf("calls %d: completed by the client %d, failed at the client %d; results %v", res.calls, completed, res.errors, res.results)
	tb.Logf("rows: %d closed, %d open, %d missing; open rows in all %d; duplicate rows %d, steps %d, PIN audits %d; all closed %s after the load",
		len(closed)-open, open, missing, openAll, dupRows, dupSteps, dupPINs, recovered.Round(100*time.Millisecond))
	tb.Logf("server log lines: %d written once the database was back, %d abandoned",
		strings.Count(logs.String(), "written once the database was back"), strings.Count(logs.String(), "abandoned"))
	if missing+open+openAll+dupRows+dupSteps+dupPINs > 0 {
		tb.Errorf("calls not closed in the database or written twice\n%s", tail(logs.String(), 40))
	}
	if b, ok := tb.(*testing.B); ok {
		b.ReportMetric(float64(completed), "calls_completed")
		b.ReportMetric(float64(len(closed)-open), "rows_closed")
		b.ReportMetric(float64(openAll), "rows_open")
		b.ReportMetric(float64(dupRows+dupSteps+dupPINs), "duplicates")
		b.ReportMetric(recovered.Seconds(), "recovery_s")
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "")
}
