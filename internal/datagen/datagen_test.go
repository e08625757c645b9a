package datagen_test

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// generate plays opt into a database of its own and returns the store on it
// with the summary.
func generate(t *testing.T, opt datagen.Options) (*store.DB, datagen.Summary) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	var progressed atomic.Int64
	sum, err := datagen.Generate(ctx, db, opt, func(n int) { progressed.Add(int64(n)) })
	if err != nil {
		t.Fatalf("generate: %v (tally %+v)", err, sum.Tally)
	}
	if got := progressed.Load(); got != int64(opt.Calls) {
		t.Errorf("progress counted %d calls, want %d", got, opt.Calls)
	}
	return db, sum
}

// small is the traffic of the tests: ten days of March 2026, so the three
// menu versions and the two survey versions all go live.
var small = datagen.Options{Calls: 2500, Days: 10, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Seed: 7, Lanes: 64}

// TestReportsSeeWhatTheCallersDid plays the calls through the flows and checks
// that every report counts what the callers' side of the calls did and got:
// the calls of each route as scripted, how the ivr calls ended as the
// dialplan was told, the PINs typed, the lockouts, menu choices, survey
// answers, recordings kept and deleted, hangups; every call closed, at its
// scripted time, each menu version chosen only once it was live.
func TestReportsSeeWhatTheCallersDid(t *testing.T) {
	t.Parallel()
	db, sum := generate(t, small)
	ctx := context.Background()
	tl := sum.Tally

	plan := datagen.NewPlan(small, time.Now())
	var lookups int64
	for n := range plan.Starts {
		if plan.Script(n).Route == datagen.RouteLookup {
			lookups++
		}
	}
	if tl.Lookups != lookups || tl.Lookups+tl.Calls != int64(small.Calls) {
		t.Errorf("played %d lookups and %d ivr calls; the scripts have %d lookups in %d calls", tl.Lookups, tl.Calls, lookups, small.Calls)
	}
	// Every outcome the reports count must occur, or the comparisons below
	// prove little.
	for name, n := range map[string]int64{"completed": tl.Completed, "transferred": tl.Transferred, "hung up": tl.HungUp,
		"auth failed": tl.AuthFailed, "locked out": tl.Locked, "recordings": tl.Recordings, "cut by hangup": tl.CutByHangup,
		"deleted": tl.Deleted, "survey answers": tl.SurveyAnswers, "PIN changes": tl.PINChanges} {
		if n == 0 {
			t.Errorf("no call played %s", name)
		}
	}

	from, to := small.Start, small.Start.AddDate(0, 0, small.Days-1)
	// A year either side: rows outside the scripted days would show there.
	hours := must(db.ReportCallsByHour(ctx, from.AddDate(-1, 0, 0), to.AddDate(1, 0, 0)))(t)
	for _, h := range hours {
		if h.Day < from.Format(time.DateOnly) || h.Day > to.Format(time.DateOnly) {
			t.Errorf("calls on %s, outside the scripted days", h.Day)
		}
	}
	route := func(r string, f func(store.CallsByHour) int64) int64 {
		return total(hours, func(h store.CallsByHour) int64 {
			if h.Route != r {
				return 0
			}
			return f(h)
		})
	}
	ivrCalls := func(f func(store.CallsByHour) int64) int64 { return route("ivr", f) }
	bothRoutes := func(f func(store.CallsByHour) int64) int64 { return route("ivr", f) + route("lookup", f) }
	f := must(db.ReportFunnel(ctx, from, to))(t)
	pins := must(db.ReportPINSecurity(ctx, from, to))(t)
	opts := must(db.ReportMenuOptions(ctx, from, to))(t)
	answers := must(db.ReportSurveyResults(ctx, from, to))(t)
	recs := must(db.ReportRecordings(ctx, from, to))(t)
	hangups := must(db.ReportHangups(ctx, from, to))(t)
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"lookup calls", route("lookup", func(h store.CallsByHour) int64 { return h.Calls }), tl.Lookups},
		{"lookup calls completed", route("lookup", func(h store.CallsByHour) int64 { return h.Completed }), tl.Lookups},
		{"ivr calls", ivrCalls(func(h store.CallsByHour) int64 { return h.Calls }), tl.Calls},
		{"ivr channels", ivrCalls(func(h store.CallsByHour) int64 { return h.Channels }), tl.Calls},
		{"ivr calls answered", ivrCalls(func(h store.CallsByHour) int64 { return h.Answered }), tl.Calls},
		{"completed", ivrCalls(func(h store.CallsByHour) int64 { return h.Completed }), tl.Completed},
		{"transferred", ivrCalls(func(h store.CallsByHour) int64 { return h.Transferred }), tl.Transferred},
		{"hung up", ivrCalls(func(h store.CallsByHour) int64 { return h.HungUp }), tl.HungUp},
		{"auth failed", ivrCalls(func(h store.CallsByHour) int64 { return h.AuthFailed }), tl.AuthFailed},
		{"locked out", ivrCalls(func(h store.CallsByHour) int64 { return h.LockedOut }), tl.Locked},
		{"failed", bothRoutes(func(h store.CallsByHour) int64 { return h.Failed }), 0},
		{"lost", bothRoutes(func(h store.CallsByHour) int64 { return h.Lost }), 0},
		{"open", bothRoutes(func(h store.CallsByHour) int64 { return h.StillOpen }), 0},
		{"funnel: calls", f.Calls, tl.Calls},
		{"funnel: answered", f.Answered, tl.Calls},
		{"funnel: reached the PIN", f.ReachedPIN, tl.ReachedPIN},
		{"funnel: authenticated", f.Authenticated, tl.Authenticated},
		{"funnel: chose an option", f.ChoseOption, tl.ChoseOption},
		{"funnel: completed", f.Completed, tl.ChoseAndEnded},
		{"PIN attempts", total(pins, func(d store.PINSecurityDay) int64 { return d.Attempts }), tl.PINs},
		{"locked calls", total(pins, func(d store.PINSecurityDay) int64 { return d.LockedCalls }), tl.Locked},
		{"menu choices", total(opts, func(o store.MenuOptionCount) int64 { return o.Chosen }), tl.MenuChoices},
		{"survey answers", total(answers, func(a store.SurveyAnswerCount) int64 { return a.Answers }), tl.SurveyAnswers},
		{"recordings", total(recs, func(r store.RecordingsDay) int64 { return r.Recordings }), tl.Recordings},
		{"recorded milliseconds", total(recs, func(r store.RecordingsDay) int64 { return r.TotalMS }), tl.RecordedMS},
		{"recordings cut by hangup", total(recs, func(r store.RecordingsDay) int64 { return r.CutByHangup }), tl.CutByHangup},
		{"messages deleted", total(recs, func(r store.RecordingsDay) int64 { return r.Deleted }), tl.Deleted},
		{"hangups", total(hangups, func(h store.HangupPoint) int64 { return h.Hangups }), tl.Hangups},
		{"journal: calls", sum.Journal.Calls, int64(small.Calls)},
		{"journal: PIN attempts", sum.Journal.PINAttempts, tl.PINs},
		{"journal: recordings", sum.Journal.Recordings, tl.Recordings},
	} {
		if c.got != c.want {
			t.Errorf("%s: the reports say %d, the callers %d", c.what, c.got, c.want)
		}
	}
	versions := map[int32]int64{}
	for _, o := range opts {
		versions[o.Version] += o.Chosen
	}
	if len(versions) != len(plan.Menus) {
		t.Errorf("choices of menu versions %v, want all %d versions", versions, len(plan.Menus))
	}

	// Each day's choices are of the versions live that day: the one live at
	// its start and those that went live during it.
	for d := range small.Days {
		day := from.AddDate(0, 0, d)
		for _, o := range must(db.ReportMenuOptions(ctx, day, day))(t) {
			v := plan.Menus[o.Version-1]
			if !v.Live.Before(day.AddDate(0, 0, 1)) {
				t.Errorf("%s: version %d chosen %d times, live only from %s", day.Format(time.DateOnly), o.Version, o.Chosen, v.Live)
			}
			if int(o.Version) < len(plan.Menus) && !plan.Menus[o.Version].Live.After(day) {
				t.Errorf("%s: version %d chosen %d times, replaced at %s", day.Format(time.DateOnly), o.Version, o.Chosen, plan.Menus[o.Version].Live)
			}
		}
	}
}

// TestSameSeedSameTraffic generates twice with one seed: the plans, the
// scripts, what the callers did and every report are the same; another seed
// makes other scripts.
func TestSameSeedSameTraffic(t *testing.T) {
	t.Parallel()
	opt := small
	opt.Calls = 1200
	now := time.Now()
	a, b := datagen.NewPlan(opt, now), datagen.NewPlan(opt, now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of the same options differ")
	}
	for n := range a.Starts {
		if sa, sb := a.Script(n), b.Script(n); !reflect.DeepEqual(sa, sb) {
			t.Fatalf("script %d differs:\n%+v\n%+v", n, sa, sb)
		}
	}
	other := opt
	other.Seed++
	c := datagen.NewPlan(other, now)
	same := 0
	for n := range min(len(a.Starts), len(c.Starts)) {
		if reflect.DeepEqual(a.Script(n), c.Script(n)) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("another seed made %d of the same scripts", same)
	}

	var reports [2]string
	var tallies [2]datagen.Tally
	for i := range reports {
		db, sum := generate(t, opt)
		tallies[i] = sum.Tally
		reports[i] = allReports(t, db, opt.Start, opt.Start.AddDate(0, 0, opt.Days-1))
	}
	if tallies[0] != tallies[1] {
		t.Errorf("the callers did different things:\n%+v\n%+v", tallies[0], tallies[1])
	}
	if reports[0] != reports[1] {
		t.Errorf("the reports differ:\n%s\n%s", reports[0], reports[1])
	}
}

// must returns v, and makes the test fail at once when err is not nil:
// must(f())(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// total sums f over rows.
func total[R any](rows []R, f func(R) int64) int64 {
	var n int64
	for _, r := range rows {
		n += f(r)
	}
	return n
}

// allReports returns every report over the days from to, printed.
func allReports(t *testing.T, db *store.DB, from, to time.Time) string {
	t.Helper()
	ctx := context.Background()
	var out string
	add := func(v any, err error) {
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%+v\n", v)
	}
	add(db.ReportCallsByHour(ctx, from, to))
	add(db.ReportFunnel(ctx, from, to))
	add(db.ReportMenuOptions(ctx, from, to))
	add(db.ReportInputQuality(ctx, from, to))
	add(db.ReportHangups(ctx, from, to))
	add(db.ReportSurveyResults(ctx, from, to))
	add(db.ReportPINSecurity(ctx, from, to))
	add(db.ReportRecordings(ctx, from, to))
	add(db.ReportCallerActivity(ctx, from, to, 1000))
	return out
}
