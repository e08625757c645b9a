package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/ivrhq/ivr/internal/tabular"
)

// Page is one HTML page of reports. The zero value is a page with no title
// and no sections.
type Page struct {
	Title string
	// From and To are the first and the last UTC day the reports cover, both
	// included; only their dates are shown.
	From, To time.Time
	// Generated is when the numbers were read; it is shown in UTC.
	Generated time.Time
	Sections  []Section
}

// Section is one report on the page: a heading, its summary, its charts and
// its rows as a table.
type Section struct {
	// ID is the section's anchor, unique on the page.
	ID      string
	Title   string
	Summary string
	Rows    tabular.Rows
	// Charts are drawn above the table, in order.
	Charts []Chart
	// Empty is the note shown when Rows has no data, and by a chart with
	// nothing to draw; "" means "No calls in this period."
	Empty string
}

// DefaultEmpty is the note of a section with no rows that sets none.
const DefaultEmpty = "No calls in this period."

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"n":   func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
}).Parse(pageTemplate))

// pageView is the page as the template draws it.
type pageView struct {
	Title, From, To, Generated string
	Sections                   []sectionView
}

// sectionView is one section as the template draws it.
type sectionView struct {
	ID, Title, Summary, Empty string
	Charts                    []chartView
	Table                     *tableView // nil when there are no rows
}

// tableView is a table with its numeric columns marked, to align them right.
type tableView struct {
	Columns []columnView
	Rows    [][]string
}

// columnView is a column heading; Numeric columns are aligned right.
type columnView struct {
	Name    string
	Numeric bool
}

// Write renders p as one self-contained HTML page on w: the styles are in
// the page, the charts are inline SVG, and nothing is fetched from anywhere;
// there are no scripts. Text from the rows is escaped. Nothing is written
// when a chart cannot be drawn: a chart naming a missing column, or a series
// cell that is not a number, is an error.
func Write(w io.Writer, p Page) error {
	v := pageView{Title: p.Title, From: day(p.From), To: day(p.To)}
	if !p.Generated.IsZero() {
		v.Generated = p.Generated.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, s := range p.Sections {
		sv := sectionView{ID: s.ID, Title: s.Title, Summary: s.Summary, Empty: s.Empty}
		if sv.Empty == "" {
			sv.Empty = DefaultEmpty
		}
		for _, c := range s.Charts {
			views, err := c.build(s.Rows, sv.Empty)
			if err != nil {
				return fmt.Errorf("section %s: %w", s.ID, err)
			}
			sv.Charts = append(sv.Charts, views...)
		}
		if len(s.Rows.Data) > 0 {
			sv.Table = rowsTable(s.Rows)
		}
		v.Sections = append(v.Sections, sv)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// day is t's date, or "" for the zero time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// numeric matches the cells the reports right-align: counts, rates and
// durations.
var numeric = regexp.MustCompile(`^-?[0-9][0-9.:]*%?$`)

// rowsTable is rows with each column marked numeric when every cell of it
// that is not empty looks like a number.
func rowsTable(rows tabular.Rows) *tableView {
	t := &tableView{Rows: rows.Data}
	for i, name := range rows.Columns {
		num, seen := true, false
		for _, row := range rows.Data {
			if i < len(row) && row[i] != "" {
				seen = true
				num = num && numeric.MatchString(row[i])
			}
		}
		t.Columns = append(t.Columns, columnView{Name: name, Numeric: num && seen})
	}
	return t
}
