package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

// BenchmarkReports runs every report over its last day, 30 days and 365 days
// on the database IVR_BENCH_DATABASE_URL names (filled by `ivr gen-data`,
// docs/reporting.md), up to the day IVR_BENCH_TO (YYYY-MM-DD, default
// yesterday). It reads the database and changes nothing: roll it up first
// (`ivr maintain`) to measure the reports through the daily summaries. The
// 1d-live runs read the last day from the views even when it is rolled up,
// as a report of today does. callers returns its 50 most active callers,
// as `ivr report callers` does by default.
func BenchmarkReports(b *testing.B) {
	url := os.Getenv("IVR_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("IVR_BENCH_DATABASE_URL names no database filled by ivr gen-data")
	}
	to := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	if s := os.Getenv("IVR_BENCH_TO"); s != "" {
		var err error
		if to, err = time.Parse(time.DateOnly, s); err != nil {
			b.Fatalf("IVR_BENCH_TO: %v", err)
		}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	live, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer live.Close()
	store.SetLiveReports(live, true)
	for _, d := range []*store.DB{db, live} { // connect before measuring
		if _, err := d.ReportFunnel(ctx, to, to); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range reportRuns {
		if r.name == "callers" {
			r.run = func(ctx context.Context, db *store.DB, from, to time.Time) (any, error) {
				return db.ReportCallerActivity(ctx, from, to, 50)
			}
		}
		for _, c := range []struct {
			name string
			days int
			db   *store.DB
		}{{"1d", 1, db}, {"1d-live", 1, live}, {"30d", 30, db}, {"365d", 365, db}} {
			b.Run(r.name+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := r.run(ctx, c.db, to.AddDate(0, 0, 1-c.days), to); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestRollUpsMatchOnBenchDatabase compares every report read through the
// summaries with the same report read from the views alone, over the ranges
// BenchmarkReports measures, on the database IVR_BENCH_DATABASE_URL names
// (rolled up by `ivr maintain`): TestRollUpReportsMatchTheViews at the scale
// of the benchmark.
func TestRollUpsMatchOnBenchDatabase(t *testing.T) {
	url := os.Getenv("IVR_BENCH_DATABASE_URL")
	if url == "" {
		t.Skip("IVR_BENCH_DATABASE_URL names no database filled by ivr gen-data")
	}
	to, err := time.Parse(time.DateOnly, os.Getenv("IVR_BENCH_TO"))
	if err != nil {
		t.Fatalf("IVR_BENCH_TO: %v", err)
	}
	db, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, n := range []int{1, 30, 365} {
		if differ := compareReports(t, db, to.AddDate(0, 0, 1-n), to); len(differ) > 0 {
			t.Errorf("%d days to %s: %v differ between the summaries and the views", n, to.Format(time.DateOnly), differ)
		}
	}
}
