package htmlreport

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/tabular"
)

// bar is a drawn bar as the page has it.
type bar struct {
	chart, label, series string
	value                float64
	x, y, w, h           float64
}

var (
	svgTag = regexp.MustCompile(`(?s)<svg [^>]*>.*?</svg>`)
	barTag = regexp.MustCompile(`<rect class="bar" [^>]*>`)
	attr   = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// attrs reads the attributes of a tag, unescaped.
func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attr.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// bars reads every bar of page, with the data-chart of its svg.
func bars(t *testing.T, page string) []bar {
	t.Helper()
	var out []bar
	for _, svg := range svgTag.FindAllString(page, -1) {
		chart := attrs(svg[:strings.Index(svg, ">")])["data-chart"]
		for _, tag := range barTag.FindAllString(svg, -1) {
			a := attrs(tag)
			num := func(k string) float64 {
				f, err := strconv.ParseFloat(a[k], 64)
				if err != nil {
					t.Fatalf("bar %s: %s=%q: %v", tag, k, a[k], err)
				}
				return f
			}
			out = append(out, bar{chart: chart, label: a["data-label"], series: a["data-series"], value: num("data-value"),
				x: num("x"), y: num("y"), w: num("width"), h: num("height")})
		}
	}
	return out
}

// render writes a page of sections and returns it.
func render(t *testing.T, sections ...Section) string {
	t.Helper()
	var b bytes.Buffer
	p := Page{Title: "IVR reports", From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
		Generated: time.Date(2026, 3, 5, 8, 30, 0, 0, time.UTC), Sections: sections}
	if err := Write(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func rows(cols []string, data ...[]any) tabular.Rows {
	r := tabular.Rows{Columns: cols}
	for _, d := range data {
		r.Add(d...)
	}
	return r
}

// Columns: each bar is as tall as its number says, on one scale; stacked
// series sit on one another and a day without rows is an empty place.
func TestColumnsAreProportionalAndStacked(t *testing.T) {
	r := rows([]string{"day", "hour", "completed", "hung_up"},
		[]any{"2026-03-01", "09:00", 3, 1},
		[]any{"2026-03-01", "10:00", 5, 0}, // adds up with the row above
		[]any{"2026-03-03", "10:00", 2, 2},
	)
	page := render(t, Section{ID: "calls", Title: "calls", Rows: r, Charts: []Chart{{
		ID: "by-day", Title: "Calls per day", Label: []string{"day"}, Series: []string{"completed", "hung_up"}, Stacked: true,
		Axis: []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"}, LabelTitle: "Day", ValueTitle: "Calls",
	}}})
	got := bars(t, page)
	want := []struct {
		label, series string
		value         float64
	}{
		{"2026-03-01", "completed", 8}, {"2026-03-01", "hung_up", 1},
		{"2026-03-02", "completed", 0}, {"2026-03-02", "hung_up", 0},
		{"2026-03-03", "completed", 2}, {"2026-03-03", "hung_up", 2},
		{"2026-03-04", "completed", 0}, {"2026-03-04", "hung_up", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d bars, want %d: %+v", len(got), len(want), got)
	}
	perUnit := got[0].h / got[0].value
	for i, w := range want {
		b := got[i]
		if b.chart != "by-day" || b.label != w.label || b.series != w.series || b.value != w.value {
			t.Errorf("bar %d = %s %s %s %v, want by-day %s %s %v", i, b.chart, b.label, b.series, b.value, w.label, w.series, w.value)
		}
		if math.Abs(b.h-b.value*perUnit) > 0.2 {
			t.Errorf("bar %s %s: height %v for %v, want %v (%.2f per call)", b.label, b.series, b.h, b.value, b.value*perUnit, perUnit)
		}
	}
	// hung_up sits on completed: its bottom is completed's top.
	for i := 0; i < len(got); i += 2 {
		if c, h := got[i], got[i+1]; math.Abs(h.y+h.h-c.y) > 0.2 || h.x != c.x {
			t.Errorf("%s: hung_up at y %v+%v, completed at y %v: not stacked", c.label, h.y, h.h, c.y)
		}
	}
	// The tallest stack (9) stays inside the plot and fills most of it: the
	// axis ends at 10.
	if top := 9 * perUnit; top > 220.1 || top < 0.8*220 {
		t.Errorf("tallest stack is %v high, want at most the plot's 220 and near it", top)
	}
	if !strings.Contains(page, ">10</text>") {
		t.Errorf("value axis does not end at 10")
	}
	// The bars of a day sum two rows, so the sums are written below.
	for _, s := range []string{"The numbers in this chart", `<td class="num">8</td><td class="num">1</td><td class="num">9</td>`} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// Bars: horizontal, as long as their numbers, each written at its end;
// series side by side when not stacked; one chart per split.
func TestBarsAreProportionalAndSplit(t *testing.T) {
	r := rows([]string{"menu", "version", "digits", "label", "chosen", "repeated"},
		[]any{"main", 1, "1", "messages", 40, 4},
		[]any{"main", 1, "2", "survey", 10, 1},
		[]any{"main", 2, "1", "messages", 7, 0},
	)
	page := render(t, Section{ID: "options", Title: "options", Rows: r, Charts: []Chart{{
		ID: "options", Title: "Choices", Kind: Bars, Label: []string{"digits", "label"}, Series: []string{"chosen", "repeated"},
		Split: []string{"menu", "version"}, LabelTitle: "Option", ValueTitle: "Choices",
	}}})
	svgs := svgTag.FindAllString(page, -1)
	if len(svgs) != 2 || !strings.Contains(svgs[0], `data-group="menu main, version 1"`) || !strings.Contains(svgs[1], `data-group="menu main, version 2"`) {
		t.Fatalf("want one chart per menu version, got %d:\n%s", len(svgs), page)
	}
	got := bars(t, svgs[0])
	if len(got) != 4 || got[0].label != "1 · messages" || got[2].label != "2 · survey" {
		t.Fatalf("bars of version 1: %+v", got)
	}
	perUnit := got[0].w / got[0].value
	for _, b := range got {
		if math.Abs(b.w-b.value*perUnit) > 0.2 {
			t.Errorf("bar %s %s: width %v for %v, want %v", b.label, b.series, b.w, b.value, b.value*perUnit)
		}
	}
	if got[0].x != got[1].x || got[1].y < got[0].y+got[0].h-0.01 {
		t.Errorf("series are not side by side: %+v %+v", got[0], got[1])
	}
	for _, v := range []string{">40</text>", ">4</text>", ">10</text>"} {
		if !strings.Contains(svgs[0], `class="value"`) || !strings.Contains(svgs[0], v) {
			t.Errorf("chart lacks the number %s at a bar's end", v)
		}
	}
	// One row per bar: no second table of sums.
	if strings.Contains(page, "The numbers in this chart") {
		t.Errorf("bars of one row each have a table of sums")
	}
}

// A chart with no rows, or only zeros, is a note, not an empty frame; so is a
// section without rows or charts.
func TestNothingToDraw(t *testing.T) {
	pins := []string{"day", "attempts", "failures", "locked_calls"}
	chart := Chart{ID: "pins", Title: "PIN failures", Label: []string{"day"}, Series: []string{"failures", "locked_calls"}}
	tests := []struct {
		name    string
		section Section
		note    string
		table   bool
	}{
		{"no rows", Section{ID: "pins", Rows: rows(pins), Charts: []Chart{chart}}, "No calls in this period.", false},
		{"zeros", Section{ID: "pins", Rows: rows(pins, []any{"2026-03-01", 4, 0, 0}), Charts: []Chart{
			{ID: "pins", Title: "PIN failures", Label: []string{"day"}, Series: []string{"failures", "locked_calls"}, Empty: "No PIN failures in this period."},
		}}, "No PIN failures in this period.", true},
		{"section note", Section{ID: "pins", Rows: rows(pins), Charts: []Chart{chart}, Empty: "No PIN checks in this period."}, "No PIN checks in this period.", false},
		{"no chart", Section{ID: "recordings", Rows: rows([]string{"day", "recordings"})}, "No calls in this period.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.section)
			if strings.Contains(page, "<svg") || strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
				t.Errorf("a chart was drawn:\n%s", page)
			}
			if !strings.Contains(page, `class="empty"`) || !strings.Contains(page, ">"+tt.note+"</p>") {
				t.Errorf("page lacks the note %q:\n%s", tt.note, page)
			}
			if got := strings.Contains(page, "<table>"); got != tt.table {
				t.Errorf("table shown: %v, want %v", got, tt.table)
			}
		})
	}
}

// Text from the data (a caller's name, a menu label) is text, wherever it is
// shown: in the table, as a bar's name, in its tooltip and data attribute, and
// in a split's title.
func TestEscapesText(t *testing.T) {
	evil := `<script>alert("x")</script> & <b>Eve</b>`
	r := rows([]string{"menu", "label", "chosen"}, []any{evil, evil, 3})
	page := render(t, Section{ID: "options", Title: "options", Summary: evil, Rows: r, Charts: []Chart{{
		ID: "options", Title: "Choices", Kind: Bars, Label: []string{"label"}, Series: []string{"chosen"}, Split: []string{"menu"},
	}}})
	for _, bad := range []string{"<script", "<b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped:\n%s", bad, page)
		}
	}
	if n := strings.Count(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Eve&lt;/b&gt;"); n < 5 {
		t.Errorf("the name is shown escaped %d times, want at least 5 (summary, group, label, tooltip, table)", n)
	}
	if b := bars(t, page); len(b) != 1 || b[0].label != evil {
		t.Errorf("data-label = %+v, want the name as it is", b)
	}
}

// The page stands alone: no scripts, no links, fonts or images from
// anywhere; it says what it covers, and each chart has an accessible name,
// a description, a legend and axis titles.
func TestSelfContainedAndLabelled(t *testing.T) {
	r := rows([]string{"stage", "calls"}, []any{"called the IVR", 5}, []any{"answered", 4})
	page := render(t,
		Section{ID: "funnel", Title: "funnel", Summary: "how far callers get", Rows: r, Charts: []Chart{{
			ID: "funnel", Title: "Calls per stage", Kind: Bars, Label: []string{"stage"}, Series: []string{"calls"},
			LabelTitle: "Stage", ValueTitle: "Calls"}}},
		Section{ID: "pins", Title: "pins", Summary: "PIN checks", Rows: rows([]string{"day"})},
	)
	for _, bad := range []string{"<script", "<link", "<img", "src=", "http:", "https:", "url(", "@import", "@font-face"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{
		"<title>IVR reports</title>", "<style>",
		"UTC days 2026-03-01 to 2026-03-04, both included. Generated 2026-03-05 08:30:00 UTC.",
		`<a href="#funnel">funnel</a>: how far callers get`, `<section id="funnel"`, `<p class="summary">PIN checks</p>`,
		`role="img" aria-labelledby="funnel-title funnel-desc"`, `<title id="funnel-title">Calls per stage</title>`,
		"Bar chart of calls by stage, 2 bars; the largest is called the IVR with 5.",
		`<rect class="swatch"`, ">calls</text>", ">Stage</text>", ">Calls</text>",
		"<title>answered, calls: 4</title>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// A long table is folded away, so that the charts of the next reports are
// not pages below; a short one is shown.
func TestLongTableFolds(t *testing.T) {
	r := rows([]string{"day", "calls"})
	for i := range 41 {
		r.Add(fmt.Sprintf("day %d", i), i)
	}
	page := render(t, Section{ID: "calls", Title: "calls", Rows: r})
	if !strings.Contains(page, "<details><summary>The 41 rows of this report</summary>") || !strings.Contains(page, "<td>day 40</td>") {
		t.Errorf("41 rows are not folded:\n%s", page)
	}
	r.Data = r.Data[:40]
	if page := render(t, Section{ID: "calls", Title: "calls", Rows: r}); strings.Contains(page, "<details>") || !strings.Contains(page, "<td>day 39</td>") {
		t.Errorf("40 rows are folded:\n%s", page)
	}
}

func TestChartErrors(t *testing.T) {
	r := rows([]string{"day", "calls"}, []any{"2026-03-01", "many"})
	for _, c := range []Chart{
		{ID: "a", Label: []string{"day"}, Series: []string{"calls"}},  // not a number
		{ID: "b", Label: []string{"hour"}, Series: []string{"calls"}}, // no such column
		{ID: "c", Label: []string{"day"}, Series: []string{"failed"}}, // no such column
		{ID: "d", Label: []string{"day"}},                             // no series
		{ID: "e", Label: []string{"day"}, Series: []string{"calls"}, Split: []string{"x"}},
	} {
		var b bytes.Buffer
		err := Write(&b, Page{Sections: []Section{{ID: "s", Rows: r, Charts: []Chart{c}}}})
		if err == nil || !strings.Contains(err.Error(), "chart "+c.ID) || b.Len() != 0 {
			t.Errorf("chart %s: err %v, %d bytes written; want an error naming the chart and nothing written", c.ID, err, b.Len())
		}
	}
}

func TestScale(t *testing.T) {
	for _, tt := range []struct {
		top       float64
		integers  bool
		step, end float64
	}{
		{1, true, 1, 1},
		{3, true, 1, 3},
		{7, true, 2, 8},
		{9, true, 2, 10},
		{10, true, 2, 10},
		{48, true, 10, 50},
		{101, true, 50, 150},
		{12345, true, 5000, 15000},
		{0.4, false, 0.1, 0.4},
	} {
		step, end := scale(tt.top, tt.integers)
		if math.Abs(step-tt.step) > 1e-9 || math.Abs(end-tt.end) > 1e-9 {
			t.Errorf("scale(%v) = %v, %v; want %v, %v", tt.top, step, end, tt.step, tt.end)
		}
	}
}

// BenchmarkWriteYear renders the calls report of a busy year: every hour of
// 365 days on two routes (17,520 rows), drawn per day and per hour of the
// day, with the table below.
func BenchmarkWriteYear(b *testing.B) {
	outcomes := []string{"completed", "transferred", "hung_up", "failed"}
	r := tabular.Rows{Columns: append([]string{"day", "hour", "route", "calls"}, outcomes...)}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var days, hours []string
	for d := range 365 {
		day := start.AddDate(0, 0, d).Format(time.DateOnly)
		days = append(days, day)
		for h := range 24 {
			for _, route := range []string{"lookup", "ivr"} {
				r.Add(day, fmt.Sprintf("%02d:00", h), route, 10+h, 6+h, 2, 1, 1)
			}
		}
	}
	for h := range 24 {
		hours = append(hours, fmt.Sprintf("%02d:00", h))
	}
	p := Page{Title: "IVR reports", From: start, To: start.AddDate(0, 0, 364), Sections: []Section{{ID: "calls", Title: "calls", Rows: r,
		Charts: []Chart{
			{ID: "by-day", Label: []string{"day"}, Series: outcomes, Stacked: true, Split: []string{"route"}, Axis: days},
			{ID: "by-hour", Label: []string{"hour"}, Series: outcomes, Stacked: true, Split: []string{"route"}, Axis: hours},
		}}}}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Write(&buf, p); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}
