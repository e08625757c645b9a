package tabular

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func sample() Rows {
	var r Rows
	r.Columns = []string{"account", "name"}
	r.Add("1001", "Alice, Jr.")
	r.Add(2002, nil)
	return r
}

func TestWriteFormats(t *testing.T) {
	tests := []struct {
		format Format
		want   string
	}{
		{Table, "ACCOUNT  NAME\n1001     Alice, Jr.\n2002     \n"},
		{CSV, "account,name\n1001,\"Alice, Jr.\"\n2002,\n"},
		{JSON, "[\n  {\n    \"account\": \"1001\",\n    \"name\": \"Alice, Jr.\"\n  },\n  {\n    \"account\": 2002,\n    \"name\": null\n  }\n]\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := sample().Write(&buf, tt.format); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.format, got, tt.want)
		}
	}
}

// JSON keeps what a program needs: numbers as numbers, booleans, null for
// nothing, durations and times as the table shows them, and the columns in the
// table's order.
func TestJSONIsTypedAndOrdered(t *testing.T) {
	var r Rows
	r.Columns = []string{"zone", "calls", "share", "open", "duration", "note"}
	r.Add("b", int64(12), 0.25, true, 1500*time.Millisecond, nil)
	var buf bytes.Buffer
	if err := r.Write(&buf, JSON); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(buf.String()), " ")
	want := `[ { "zone": "b", "calls": 12, "share": 0.25, "open": true, "duration": "1.5s", "note": null } ]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEmptyJSONIsArray(t *testing.T) {
	var buf bytes.Buffer
	if err := (Rows{Columns: []string{"a"}}).Write(&buf, JSON); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(buf.String()); got != "[]" {
		t.Errorf("got %q, want []", got)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": Table, "CSV": CSV, "json": JSON, "table": Table} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("ParseFormat(xml) error = %v, want one naming the format", err)
	}
}

func TestProgressDrawsCounts(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, "import", 4)
	p.Add(4)
	p.Finish()
	// Not a terminal: no frames, one final line.
	if out := buf.String(); !strings.Contains(out, "4/4 100%") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.Contains(out, "\r") {
		t.Errorf("progress output %q is not one line with the final count", out)
	}
	var nilBar *Progress
	nilBar.Add(1) // must not panic
	nilBar.Finish()
}
