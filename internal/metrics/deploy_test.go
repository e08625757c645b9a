package metrics_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/monitoring"
)

// metricName finds the server's metric names in PromQL.
var metricName = regexp.MustCompile(`\bivr_[a-z_]+\b`)

// alertRules returns the alert rules shipped in deploy/prometheus.
func alertRules(t *testing.T) []monitoring.Alert {
	t.Helper()
	rules, err := monitoring.AlertRules("../../" + monitoring.AlertsFile)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// registeredNames returns the names of every metric of the server, with the
// series names of its histograms.
func registeredNames() map[string]bool {
	names := map[string]bool{}
	for _, n := range serverMetrics().names() {
		names[n] = true
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			names[n+suffix] = true
		}
	}
	return names
}

// The dashboard and the alert rules query only metrics the server registers:
// a misspelt name would show an empty panel or an alert that never fires.
func TestDashboardAndAlertsUseRegisteredMetrics(t *testing.T) {
	registered := registeredNames()
	queries, err := monitoring.DashboardQueries("../../" + monitoring.DashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	rules := alertRules(t)
	check := func(where, expr string) {
		for _, name := range metricName.FindAllString(expr, -1) {
			if !registered[name] {
				t.Errorf("%s uses %s, which the server does not register", where, name)
			}
		}
	}
	exprs := 0
	for _, q := range queries {
		if q.Expr != "" {
			exprs++
			check(fmt.Sprintf("dashboard panel %q", q.Panel), q.Expr)
		}
	}
	for _, r := range rules {
		if r.Expr == "" {
			t.Errorf("alert %s has no expression", r.Name)
		}
		check("alert "+r.Name, r.Expr)
	}
	if exprs == 0 || len(rules) == 0 {
		t.Errorf("%d dashboard expressions, %d alert rules: the files were not read", exprs, len(rules))
	}
}

// Every alert rule has its section in docs/operations.md, saying what it
// means and what to do.
func TestOperationsDocExplainsEveryAlert(t *testing.T) {
	data, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range alertRules(t) {
		if !strings.Contains(string(data), "#### "+r.Name+"\n") {
			t.Errorf("docs/operations.md has no section #### %s", r.Name)
		}
	}
}
