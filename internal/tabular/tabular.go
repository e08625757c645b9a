// Package tabular writes rows of text the three ways the ivr commands offer them:
// an aligned table for people, and CSV or JSON for programs.
package tabular

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Format names an output format.
type Format string

// Output formats.
const (
	Table Format = "table"
	CSV   Format = "csv"
	JSON  Format = "json"
)

// ParseFormat checks a --format value. The empty string means Table.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "":
		return Table, nil
	case Table, CSV, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want table, csv or json)", s)
}

// Rows is a result set: column names and rows of cells, each row as long as
// Columns. The zero value is an empty result with no columns.
type Rows struct {
	Columns []string
	Data    [][]string

	// values holds the cells of the rows Add appended, as JSON values; a
	// row appended to Data directly has none and is written as strings.
	values [][]any
}

// Add appends one row; cells are formatted with fmt's %v, nil as "". JSON
// keeps the type of a cell: numbers and booleans as such, nil as null, and
// every other value as the text the table shows.
func (r *Rows) Add(cells ...any) {
	row := make([]string, len(cells))
	vals := make([]any, len(cells))
	for i, c := range cells {
		if c != nil {
			row[i] = fmt.Sprint(c)
		}
		vals[i] = jsonValue(c, row[i])
	}
	for len(r.values) < len(r.Data) {
		r.values = append(r.values, nil)
	}
	r.Data = append(r.Data, row)
	r.values = append(r.values, vals)
}

// jsonValue is c as JSON writes it: c itself for nil, booleans, strings and
// plain numbers, otherwise text, the way the table shows it.
func jsonValue(c any, text string) any {
	switch v := c.(type) {
	case nil, bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return v
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return text
		}
		return v
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return text
		}
		return v
	}
	return text
}

// Write renders r to w in format f. A table has a header line; CSV has a header
// record; JSON is an array of objects whose keys are the columns, in their
// order.
func (r Rows) Write(w io.Writer, f Format) error {
	switch f {
	case CSV:
		cw := csv.NewWriter(w)
		cw.Write(r.Columns)
		cw.WriteAll(r.Data)
		return cw.Error()
	case JSON:
		return r.writeJSON(w)
	case Table, "":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(r.Columns, "\t")))
		for _, row := range r.Data {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown format %q", f)
}

// writeJSON writes r as an indented JSON array of objects, each with the
// columns in order.
func (r Rows) writeJSON(w io.Writer) error {
	var b bytes.Buffer
	b.WriteByte('[')
	for n, row := range r.Data {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for i, c := range r.Columns {
			if i >= len(row) {
				break
			}
			var v any = row[i]
			if n < len(r.values) && r.values[n] != nil && i < len(r.values[n]) {
				v = r.values[n][i]
			}
			key, err := json.Marshal(c)
			if err != nil {
				return err
			}
			val, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(key)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}
