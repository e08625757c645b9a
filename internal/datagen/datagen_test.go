package datagen_test

import (
	"context"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestWriteMakesConsistentTraffic generates a few thousand calls and checks
// what the reports rely on: every call closed, one hangup step per hung-up
// call, secret input stored without digits, every menu response tied to the
// version the call heard, and the same seed giving the same data.
func TestWriteMakesConsistentTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opt := datagen.Options{Calls: 3000, Days: 10, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Seed: 7}
	var sums [2]datagen.Summary
	var fingerprints [2]string
	for i := range sums {
		pool := testdb.New(t)
		progressed := 0
		sum, err := datagen.Write(ctx, pool, opt, func(n int) { progressed += n })
		if err != nil {
			t.Fatal(err)
		}
		if progressed != opt.Calls || sum.Calls != int64(opt.Calls) {
			t.Fatalf("progress %d, summary %d calls; want %d", progressed, sum.Calls, opt.Calls)
		}
		sums[i] = sum
		checks := []struct {
			what string
			sql  string
		}{
			{"open calls", `SELECT count(*) FROM calls WHERE ended_at IS NULL`},
			{"calls outside the days", `SELECT count(*) FROM calls WHERE started_at < '2026-03-01' OR started_at >= '2026-03-11'`},
			{"hung-up calls without one hangup step", `SELECT count(*) FROM calls c WHERE (c.end_reason = 'hangup') <>
				((SELECT count(*) FROM call_steps s WHERE s.call_id = c.id AND s.kind = 'hangup') = 1)`},
			{"secret steps with digits", `SELECT count(*) FROM call_steps WHERE secret AND digits IS NOT NULL`},
			{"menu responses of another version than the call's", `SELECT count(*) FROM responses r JOIN calls c ON c.id = r.call_id
				WHERE r.menu_version_id IS NOT NULL AND r.menu_version_id <> c.menu_version_id`},
			{"authenticated calls without a successful PIN", `SELECT count(*) FROM calls c WHERE c.authenticated AND NOT EXISTS
				(SELECT 1 FROM pin_attempts p WHERE p.call_id = c.id AND p.success)`},
		}
		for _, c := range checks {
			var n int
			if err := pool.QueryRow(ctx, c.sql).Scan(&n); err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			if n != 0 {
				t.Errorf("%s: %d", c.what, n)
			}
		}
		var kinds int
		if err := pool.QueryRow(ctx, `SELECT count(DISTINCT end_reason) FROM calls`).Scan(&kinds); err != nil {
			t.Fatal(err)
		}
		if kinds < 5 {
			t.Errorf("calls end in %d ways, want completed, hangup, transferred, auth_failed and locked_out", kinds)
		}
		if err := pool.QueryRow(ctx, `SELECT md5(string_agg(uniqueid || end_reason || coalesce(caller_id::text, '-'), ',' ORDER BY id)) FROM calls`).Scan(&fingerprints[i]); err != nil {
			t.Fatal(err)
		}
	}
	a, b := sums[0], sums[1]
	a.Elapsed, b.Elapsed = 0, 0
	if a != b || fingerprints[0] != fingerprints[1] {
		t.Errorf("the same seed made different data: %+v / %+v", a, b)
	}
}
