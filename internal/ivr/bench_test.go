package ivr_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/phone"
	"github.com/ivrhq/ivr/internal/schedule"
	"github.com/ivrhq/ivr/internal/store"
)

// benchConcurrency is the number of calls in progress at once.
const benchConcurrency = 50

// benchCallers is how many callers the benchmark calls come from, in turn:
// real traffic comes from many callers, and one caller's row updated by every
// call would serialise concurrent commits on its row lock.
const benchCallers = 1000

// benchPhone is the caller ID of benchmark caller i, as the trunk sends it.
func benchPhone(i int) string { return fmt.Sprintf("415600%04d", i%benchCallers) }

// The whole call of BenchmarkCall: a known caller ID, the PIN, a menu choice
// (the survey), one survey answer, then the hangup option.
var (
	benchMenu = ivr.Menu{Key: "bench", Prompt: "ivr/main-menu", Timeout: 5 * time.Second, MaxDigits: 1, MaxAttempts: 3,
		Options: []ivr.MenuOption{
			{Digits: "1", Action: ivr.Action{Kind: ivr.ActionSurvey, Target: "quick"}},
			{Digits: "9", Action: ivr.Action{Kind: ivr.ActionHangup}},
		}}
	benchSurvey = ivr.Survey{Key: "quick", ThankYouPrompt: "ivr/survey-thanks",
		Questions: []ivr.Question{{Key: "score", Prompt: "ivr/q-score", AllowedDigits: "12345", Required: true}}}
	benchCall = agiclient.Call{Script: "ivr?menu=bench", Env: map[string]string{"agi_callerid": aliceLocal},
		Keys: []string{alicePIN + "#", "1", "4", "9"}}
	benchLookup = agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": aliceLocal}}
)

// BenchmarkLookup measures the lookup route against PostgreSQL and, in the
// same run, against in-memory ports with no database work behind them.
func BenchmarkLookup(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		w := newWorld(b, ivr.Config{}, nil)
		seedBenchCallers(b, w)
		runCalls(b, w.srv, benchLookup, w.db, "", benchConcurrency)
	})
	b.Run("nodb", func(b *testing.B) {
		runCalls(b, noDBServer(b), benchLookup, nil, "", benchConcurrency)
	})
}

// BenchmarkCall measures a whole IVR call (identify, PIN, menu choice, survey
// answer) against PostgreSQL and against in-memory ports.
func BenchmarkCall(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		w := newWorld(b, ivr.Config{}, nil)
		seedSurvey(b, w.pool, benchSurvey)
		seedMenu(b, w.pool, benchMenu)
		seedBenchCallers(b, w)
		runCalls(b, w.srv, benchCall, w.db, "completed", benchConcurrency)
	})
	// The same call routed by its dialled number (no ?menu=) through a
	// schedule that is open: the number and its schedule come from the
	// catalog cache, and the call journals two more steps.
	b.Run("postgres-by-number", func(b *testing.B) {
		w := newWorld(b, ivr.Config{}, nil)
		seedSurvey(b, w.pool, benchSurvey)
		seedMenu(b, w.pool, benchMenu)
		seedBenchCallers(b, w)
		ctx := context.Background()
		open := schedule.Schedule{Location: time.UTC}
		for d := range open.Weekly {
			open.Weekly[d] = []schedule.Span{{From: 0, To: 24 * 60}}
		}
		if err := w.db.ReplaceSchedules(ctx, []ivr.Schedule{{Key: "open", Hours: open}}); err != nil {
			b.Fatal(err)
		}
		if err := w.db.ReplaceNumbers(ctx, []ivr.Number{{Number: "700", Menu: "bench", ScheduleKey: "open",
			Closed: ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"}}}); err != nil {
			b.Fatal(err)
		}
		byNumber := benchCall
		byNumber.Script = "ivr?number=700"
		runCalls(b, w.srv, byNumber, w.db, "completed", benchConcurrency)
	})
	b.Run("nodb", func(b *testing.B) {
		runCalls(b, noDBServer(b), benchCall, nil, "completed", benchConcurrency)
	})
}

// pacedCalls is the number of calls in progress at once in
// BenchmarkPacedCalls, and pacedReply how long the caller takes to answer
// each command there: a prompt heard, a key typed.
const (
	pacedCalls = 400
	pacedReply = 300 * time.Millisecond
)

// BenchmarkPacedCalls plays whole calls as people do, each reply of the
// caller's side coming pacedReply after the command, pacedCalls at a time:
// what matters here is not throughput but the gap between a caller's input
// and the next prompt (gap-p50, gap-p99), while the server and the database
// carry the steady load of that many calls. Run it with fsync on
// (TEST_DATABASE_URL) and a -benchtime of a few thousand calls.
func BenchmarkPacedCalls(b *testing.B) {
	w := newWorld(b, ivr.Config{}, nil)
	seedSurvey(b, w.pool, benchSurvey)
	seedMenu(b, w.pool, benchMenu)
	seedBenchCallers(b, w)
	c := benchCall
	c.Faults = []agiclient.Fault{{Kind: agiclient.SlowReply, Delay: pacedReply}}
	runCalls(b, w.srv, c, w.db, "completed", pacedCalls)
}

// noDBServer serves the App over the in-memory ports, with the same fixture.
func noDBServer(b *testing.B) *agitest.Server {
	kr, err := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(7)})
	if err != nil {
		b.Fatal(err)
	}
	m := newNoDB()
	for i := range benchCallers {
		e164, _ := phone.Normalize(benchPhone(i), "US")
		account := fmt.Sprint(100000 + i)
		m.add(ivr.Caller{ID: int64(i + 1), Account: account, Name: "Caller", Status: ivr.CallerActive,
			Phones: []string{e164}, PIN: kr.Hash(account, alicePIN)})
	}
	m.menus[benchMenu.Key] = withID(benchMenu, 1)
	s := benchSurvey
	s.VersionID = 1
	m.surveys[s.Key] = s
	svc := m.services()
	svc.Keyring = kr
	app, err := ivr.New(ivr.Config{}, svc)
	if err != nil {
		b.Fatal(err)
	}
	return serve(b, app, nil)
}

// seedBenchCallers adds the benchmark's callers, all with alicePIN.
func seedBenchCallers(b *testing.B, w *world) {
	sums := make([][]byte, benchCallers)
	for i := range sums {
		sums[i] = w.kr.Hash(fmt.Sprint(100000+i), alicePIN).Sum
	}
	_, err := w.pool.Exec(context.Background(), `WITH c AS (
			INSERT INTO callers (account, name, pin_key_id, pin_hash, pin_version)
			SELECT (100000 + i - 1)::text, 'Caller', $1, h, 2 FROM unnest($2::bytea[]) WITH ORDINALITY AS t(h, i)
			RETURNING id, account)
		INSERT INTO caller_phones (caller_id, e164)
		SELECT id, '+1415600' || lpad((account::int - 100000)::text, 4, '0') FROM c`, w.kr.CurrentKeyID(), sums)
	if err != nil {
		b.Fatal(err)
	}
}

func withID(m ivr.Menu, id int64) ivr.Menu {
	m.VersionID = id
	return m
}

// runCalls plays b.N calls, concurrency at a time, and reports calls/s,
// the CPU time of this process per call (server and fake Asterisk),
// the database round trips (a group commit's statement counts once), commits
// and group-committed writes per call (db may be nil), and the gap
// between a caller's input and the next prompt (p50, p99). Every call must end
// with IVR_RESULT=result when result is not empty.
func runCalls(b *testing.B, srv *agitest.Server, c agiclient.Call, db *store.DB, result string, concurrency int) {
	ctx := context.Background()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		gaps   []time.Duration
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	var before store.Stats
	if db != nil {
		before = db.Stats()
	}
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			var local []time.Duration
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				c := c
				c.Env = map[string]string{"agi_callerid": benchPhone(int(n))}
				tr, err := c.Run(ctx, srv.Addr)
				if err != nil || (result != "" && tr.Variables["IVR_RESULT"] != result) {
					failed.Add(1)
					continue
				}
				local = append(local, inputGaps(tr)...)
			}
			mu.Lock()
			gaps = append(gaps, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d calls failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "process-cpu-µs/call")
	if db != nil {
		after := db.Stats()
		b.ReportMetric(float64(after.RoundTrips-before.RoundTrips)/float64(b.N), "roundtrips/call")
		b.ReportMetric(float64(after.Commits-before.Commits)/float64(b.N), "commits/call")
		b.ReportMetric(float64(after.Writes-before.Writes)/float64(b.N), "writes/call")
	}
	if len(gaps) > 0 {
		slices.Sort(gaps)
		b.ReportMetric(float64(gaps[len(gaps)/2].Microseconds()), "gap-p50-µs")
		b.ReportMetric(float64(gaps[len(gaps)*99/100].Microseconds()), "gap-p99-µs")
	}
}

// inputGaps returns, for every input the caller gave, the time from Asterisk's
// reply to the next prompt command: how long a caller typing ahead would lose
// keys.
func inputGaps(tr *agiclient.Transcript) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(tr.Steps); i++ {
		prev, cur := tr.Steps[i-1], tr.Steps[i]
		if prev.Command.Name != "GET DATA" || prev.Keys == "" {
			continue
		}
		switch cur.Command.Name {
		case "GET DATA", "STREAM FILE", "RECORD FILE", "SAY NUMBER":
			out = append(out, cur.Wait)
		}
	}
	return out
}

// BenchmarkPINAttempt measures what a wrong PIN costs the caller on an
// account that exists and on one that does not: calls one at a time,
// alternating between the two, each typing an account and a wrong PIN. Per
// kind it reports the time from the reply that carried the PIN to the next
// command (the "incorrect" prompt), p50 and p90: what a caller could time to
// tell a wrong account from a wrong PIN. "refusal-time" runs with the default
// Config.RefusalTime, "decided" answers as soon as the refusal is decided.
func BenchmarkPINAttempt(b *testing.B) {
	b.Run("refusal-time", func(b *testing.B) { benchPINAttempt(b, 0) })
	b.Run("decided", func(b *testing.B) { benchPINAttempt(b, -1) })
}

func benchPINAttempt(b *testing.B, refusal time.Duration) {
	w := newWorld(b, ivr.Config{MaxPINTries: 1, RefusalTime: refusal}, nil)
	seedBenchCallers(b, w)
	ctx := context.Background()
	var known, unknown []time.Duration
	n := 0
	for b.Loop() {
		account := fmt.Sprint(100000 + n/2%benchCallers) // a real account
		if n%2 == 1 {
			account = fmt.Sprint(900000 + n/2%benchCallers) // none has it
		}
		c := agiclient.Call{Script: "ivr?menu=main", Keys: []string{account + "#", wrongPIN + "#"}}
		tr, err := c.Run(ctx, w.srv.Addr)
		if err != nil || tr.Variables["IVR_RESULT"] != string(ivr.ResultAuthFailed) {
			b.Fatalf("call %d: %v, IVR_RESULT %q", n, err, tr.Variables["IVR_RESULT"])
		}
		gap, ok := pinGap(tr)
		if !ok {
			b.Fatalf("call %d: no PIN prompt answered", n)
		}
		if n%2 == 1 {
			unknown = append(unknown, gap)
		} else {
			known = append(known, gap)
		}
		n++
	}
	for _, k := range []struct {
		name string
		gaps []time.Duration
	}{{"wrong-pin", known}, {"unknown-account", unknown}} {
		if len(k.gaps) == 0 {
			continue
		}
		slices.Sort(k.gaps)
		b.ReportMetric(float64(k.gaps[len(k.gaps)/2].Microseconds()), k.name+"-p50-µs")
		b.ReportMetric(float64(k.gaps[len(k.gaps)*9/10].Microseconds()), k.name+"-p90-µs")
	}
}

// pinGap returns the time from the reply that carried the PIN to the next
// command.
func pinGap(tr *agiclient.Transcript) (time.Duration, bool) {
	for i := 1; i < len(tr.Steps); i++ {
		prev := tr.Steps[i-1]
		if prev.Command.Name == "GET DATA" && strings.Contains(prev.Command.Arg(0), "vm-password") && prev.Keys != "" {
			return tr.Steps[i].Wait, true
		}
	}
	return 0, false
}
