// Package tabular writes rows of text the three ways the ivr commands offer them:
// an aligned table for people, and CSV or JSON for programs.
package tabular

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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
}

// Add appends one row; cells are formatted with fmt's %v, nil as "".
func (r *Rows) Add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		if c != nil {
			row[i] = fmt.Sprint(c)
		}
	}
	r.Data = append(r.Data, row)
}

// Write renders r to w in format f. A table has a header line; CSV has a header
// record; JSON is an array of objects keyed by column name.
func (r Rows) Write(w io.Writer, f Format) error {
	switch f {
	case CSV:
		cw := csv.NewWriter(w)
		cw.Write(r.Columns)
		cw.WriteAll(r.Data)
		return cw.Error()
	case JSON:
		objs := make([]map[string]string, 0, len(r.Data))
		for _, row := range r.Data {
			obj := make(map[string]string, len(r.Columns))
			for i, c := range r.Columns {
				if i < len(row) {
					obj[c] = row[i]
				}
			}
			objs = append(objs, obj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
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
