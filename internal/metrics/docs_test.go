package metrics_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivrhq/ivr/internal/metrics"
)

// describer is a Registerer that keeps what is registered on it.
type describer struct{ collectors []prometheus.Collector }

func (d *describer) Register(c prometheus.Collector) error {
	d.collectors = append(d.collectors, c)
	return nil
}

func (d *describer) MustRegister(cs ...prometheus.Collector) {
	d.collectors = append(d.collectors, cs...)
}

func (d *describer) Unregister(prometheus.Collector) bool { return false }

// serverMetrics returns a describer holding every metric ivr serve registers.
func serverMetrics() *describer {
	d := &describer{}
	metrics.New(d)
	metrics.RegisterDB(d, func() metrics.DBStats { return metrics.DBStats{} })
	metrics.RegisterCallerCache(d, func() metrics.CacheStats { return metrics.CacheStats{} })
	metrics.RegisterCatalogCache(d, func() metrics.CacheStats { return metrics.CacheStats{} })
	metrics.RegisterRecovery(d, func() metrics.RecoveryStats { return metrics.RecoveryStats{} })
	return d
}

// fqName finds the name of a metric in the text of its description.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// names returns the names of every metric registered on d.
func (d *describer) names() []string {
	ch := make(chan *prometheus.Desc, 100)
	go func() {
		for _, c := range d.collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for desc := range ch {
		names = append(names, fqName.FindStringSubmatch(desc.String())[1])
	}
	return names
}

// documented returns the metric names of the table of docs/operations.md:
// full names, names ending in * that stand for every name they start, and
// names starting with _ that stand for the first name of their row with as
// many trailing words replaced.
func documented(t *testing.T) (exact map[string]bool, prefixes []string) {
	t.Helper()
	data, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	exact = map[string]bool{}
	code := regexp.MustCompile("`([a-z_*]+)`")
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.HasPrefix(line, "| `ivr_") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		var row string
		for _, m := range code.FindAllStringSubmatch(first, -1) {
			name := m[1]
			switch {
			case strings.HasSuffix(name, "*"):
				prefixes = append(prefixes, strings.TrimSuffix(name, "*"))
				continue
			case strings.HasPrefix(name, "_") && row != "":
				words := strings.Split(row, "_")
				name = strings.Join(words[:len(words)-strings.Count(name, "_")], "_") + name
			default:
				row = name
			}
			exact[name] = true
		}
	}
	return exact, prefixes
}

// Every metric the server registers is in the table of docs/operations.md,
// and every metric of the table is one the server registers.
func TestOperationsDocListsEveryMetric(t *testing.T) {
	d := serverMetrics()
	exact, prefixes := documented(t)
	registered := map[string]bool{}
	for _, name := range d.names() {
		registered[name] = true
		covered := exact[name]
		for _, p := range prefixes {
			covered = covered || strings.HasPrefix(name, p)
		}
		if !covered {
			t.Errorf("%s is not in the metrics table of docs/operations.md", name)
		}
	}
	for name := range exact {
		if !registered[name] {
			t.Errorf("docs/operations.md lists %s, which the server does not register", name)
		}
	}
}
