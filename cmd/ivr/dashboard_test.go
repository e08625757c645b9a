package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/monitoring"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// The Grafana dashboard of deploy/grafana reads the report views that `ivr
// report` prints, so its SQL is tested here, next to the reports, against the
// same migrated schema.

// dashboardSQL returns every query of the dashboard's panels that runs on a
// PostgreSQL data source.
func dashboardSQL(t *testing.T) []monitoring.Query {
	t.Helper()
	sources, err := monitoring.Datasources("../../" + monitoring.DatasourcesFile)
	if err != nil {
		t.Fatal(err)
	}
	postgres := map[string]bool{}
	for _, s := range sources {
		postgres[s.UID] = s.Type == monitoring.PostgresType
	}
	qs, err := monitoring.DashboardQueries("../../" + monitoring.DashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []monitoring.Query
	for _, q := range qs {
		if postgres[q.Datasource] {
			out = append(out, q)
		}
	}
	return out
}

// grafanaMacro finds the macros of Grafana's SQL data sources: $__name(args).
var grafanaMacro = regexp.MustCompile(`\$__(\w+)\(([^)]*)\)`)

// expandGrafanaMacros returns sql as Grafana's PostgreSQL data source sends it
// for the time range from-to, for the macros the dashboard uses; any other
// macro or template variable is an error, so a panel cannot use one this test
// does not run. The substitutions are Grafana's (pkg/tsdb/grafana-postgresql-
// datasource/macros.go), times in UTC as RFC 3339 with nanoseconds:
//
//	$__timeFilter(col)  col BETWEEN '2026-03-01T00:00:00Z' AND '2026-03-08T00:00:00Z'
//	$__timeFrom()       '2026-03-01T00:00:00Z'
//	$__timeTo()         '2026-03-08T00:00:00Z'
//
// On a date column such as the views' day, PostgreSQL reads the two times as
// their dates, so the filter takes whole UTC days.
func expandGrafanaMacros(sql string, from, to time.Time) (string, error) {
	quote := func(t time.Time) string { return "'" + t.UTC().Format(time.RFC3339Nano) + "'" }
	var bad error
	out := grafanaMacro.ReplaceAllStringFunc(sql, func(m string) string {
		g := grafanaMacro.FindStringSubmatch(m)
		name, arg := g[1], strings.TrimSpace(g[2])
		switch {
		case name == "timeFilter" && arg != "" && !strings.Contains(arg, ","):
			return arg + " BETWEEN " + quote(from) + " AND " + quote(to)
		case name == "timeFrom" && arg == "":
			return quote(from)
		case name == "timeTo" && arg == "":
			return quote(to)
		}
		if bad == nil {
			bad = fmt.Errorf("macro %s is not one the test expands", m)
		}
		return m
	})
	if bad != nil {
		return "", bad
	}
	if i := strings.Index(out, "$"); i >= 0 {
		return "", fmt.Errorf("a macro or template variable the test does not expand: %q", out[i:min(len(out), i+30)])
	}
	return out, nil
}

func TestExpandGrafanaMacros(t *testing.T) {
	from := time.Date(2026, 3, 1, 6, 30, 0, 0, time.FixedZone("x", 3600))
	to := time.Date(2026, 3, 8, 0, 0, 0, 500, time.UTC)
	got, err := expandGrafanaMacros("WHERE $__timeFilter( day ) AND x > $__timeFrom() AND x < $__timeTo()", from, to)
	want := "WHERE day BETWEEN '2026-03-01T05:30:00Z' AND '2026-03-08T00:00:00.0000005Z' AND x > '2026-03-01T05:30:00Z' AND x < '2026-03-08T00:00:00.0000005Z'"
	if err != nil || got != want {
		t.Errorf("expandGrafanaMacros = %q, %v\nwant %q", got, err, want)
	}
	for _, sql := range []string{
		"SELECT $__timeGroup(at, '1h')",  // a macro the test does not expand
		"WHERE route = '$route'",         // a template variable
		"WHERE $__timeFilter(a, b)",      // a macro with arguments it does not take
		"SELECT 1 WHERE $__timeFilter()", // and without the one it needs
	} {
		if got, err := expandGrafanaMacros(sql, from, to); err == nil {
			t.Errorf("expandGrafanaMacros(%q) = %q, want an error", sql, got)
		}
	}
}

// Every SQL query of the dashboard runs on the migrated schema with a week of
// generated calls, over that week, and answers rows; a time series answers a
// time column whose values fall in the days asked for.
func TestDashboardSQLRunsOnTheSchema(t *testing.T) {
	t.Parallel()
	queries := dashboardSQL(t)
	if len(queries) == 0 {
		t.Fatalf("%s has no PostgreSQL queries", monitoring.DashboardFile)
	}
	ctx := context.Background()
	url := testdb.URL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	opt := datagen.Options{Calls: 2000, Days: 7, Start: start, Seed: 14, Lanes: 64}
	if _, err := datagen.Generate(ctx, db, opt, nil); err != nil {
		t.Fatal(err)
	}
	// The time range Grafana would send for "these 7 days", from mid-morning
	// of the first: the filter takes whole days.
	from, to := start.Add(9*time.Hour), start.AddDate(0, 0, opt.Days).Add(-time.Nanosecond)
	for _, q := range queries {
		sql, err := expandGrafanaMacros(q.SQL, from, to)
		if err != nil {
			t.Errorf("panel %q: %v", q.Panel, err)
			continue
		}
		rows, err := pool.Query(ctx, sql)
		if err != nil {
			t.Errorf("panel %q: %v\n%s", q.Panel, err, sql)
			continue
		}
		timeCol := -1
		for i, f := range rows.FieldDescriptions() {
			if f.Name == "time" {
				timeCol = i
			}
		}
		n := 0
		for rows.Next() {
			n++
			if timeCol < 0 {
				continue
			}
			vals, err := rows.Values()
			if err != nil {
				t.Errorf("panel %q: %v", q.Panel, err)
				break
			}
			at, ok := vals[timeCol].(time.Time)
			if !ok || at.Before(start) || !at.Before(start.AddDate(0, 0, opt.Days)) {
				t.Errorf("panel %q: time %v is not a time in the days asked for", q.Panel, vals[timeCol])
				timeCol = -1 // once per panel
			}
		}
		if err := rows.Err(); err != nil {
			t.Errorf("panel %q: %v\n%s", q.Panel, err, sql)
		}
		rows.Close()
		if q.Format == "time_series" && timeCol < 0 {
			t.Errorf("panel %q: a time series without a time column", q.Panel)
		}
		if n == 0 {
			t.Errorf("panel %q: no rows for a week of calls\n%s", q.Panel, sql)
		}
	}
}

// reportView finds the report views a query reads.
var reportView = regexp.MustCompile(`\breport_[a-z_]+\b`)

// The role docs/operations.md has Grafana use may read every report view the
// dashboard queries.
func TestOperationsDocGrantsTheDashboardViews(t *testing.T) {
	data, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	grant := regexp.MustCompile(`(?s)GRANT SELECT ON (.*?) TO grafana;`).FindSubmatch(data)
	if grant == nil {
		t.Fatal("docs/operations.md has no GRANT SELECT ON ... TO grafana;")
	}
	granted := map[string]bool{}
	for _, v := range reportView.FindAllString(string(grant[1]), -1) {
		granted[v] = true
	}
	for _, q := range dashboardSQL(t) {
		for _, v := range reportView.FindAllString(q.SQL, -1) {
			if !granted[v] {
				t.Errorf("panel %q reads %s, which the grant of docs/operations.md leaves out", q.Panel, v)
			}
		}
	}
}
