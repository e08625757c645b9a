package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// rollupStart is the first day of the generated traffic of the rollup tests.
var rollupStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// rollupDay returns day n of the generated traffic.
func rollupDay(n int) time.Time { return rollupStart.AddDate(0, 0, n) }

// generate fills the database at url with calls over days days from
// rollupStart and returns a pool on it for the checks that need plain SQL.
func generate(t *testing.T, url string, calls, days int) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := datagen.Generate(ctx, db, datagen.Options{Calls: calls, Days: days, Start: rollupStart, Seed: 12}, nil); err != nil {
		t.Fatal(err)
	}
	return pool
}

// reportRun is one report method over a range, its rows as any.
type reportRun func(ctx context.Context, db *store.DB, from, to time.Time) (any, error)

// ranged adapts a report method to a reportRun.
func ranged[T any](method func(*store.DB, context.Context, time.Time, time.Time) (T, error)) reportRun {
	return func(ctx context.Context, db *store.DB, from, to time.Time) (any, error) {
		return method(db, ctx, from, to)
	}
}

// reportRuns runs each report over a range, by name.
var reportRuns = []struct {
	name string
	run  reportRun
}{
	{"calls", ranged((*store.DB).ReportCallsByHour)},
	{"funnel", ranged((*store.DB).ReportFunnel)},
	{"options", ranged((*store.DB).ReportMenuOptions)},
	{"inputs", ranged((*store.DB).ReportInputQuality)},
	{"hangups", ranged((*store.DB).ReportHangups)},
	{"surveys", ranged((*store.DB).ReportSurveyResults)},
	{"pins", ranged((*store.DB).ReportPINSecurity)},
	{"recordings", ranged((*store.DB).ReportRecordings)},
	{"callers", func(ctx context.Context, db *store.DB, from, to time.Time) (any, error) {
		return db.ReportCallerActivity(ctx, from, to, 1_000_000)
	}},
}

// allReports runs every report over from..to and returns their rows by name.
func allReports(t *testing.T, db *store.DB, from, to time.Time) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, r := range reportRuns {
		v, err := r.run(context.Background(), db, from, to)
		if err != nil {
			t.Fatalf("%s %s..%s: %v", r.name, from.Format(time.DateOnly), to.Format(time.DateOnly), err)
		}
		out[r.name] = v
	}
	return out
}

// compareReports checks that every report over from..to has the same rows
// read through the daily summaries as read from the views alone, and that
// the range is not empty (an empty report would match trivially). It returns
// the names of the reports that differ.
func compareReports(t *testing.T, db *store.DB, from, to time.Time) []string {
	t.Helper()
	store.SetLiveReports(db, true)
	live := allReports(t, db, from, to)
	store.SetLiveReports(db, false)
	rolled := allReports(t, db, from, to)
	if f := live["funnel"].(store.Funnel); f.Calls == 0 {
		t.Fatalf("%s..%s: the range has no calls", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	var differ []string
	for name, want := range live {
		if got := rolled[name]; !reflect.DeepEqual(got, want) {
			differ = append(differ, name)
			t.Logf("%s %s..%s through the summaries:\n%+v\nfrom the views:\n%+v", name,
				from.Format(time.DateOnly), to.Format(time.DateOnly), got, want)
		}
	}
	slices.Sort(differ)
	return differ
}

// days lists the days of ds as YYYY-MM-DD.
func days(ds []time.Time) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Format(time.DateOnly)
	}
	return out
}

func TestRollUpReportsMatchTheViews(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	pool := generate(t, url, 6000, 10)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)

	// A call of day 3 left open: day 3 waits for it.
	if _, err := db.StartCall(ctx, ivr.Call{UniqueID: "1767000000.1", Route: "ivr", StartedAt: rollupDay(3).Add(10 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// Days 0 to 6 are complete 7 hours after the end of day 6, except day 3.
	res, err := db.RollUp(ctx, store.RollUpOptions{Now: rollupDay(7).Add(7 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var rolled []time.Time
	for _, d := range res.Rolled {
		rolled = append(rolled, d.Day)
		if d.Rows == 0 && !d.Day.Before(rollupStart) {
			t.Errorf("%s rolled up with no rows", d.Day.Format(time.DateOnly))
		}
	}
	// Days are rolled up from the first of the month of the first call on.
	want := []time.Time{rollupDay(-4), rollupDay(-3), rollupDay(-2), rollupDay(-1),
		rollupDay(0), rollupDay(1), rollupDay(2), rollupDay(4), rollupDay(5), rollupDay(6)}
	if !reflect.DeepEqual(days(rolled), days(want)) || !reflect.DeepEqual(days(res.Waiting), days([]time.Time{rollupDay(3)})) {
		t.Fatalf("rolled up %v waiting %v, want %v waiting [%s]", days(rolled), days(res.Waiting), days(want),
			rollupDay(3).Format(time.DateOnly))
	}

	// One hour later nothing is new: a second run does nothing.
	again, err := db.RollUp(ctx, store.RollUpOptions{Now: rollupDay(7).Add(8 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Rolled) != 0 || len(again.Skipped) != 0 {
		t.Fatalf("second run rolled up %d days, skipped %d, want none", len(again.Rolled), len(again.Skipped))
	}

	ranges := [][2]int{
		{1, 1},   // one rolled-up day
		{8, 8},   // one live day
		{2, 4},   // rolled-up days around a waiting one
		{4, 9},   // across the boundary of rolled-up and live days
		{-2, 11}, // the whole traffic and more
		{-4, 30}, // January read as a month, and the days after
	}
	check := func(stage string) {
		t.Helper()
		for _, r := range ranges {
			if differ := compareReports(t, db, rollupDay(r[0]), rollupDay(r[1])); len(differ) > 0 {
				t.Errorf("%s: days %d..%d: %v differ between the summaries and the views", stage, r[0], r[1], differ)
			}
		}
	}
	check("after the first roll-up")

	// Recordings deleted after their day was rolled up still count as deleted.
	n, err := pool.Exec(ctx, "UPDATE recordings SET deleted_at = now() WHERE id % 3 = 0")
	if err != nil || n.RowsAffected() == 0 {
		t.Fatalf("delete recordings: %v (%d rows)", err, n.RowsAffected())
	}
	check("after deleting recordings")

	// The sweep closes the open call; two instances rolling up at once roll
	// each remaining day up once between them.
	if _, err := db.SweepLostCalls(ctx, rollupDay(4)); err != nil {
		t.Fatal(err)
	}
	db2, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db2.Close)
	var wg sync.WaitGroup
	results := make([]store.RollUpResult, 2)
	errs := make([]error, 2)
	for i, d := range []*store.DB{db, db2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = d.RollUp(ctx, store.RollUpOptions{Now: rollupDay(30)})
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, d := range r.Rolled {
			seen[d.Day.Format(time.DateOnly)]++
		}
	}
	// Day 28 is the last to have ended 6 hours before day 30; the days after
	// the traffic are complete days too, with nothing to sum.
	want = []time.Time{rollupDay(3)}
	for n := 7; n <= 28; n++ {
		want = append(want, rollupDay(n))
	}
	for _, d := range want {
		if n := seen[d.Format(time.DateOnly)]; n != 1 {
			t.Errorf("%s rolled up %d times by two instances, want once", d.Format(time.DateOnly), n)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("two instances rolled up %d days, want %d", len(seen), len(want))
	}
	if months := append(results[0].Months, results[1].Months...); len(months) != 1 || !months[0].Equal(rollupDay(-4)) {
		t.Errorf("two instances rolled up the months %v, want January once", days(months))
	}
	check("after rolling up every day")

	// The comparison sees a daily or monthly summary that disagrees with the
	// journal.
	if _, err := pool.Exec(ctx, "UPDATE rollup_input_quality SET attempts = attempts + 1 WHERE day = $1 AND input = 'pin'",
		rollupDay(1)); err != nil {
		t.Fatal(err)
	}
	if differ := compareReports(t, db, rollupDay(0), rollupDay(2)); fmt.Sprint(differ) != "[inputs]" {
		t.Errorf("with a changed summary of inputs the reports that differ are %v, want [inputs]", differ)
	}
	if _, err := pool.Exec(ctx, "UPDATE rollup_caller_activity_month SET calls = calls + 1"); err != nil {
		t.Fatal(err)
	}
	if differ := compareReports(t, db, rollupDay(-4), rollupDay(30)); fmt.Sprint(differ) != "[callers inputs]" {
		t.Errorf("with changed summaries of inputs and callers' months the reports that differ are %v, want [callers inputs]", differ)
	}
}
