// Package monitoring reads the monitoring files shipped in deploy/: the
// queries of the Grafana dashboard and the alert rules of Prometheus. The
// tests that hold them to the database schema (cmd/ivr), to the metrics the
// server registers and to the operations guide (internal/metrics) read them
// through it.
//
//	qs, err := monitoring.DashboardQueries("../../" + monitoring.DashboardFile)
package monitoring

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
)

// The monitoring files, relative to the root of the repository.
const (
	DashboardFile   = "deploy/grafana/dashboards/ivr.json"
	DatasourcesFile = "deploy/grafana/provisioning/datasources/ivr.yml"
	AlertsFile      = "deploy/prometheus/alerts.yml"
)

// Types of the Grafana data sources the dashboard uses.
const (
	PrometheusType = "prometheus"
	PostgresType   = "grafana-postgresql-datasource"
)

// Query is one query of a dashboard panel.
type Query struct {
	Panel      string // the panel's title
	Datasource string // the uid of its data source: the target's, else the panel's
	Expr       string // the PromQL of a Prometheus target, else ""
	SQL        string // the rawSql of an SQL target, else ""
	Format     string // the result format of an SQL target: "time_series" or "table"
}

// panel is what DashboardQueries reads of a Grafana panel; a row holds its
// panels when collapsed.
type panel struct {
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		Datasource *datasource `json:"datasource"`
		Expr       string      `json:"expr"`
		RawSQL     string      `json:"rawSql"`
		Format     string      `json:"format"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type datasource struct {
	UID string `json:"uid"`
}

// DashboardQueries returns every query of the panels of the Grafana
// dashboard file at path, those of the panels inside rows included, in the
// order of the file.
func DashboardQueries(path string) ([]Query, error) {
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := decode(path, json.Unmarshal, &d); err != nil {
		return nil, err
	}
	var qs []Query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				ds := p.Datasource
				if t.Datasource != nil {
					ds = t.Datasource
				}
				q := Query{Panel: p.Title, Expr: t.Expr, SQL: t.RawSQL, Format: t.Format}
				if ds != nil {
					q.Datasource = ds.UID
				}
				qs = append(qs, q)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return qs, nil
}

// Alert is one alerting rule.
type Alert struct {
	Name string
	Expr string // its PromQL
}

// AlertRules returns the alerting rules of the Prometheus rule file at path,
// group by group in the order of the file; recording rules are left out.
func AlertRules(path string) ([]Alert, error) {
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := decode(path, yaml.Unmarshal, &f); err != nil {
		return nil, err
	}
	var alerts []Alert
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, Alert{Name: r.Alert, Expr: r.Expr})
			}
		}
	}
	return alerts, nil
}

// Datasource is a data source Grafana provisions.
type Datasource struct {
	Name string `yaml:"name"`
	UID  string `yaml:"uid"`
	Type string `yaml:"type"` // PrometheusType, PostgresType ...
}

// Datasources returns the data sources of the Grafana provisioning file at
// path.
func Datasources(path string) ([]Datasource, error) {
	var f struct {
		Datasources []Datasource `yaml:"datasources"`
	}
	if err := decode(path, yaml.Unmarshal, &f); err != nil {
		return nil, err
	}
	return f.Datasources, nil
}

// decode reads the file at path into v with unmarshal.
func decode(path string, unmarshal func([]byte, any) error, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
