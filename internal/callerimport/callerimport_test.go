package callerimport_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/callerimport"
	"github.com/ivrhq/ivr/internal/ivr"
)

// badFile has one good row and then one row for each kind of mistake.
const badFile = `account,name,numbers,language,pin
1001,Ada Lovelace,+14155550101;4155550102,en,4831
10x2,Bad Account,+14155550103,,
,No Account,+14155550104,,
1004,Bad Number,555,,
1005,No Number,,,
1006,Weak PIN,+14155550106,,1234
1007,Short PIN,+14155550107,,12
1001,Same Account,+14155550108,,
1009,Same Number,(415)555-0101,,
1010,Bad Language,+14155550110,English,
1011,Too Many,+14155550111,,,extra
1012,"Broken "quote",+14155550112,,
1013,Grace Hopper,+14155550113 +14155550113,es_MX,
`

func TestReadReportsEveryBadRow(t *testing.T) {
	res, err := callerimport.Read(strings.NewReader(badFile), "US")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		3:  `account "10x2" must be 1 to 20 digits`,
		4:  "account is missing",
		5:  `number "555" is not a valid phone number (region US)`,
		7:  "pin is too easy to guess",
		8:  "pin must have 4 to 6 digits",
		9:  "account 1001 is already on line 2",
		10: "number +14155550101 is already on line 2",
		11: `language "English" is not`,
		12: "has 6 fields, the header has 5",
		13: `extraneous or missing " in quoted-field`,
	}
	got := map[int]string{}
	for _, p := range res.Problems {
		got[p.Line] = p.Message
		if strings.Contains(p.Message, "1234") {
			t.Errorf("line %d: message %q shows the PIN", p.Line, p.Message)
		}
	}
	for line, msg := range want {
		if !strings.Contains(got[line], msg) {
			t.Errorf("line %d: got %q, want it to say %q", line, got[line], msg)
		}
	}
	if len(res.Problems) != len(want) {
		t.Errorf("got %d problems, want %d: %+v", len(res.Problems), len(want), res.Problems)
	}
	if res.Records != 13 {
		t.Errorf("Records = %d, want 13", res.Records)
	}
	wantRows := []callerimport.Row{
		{Line: 2, Account: "1001", Name: "Ada Lovelace", Phones: []string{"+14155550101", "+14155550102"}, Language: "en", Status: ivr.CallerActive, PIN: "4831"},
		{Line: 6, Account: "1005", Name: "No Number", Status: ivr.CallerActive},
		{Line: 14, Account: "1013", Name: "Grace Hopper", Phones: []string{"+14155550113"}, Language: "es_MX", Status: ivr.CallerActive},
	}
	if !reflect.DeepEqual(res.Rows, wantRows) {
		t.Errorf("rows:\ngot  %+v\nwant %+v", res.Rows, wantRows)
	}

	res.Reject(callerimport.Taken{Accounts: map[string]bool{"1005": true, "1013": true}, Numbers: map[string]string{"+14155550102": "2001"}})
	if len(res.Rows) != 0 {
		t.Errorf("rows left after Reject: %+v", res.Rows)
	}
	last := res.Problems[len(res.Problems)-1]
	if last.Line != 14 || last.Message != "account 1013 already exists" {
		t.Errorf("last problem %+v", last)
	}
	if p := res.Problems[0]; p.Line != 2 || p.Message != "number +14155550102 already belongs to caller 2001" {
		t.Errorf("first problem %+v", p)
	}
}

func TestHeader(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"", "the file is empty"},
		{"account,name,phone\n", `unknown column "phone"`},
		{"name,numbers\n", "no account column"},
		{"account,account,numbers\n", `column "account" appears twice`},
	} {
		_, err := callerimport.Read(strings.NewReader(tt.src), "US")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Read(%q) error = %v, want %q", tt.src, err, tt.want)
		}
	}
	res, err := callerimport.Read(strings.NewReader("\ufeffNumbers, Account\n\n0612345678,7\n"), "NL")
	if err != nil || len(res.Rows) != 1 || res.Rows[0].Phones[0] != "+31612345678" || res.Rows[0].Line != 3 {
		t.Errorf("reordered header with BOM: %+v, %v", res, err)
	}
}

func TestWriteReadsBack(t *testing.T) {
	var buf bytes.Buffer
	w := callerimport.NewWriter(&buf)
	callers := []ivr.Caller{
		{Account: "1001", Name: "Ada, Countess", Phones: []string{"+14155550101", "+14155550102"}, Language: "en", PIN: ivr.PINHash{KeyID: "k", Sum: []byte{1}}},
		{Account: "1002", Phones: []string{"+31612345678"}, Status: ivr.CallerDisabled},
		{Account: "1003", Status: ivr.CallerActive},
	}
	for _, c := range callers {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "account,name,numbers,language,status\n1001,\"Ada, Countess\",+14155550101;+14155550102,en,\n" +
		"1002,,+31612345678,,disabled\n1003,,,,active\n"
	if buf.String() != want {
		t.Fatalf("export:\ngot  %q\nwant %q", buf.String(), want)
	}
	res, err := callerimport.Read(&buf, "US")
	if err != nil || len(res.Problems) != 0 || len(res.Rows) != 3 || res.Rows[0].Name != "Ada, Countess" ||
		res.Rows[1].Status != ivr.CallerDisabled || len(res.Rows[2].Phones) != 0 {
		t.Errorf("export does not read back: %+v %v", res, err)
	}
	var empty bytes.Buffer
	e := callerimport.NewWriter(&empty)
	if err := e.Flush(); err != nil || empty.String() != "account,name,numbers,language,status\n" {
		t.Errorf("empty export %q, %v", empty.String(), err)
	}
}

// TestReadRefusesRowsThatAreNotUTF8 reads a file saved as Latin-1: the row
// with the accented name is a bad row with its line, the others are good.
func TestReadRefusesRowsThatAreNotUTF8(t *testing.T) {
	src := "account,name,numbers,status\n1001,Ada,+14155550101,\n1002,Jos\xe9,+14155550102,\n1003,Bob,,paused\n1004,Eve,,disabled\n"
	res, err := callerimport.Read(strings.NewReader(src), "US")
	if err != nil {
		t.Fatal(err)
	}
	want := []callerimport.Problem{
		{Line: 3, Message: "field 2 is not UTF-8 text (save the file as UTF-8)"},
		{Line: 4, Message: `status "paused" must be active or disabled`},
	}
	if !reflect.DeepEqual(res.Problems, want) {
		t.Errorf("problems:\ngot  %+v\nwant %+v", res.Problems, want)
	}
	if len(res.Rows) != 2 || res.Rows[0].Account != "1001" || res.Rows[1].Status != ivr.CallerDisabled {
		t.Errorf("rows: %+v", res.Rows)
	}
}

// TestReportSumsUpRepeatedMistakes reports 120 rows with the same mistake and
// one other: 50 of the first are listed, the other 70 are one line with their
// count, and the different mistake is listed too.
func TestReportSumsUpRepeatedMistakes(t *testing.T) {
	var problems []callerimport.Problem
	for i := range 120 {
		problems = append(problems, callerimport.Problem{Line: i + 2, Message: fmt.Sprintf(`number "%d" is not a valid phone number (region US)`, 100+i)})
	}
	problems = append(problems, callerimport.Problem{Line: 200, Message: "account is missing"})
	var buf bytes.Buffer
	if err := callerimport.Report(&buf, "c.csv", problems, 50); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 52 {
		t.Fatalf("%d lines, want 50 listed, the other mistake and one summary:\n%s", len(lines), buf.String())
	}
	if lines[0] != `c.csv:2: number "100" is not a valid phone number (region US)` || lines[50] != "c.csv:200: account is missing" {
		t.Errorf("listed rows:\n%s", buf.String())
	}
	if !strings.HasPrefix(lines[51], "c.csv: 70 more rows like the 50 above") || !strings.Contains(lines[51], "is not a valid phone number") {
		t.Errorf("summary line %q", lines[51])
	}
}
