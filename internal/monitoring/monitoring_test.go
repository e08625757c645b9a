package monitoring_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ivrhq/ivr/internal/monitoring"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A target takes its panel's data source unless it names its own, and the
// panels of a collapsed row are read too.
func TestDashboardQueries(t *testing.T) {
	path := writeFile(t, "d.json", `{"panels": [
		{"title": "live", "datasource": {"uid": "prom"}, "targets": [{"expr": "up"}, {"datasource": {"uid": "pg"}, "rawSql": "SELECT 1", "format": "table"}]},
		{"type": "row", "title": "more", "panels": [
			{"title": "inner", "datasource": {"uid": "pg"}, "targets": [{"rawSql": "SELECT now() AS time", "format": "time_series"}]}
		]}
	]}`)
	got, err := monitoring.DashboardQueries(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []monitoring.Query{
		{Panel: "live", Datasource: "prom", Expr: "up"},
		{Panel: "live", Datasource: "pg", SQL: "SELECT 1", Format: "table"},
		{Panel: "inner", Datasource: "pg", SQL: "SELECT now() AS time", Format: "time_series"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DashboardQueries =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := monitoring.DashboardQueries(writeFile(t, "bad.json", `{"panels": [`)); err == nil {
		t.Error("a malformed dashboard read without an error")
	}
}

// Alerting rules come with their whole expression, a block scalar too;
// recording rules are left out.
func TestAlertRules(t *testing.T) {
	path := writeFile(t, "r.yml", `groups:
  - name: a
    rules:
      - record: job:up:sum
        expr: sum(up)
      - alert: Down
        expr: up == 0
        for: 1m
  - name: b
    rules:
      - alert: Slow
        expr: |
          histogram_quantile(0.99, rate(x_bucket[5m]))
            > 0.25
`)
	got, err := monitoring.AlertRules(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []monitoring.Alert{
		{Name: "Down", Expr: "up == 0"},
		{Name: "Slow", Expr: "histogram_quantile(0.99, rate(x_bucket[5m]))\n  > 0.25\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AlertRules =\n%q\nwant\n%q", got, want)
	}
}

// Every query of the shipped dashboard names a data source the shipped
// provisioning file makes, and is a query of that data source's kind:
// PromQL for Prometheus, SQL for PostgreSQL.
func TestDashboardUsesTheProvisionedDatasources(t *testing.T) {
	sources, err := monitoring.Datasources("../../" + monitoring.DatasourcesFile)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, s := range sources {
		types[s.UID] = s.Type
	}
	queries, err := monitoring.DashboardQueries("../../" + monitoring.DashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, q := range queries {
		typ, ok := types[q.Datasource]
		switch {
		case !ok:
			t.Errorf("panel %q: data source %q is not provisioned", q.Panel, q.Datasource)
		case typ == monitoring.PrometheusType && (q.Expr == "" || q.SQL != ""):
			t.Errorf("panel %q: a Prometheus query without PromQL", q.Panel)
		case typ == monitoring.PostgresType && (q.SQL == "" || q.Expr != ""):
			t.Errorf("panel %q: a PostgreSQL query without SQL", q.Panel)
		case typ != monitoring.PrometheusType && typ != monitoring.PostgresType:
			t.Errorf("panel %q: data source %q of type %q", q.Panel, q.Datasource, typ)
		}
		kinds[typ]++
	}
	if kinds[monitoring.PrometheusType] == 0 || kinds[monitoring.PostgresType] == 0 {
		t.Errorf("queries by data source type: %v; want both Prometheus and PostgreSQL", kinds)
	}
}
