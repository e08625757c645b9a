package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

// BenchmarkReports runs every report over its last day, 30 days and 365 days
// on the database IVR_BENCH_DATABASE_URL names (filled by `ivr gen-data`,
// docs/reporting.md), up to the day IVR_BENCH_TO (YYYY-MM-DD, default
// yesterday). It reads the database and changes nothing: roll it up first
// (`ivr maintain`) to measure the reports through the daily summaries.
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
	for _, r := range reportRuns {
		for _, n := range []int{1, 30, 365} {
			b.Run(fmt.Sprintf("%s/%dd", r.name, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := r.run(ctx, db, to.AddDate(0, 0, 1-n), to); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
