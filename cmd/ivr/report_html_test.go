package main

import (
	"context"
	"encoding/csv"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/testdb"
)

// hostile is what a caller's name or a menu label may hold: the page must show
// it as text and never run it.
const hostile = `<script>alert("pwned")</script> & <img src=x onerror=alert(1)>`

// The HTML page of all the reports, over two weeks of generated traffic: every
// bar stands for the number the CSV of the same report gives, names from the
// data are text, and, in a real browser, the charts are there and painted.
func TestReportPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	if out, err := runCLI(t, url, "gen-data", "--calls", "3000", "--days", "14", "--start", "2026-03-01", "--seed", "5", "--no-progress"); err != nil {
		t.Fatalf("gen-data: %v\n%s", err, out)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// Callers' names and menu labels come from people. A published menu
	// cannot change, so the guard is lifted for the one update that gives
	// the generated menus such labels.
	if _, err := pool.Exec(ctx, `UPDATE callers SET name = $1 || ' ' || account`, hostile); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE menu_options DISABLE TRIGGER menu_options_immutable`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE menu_options SET label = $1 || ' ' || label`, hostile); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE menu_options ENABLE TRIGGER menu_options_immutable`); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	span := []string{"--from", "2026-03-01", "--to", "2026-03-14", "--limit", "1000"}
	page, err := runCLI(t, url, append([]string{"report", "all", "--format", "html"}, span...)...)
	if err != nil {
		t.Fatalf("report all --format html: %v\n%s", err, page)
	}
	want := map[string][]pageBar{}
	var dayCalls []pageBar
	cells := strings.ReplaceAll(page, `<td class="num">`, "<td>")
	q := reportQuery{from: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)}
	for _, d := range reports() {
		got, err := runCLI(t, url, append([]string{"report", d.name, "--format", "csv"}, span...)...)
		if err != nil {
			t.Fatalf("report %s --format csv: %v\n%s", d.name, err, got)
		}
		table, err := csv.NewReader(strings.NewReader(got)).ReadAll()
		if err != nil {
			t.Fatalf("report %s csv: %v", d.name, err)
		}
		if len(table) < 2 {
			t.Fatalf("report %s has no rows over two weeks of traffic:\n%s", d.name, got)
		}
		if d.name == "calls" {
			dayCalls = expectedBars(t, table, []string{"day"}, []string{"calls"}, []string{"route"})
		}
		if d.charts != nil {
			for _, c := range d.charts(q) {
				want[c.ID] = expectedBars(t, table, c.Label, c.Series, c.Split)
			}
		}
		// Each report's table is on the page, cell for cell.
		for _, row := range table[1:] {
			var tr strings.Builder
			for _, c := range row {
				tr.WriteString("<td>" + escaped(c) + "</td>")
			}
			if !strings.Contains(cells, "<tr>"+tr.String()+"</tr>") {
				t.Errorf("report %s: the page lacks the row %q", d.name, row)
				break
			}
		}
	}
	if len(want) != 8 {
		t.Fatalf("%d charts, want 8 (calls by day and by hour, funnel, options, inputs, hangups, surveys, pins)", len(want))
	}
	checkPage(t, page, want, dayCalls)
	// The names from the data are in the page, as text.
	if !strings.Contains(page, escaped(hostile)+" 1") || strings.Contains(page, "<script") || strings.Contains(page, "<img") {
		t.Errorf("the callers' names are not escaped")
	}

	t.Run("chromium", func(t *testing.T) {
		browser := findChromium(t)
		dir := t.TempDir()
		file := filepath.Join(dir, "report.html")
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := chromium(t, browser, dir, "--dump-dom", "file://"+file)
		checkPage(t, dom, want, dayCalls)
		for _, tag := range []string{"<script", "<img"} {
			if strings.Contains(dom, tag) {
				t.Errorf("the browser made a %s> element out of the data", tag)
			}
		}
		if !strings.Contains(dom, escaped(hostile)[:20]) {
			t.Errorf("the browser does not show the callers' names as text")
		}

		// The first chart, calls per day, is painted: its bars' colours fill
		// part of the window.
		shot := filepath.Join(dir, "report.png")
		chromium(t, browser, dir, "--hide-scrollbars", "--window-size=1000,1400", "--screenshot="+shot, "file://"+file)
		painted := countColor(t, shot, 0x00, 0x72, 0xB2) // completed, the first series
		if painted < 2000 {
			t.Errorf("%d pixels of the first series' colour in the screenshot, want the bars of the calls chart", painted)
		}
	})
}

// A page over a range without calls says so instead of drawing empty charts.
func TestReportPageEmpty(t *testing.T) {
	t.Parallel()
	url := reportFixture(t)
	page, err := runCLI(t, url, "report", "all", "--format", "html", "--from", "2025-01-01", "--to", "2025-01-31")
	if err != nil {
		t.Fatalf("%v\n%s", err, page)
	}
	if strings.Contains(page, "<svg") {
		t.Errorf("a chart is drawn over a month without calls")
	}
	for _, note := range []string{"No calls in this period.", "No calls to the IVR in this period.", "No menu choices in this period.",
		"No PIN failures or lockouts in this period.", "No recordings in this period.", "No known callers called in this period."} {
		if !strings.Contains(page, note) {
			t.Errorf("page lacks %q", note)
		}
	}

	// One report is a page of its own, whose bars are the fixture's numbers.
	page, err = runCLI(t, url, "report", "funnel", "--format", "HTML", "--from", "2026-03-02", "--to", "2026-03-03")
	if err != nil {
		t.Fatalf("%v\n%s", err, page)
	}
	var values []string
	for _, b := range pageBars(t, page) {
		values = append(values, strconv.FormatFloat(b.value, 'f', -1, 64))
	}
	if got := strings.Join(values, " "); got != "5 4 4 2 2 2" || !strings.Contains(page, "<title>IVR report: funnel</title>") ||
		!strings.Contains(page, "UTC days 2026-03-02 to 2026-03-03, both included.") {
		t.Errorf("funnel page: bars %s, want 5 4 4 2 2 2 under the title and the range:\n%s", got, page)
	}
}

// pageBar is a bar of a chart: its chart, split, name, series and number.
type pageBar struct {
	chart, group, label, series string
	value                       float64
}

var (
	svgElem  = regexp.MustCompile(`(?s)<svg [^>]*>.*?</svg>`)
	barElem  = regexp.MustCompile(`<rect class="bar" [^>]*>`)
	attrElem = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// pageBars reads the bars of every chart of a page or of a browser's DOM.
func pageBars(t *testing.T, page string) []pageBar {
	t.Helper()
	attrs := func(tag string) map[string]string {
		m := map[string]string{}
		for _, a := range attrElem.FindAllStringSubmatch(tag, -1) {
			m[a[1]] = html.UnescapeString(a[2])
		}
		return m
	}
	var bars []pageBar
	for _, svg := range svgElem.FindAllString(page, -1) {
		s := attrs(svg[:strings.Index(svg, ">")])
		for _, tag := range barElem.FindAllString(svg, -1) {
			a := attrs(tag)
			v, err := strconv.ParseFloat(a["data-value"], 64)
			if err != nil {
				t.Fatalf("bar %s: %v", tag, err)
			}
			bars = append(bars, pageBar{s["data-chart"], s["data-group"], a["data-label"], a["data-series"], v})
		}
	}
	return bars
}

// expectedBars sums the CSV table's series columns over the rows that share
// their split and label cells, in the order they first appear.
func expectedBars(t *testing.T, table [][]string, label, series, split []string) []pageBar {
	t.Helper()
	col := func(name string) int {
		i := slices.Index(table[0], name)
		if i < 0 {
			t.Fatalf("csv has no column %q: %v", name, table[0])
		}
		return i
	}
	var bars []pageBar
	for _, row := range table[1:] {
		var g, l []string
		for _, c := range split {
			g = append(g, c+" "+row[col(c)])
		}
		for _, c := range label {
			l = append(l, row[col(c)])
		}
		for _, s := range series {
			v, err := strconv.ParseFloat(row[col(s)], 64)
			if err != nil {
				t.Fatalf("csv %s: %v", s, err)
			}
			b := pageBar{group: strings.Join(g, ", "), label: strings.Join(l, " · "), series: s}
			i := slices.IndexFunc(bars, func(x pageBar) bool { return x.group == b.group && x.label == b.label && x.series == s })
			if i < 0 {
				bars = append(bars, b)
				i = len(bars) - 1
			}
			bars[i].value += v
		}
	}
	return bars
}

// checkPage checks that the bars of every chart of page are the sums of the
// CSV, bar for bar: a number of the CSV that is not zero has its bar, and a
// bar without rows (a quiet day) stands for zero. dayCalls are the calls of
// each route and day.
func checkPage(t *testing.T, page string, want map[string][]pageBar, dayCalls []pageBar) {
	t.Helper()
	got := map[string][]pageBar{}
	for _, b := range pageBars(t, page) {
		got[b.chart] = append(got[b.chart], b)
	}
	for chart, bars := range want {
		drawn := map[pageBar]bool{}
		for _, b := range got[chart] {
			drawn[pageBar{group: b.group, label: b.label, series: b.series, value: b.value}] = true
		}
		missing := 0
		for _, w := range bars {
			if w.value != 0 && !drawn[w] {
				missing++
				if missing <= 5 {
					t.Errorf("chart %s: no bar %q %q %s = %v", chart, w.group, w.label, w.series, w.value)
				}
			}
		}
		for _, b := range got[chart] {
			i := slices.IndexFunc(bars, func(w pageBar) bool { return w.group == b.group && w.label == b.label && w.series == b.series })
			if i < 0 && b.value != 0 {
				t.Errorf("chart %s: bar %q %q %s = %v is not in the CSV", chart, b.group, b.label, b.series, b.value)
			}
		}
		if len(got[chart]) == 0 {
			t.Errorf("chart %s has no bars", chart)
		}
	}
	// The outcomes of a day add up to its calls: stacked, a day's bar is as
	// tall as the day's calls.
	stacks := map[string]float64{}
	for _, b := range got["calls-by-day"] {
		stacks[b.group+": "+b.label] += b.value
	}
	if len(stacks) != 2*14 {
		t.Errorf("calls per day: %d bars, want 14 days for each of the two routes", len(stacks))
	}
	for _, d := range dayCalls {
		if s := stacks[d.group+": "+d.label]; s != d.value {
			t.Errorf("calls per day, %s %s: the outcomes stack to %v, the report counts %v calls", d.group, d.label, s, d.value)
		}
	}
}

// findChromium is the path of Debian's chromium. Without it the test skips,
// but not under CI, where it must run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found, and CI is set: .ci/run installs Debian's chromium package (apt-get install chromium)")
	}
	t.Skip("chromium not found: install Debian's chromium package (apt-get install chromium) to render the HTML report in a browser")
	return ""
}

// chromium runs the headless browser with args and returns what it wrote on
// stdout.
func chromium(t *testing.T, browser, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, append([]string{"--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// countColor counts the pixels of the PNG file that have the colour r, g, b.
func countColor(t *testing.T, file string, r, g, b uint8) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if uint8(pr>>8) == r && uint8(pg>>8) == g && uint8(pb>>8) == b {
				n++
			}
		}
	}
	return n
}

// escaped is s as html/template writes text.
func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;", "\x00", "\uFFFD").Replace(s)
}
