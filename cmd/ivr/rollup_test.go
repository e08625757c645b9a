package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// ivr maintain rolls up the past days of generated calls once, showing each
// day, and the reports say the same before and after.
func TestMaintainRollsUpThePastDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -6)
	generateCalls(t, url, datagen.Options{Calls: 1500, Days: 6, Start: start, Seed: 3})
	vars := map[string]string{"DATABASE_URL": url}
	reports := func() map[string]string {
		out := map[string]string{}
		for _, r := range reports() {
			stdout, stderr, code := runArgs(vars, "report", r.name, "--from", start.Format(time.DateOnly),
				"--to", today.Format(time.DateOnly), "--format", "csv", "--limit", "100000")
			if code != 0 {
				t.Fatalf("report %s: %s", r.name, stderr)
			}
			out[r.name] = stdout
		}
		return out
	}
	before := reports()

	stdout, stderr, code := runArgs(vars, "maintain")
	if code != 0 {
		t.Fatalf("maintain: exit %d: %s", code, stderr)
	}
	// Days up to the day before yesterday are complete whatever the time of day.
	for n := range 5 {
		day := start.AddDate(0, 0, n).Format(time.DateOnly)
		if !strings.Contains(stdout, fmt.Sprintf("rolled up %s (", day)) {
			t.Errorf("maintain does not show rolling up %s:\n%s", day, stdout)
		}
	}
	var rolled int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rollup_days").Scan(&rolled); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("rolled up %d days in ", rolled); rolled < 5 || !strings.Contains(stdout, want) {
		t.Errorf("%d days in rollup_days; maintain says:\n%s", rolled, stdout)
	}

	after := reports()
	for name, want := range before {
		if after[name] != want {
			t.Errorf("report %s after ivr maintain:\n%s\nbefore:\n%s", name, after[name], want)
		}
	}

	stdout, stderr, code = runArgs(vars, "maintain")
	if code != 0 || !strings.Contains(stdout, "journal partitions already there") || !strings.Contains(stdout, "\nrolled up 0 days in ") {
		t.Errorf("second maintain: exit %d, %s%s", code, stdout, stderr)
	}
}

// generateCalls plays the generated calls of opt into the database at url
// through the flows (see internal/datagen).
func generateCalls(t *testing.T, url string, opt datagen.Options) {
	t.Helper()
	db, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := datagen.Generate(t.Context(), db, opt, nil); err != nil {
		t.Fatal(err)
	}
}
