// Package callerimport reads and writes callers as CSV, the file format of
// "ivr callers import" and "ivr callers export":
//
//	account,name,numbers,language,status,pin
//	1001,Ada Lovelace,+14155550101;+14155550102,en,active,4831
//	1002,Alan Turing,4155550103,,disabled,
//	1003,Grace Hopper,,,,
//
// Columns may come in any order; account is required, the others are optional
// (export writes every column but pin, so an export reads back as the same
// callers). numbers holds zero or more phone numbers separated by ';', ',' or
// spaces, each read by phone.Normalize in the default region; status is active
// (the default when empty) or disabled. The file must be UTF-8. Read checks
// every row and reports every mistake with its line; a PIN is never part of a
// message.
package callerimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/phone"
)

// Columns is the header Write produces and Read expects (pin is optional).
var Columns = []string{"account", "name", "numbers", "language", "status", "pin"}

// exported is the header Write produces: every column but pin.
var exported = Columns[:len(Columns)-1]

// MaxNameLength is the longest caller name Read accepts, in characters.
const MaxNameLength = 200

var (
	accountPattern  = regexp.MustCompile(`^[0-9]{1,20}$`)
	languagePattern = regexp.MustCompile(`^([a-z]{2,3}(_[A-Za-z0-9]{2,8})*)?$`)
)

// Row is one valid caller read from a file. Line is the line its record starts
// on; PIN is empty when the row sets none.
type Row struct {
	Line     int
	Account  string
	Name     string
	Phones   []string // E.164, no repeats
	Language string
	Status   ivr.CallerStatus // active when the row leaves it empty
	PIN      ivr.Secret
}

// Problem is a row that cannot be imported. Message never contains a PIN.
type Problem struct {
	Line    int
	Message string
}

// Result is what Read found: the valid rows and the problems, both in file order.
type Result struct {
	Rows     []Row
	Problems []Problem
	// Records is the number of data records read (rows plus bad rows).
	Records int
}

// Read parses a caller CSV and checks every row: the account (1 to 20 digits),
// the phone numbers (valid in region, the default for numbers without a country
// code), the language code, the PIN (ivr.ValidatePIN), and that no account or
// number appears twice in the file. A row with any mistake becomes a Problem
// (the later of two duplicates is the bad one), and so does a row that is not
// valid UTF-8. Read returns an error only when
// the file as a whole cannot be read: no header, an unknown or missing column,
// or an I/O error.
func Read(r io.Reader, region string) (*Result, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: want a header line " + strings.Join(Columns, ","))
	}
	if err != nil {
		return nil, err
	}
	col, err := columns(header)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	accounts := make(map[string]int) // account → line it was first seen on
	numbers := make(map[string]int)  // E.164 → line it was first seen on
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			res.Records++
			res.Problems = append(res.Problems, Problem{Line: pe.StartLine, Message: pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		res.Records++
		if i := slices.IndexFunc(rec, func(f string) bool { return !utf8.ValidString(f) }); i >= 0 {
			res.Problems = append(res.Problems, Problem{Line: line, Message: fmt.Sprintf(
				"field %d is not UTF-8 text (save the file as UTF-8)", i+1)})
			continue
		}
		row, msgs := parseRow(rec, col, region)
		row.Line = line
		if len(rec) != len(header) {
			msgs = append(msgs, fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header)))
		}
		if first, dup := accounts[row.Account]; dup && row.Account != "" {
			msgs = append(msgs, fmt.Sprintf("account %s is already on line %d", row.Account, first))
		}
		for _, n := range row.Phones {
			if first, dup := numbers[n]; dup {
				msgs = append(msgs, fmt.Sprintf("number %s is already on line %d", n, first))
			}
		}
		if len(msgs) > 0 {
			res.Problems = append(res.Problems, Problem{Line: line, Message: strings.Join(msgs, "; ")})
			continue
		}
		accounts[row.Account] = line
		for _, n := range row.Phones {
			numbers[n] = line
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// columns maps each known column name to its index in header.
func columns(header []string) (map[string]int, error) {
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(Columns, h) {
			return nil, fmt.Errorf("line 1: unknown column %q (want %s)", h, strings.Join(Columns, ","))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		col[h] = i
	}
	if _, ok := col["account"]; !ok {
		return nil, fmt.Errorf("line 1: the header has no account column (want %s)", strings.Join(Columns, ","))
	}
	return col, nil
}

// parseRow reads one record into a Row and lists what is wrong with it.
func parseRow(rec []string, col map[string]int, region string) (Row, []string) {
	field := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	row := Row{Account: field("account"), Name: field("name"), Language: field("language"), PIN: ivr.Secret(field("pin"))}
	var msgs []string
	switch {
	case row.Account == "":
		msgs = append(msgs, "account is missing")
	case !accountPattern.MatchString(row.Account):
		msgs = append(msgs, fmt.Sprintf("account %q must be 1 to 20 digits", row.Account))
	}
	if len([]rune(row.Name)) > MaxNameLength {
		msgs = append(msgs, fmt.Sprintf("name is longer than %d characters", MaxNameLength))
	}
	if strings.ContainsFunc(row.Name, unicode.IsControl) {
		msgs = append(msgs, "name contains a control character")
	}
	if !languagePattern.MatchString(row.Language) {
		msgs = append(msgs, fmt.Sprintf("language %q is not an Asterisk language code such as en or es_MX", row.Language))
	}
	switch st := ivr.CallerStatus(field("status")); st {
	case "":
		row.Status = ivr.CallerActive
	case ivr.CallerActive, ivr.CallerDisabled:
		row.Status = st
	default:
		msgs = append(msgs, fmt.Sprintf("status %q must be active or disabled", st))
	}
	raw := strings.FieldsFunc(field("numbers"), func(r rune) bool { return r == ';' || r == ',' || unicode.IsSpace(r) })
	for _, n := range raw {
		e164, ok := phone.Normalize(n, region)
		if !ok {
			msgs = append(msgs, fmt.Sprintf("number %q is not a valid phone number (region %s)", n, region))
			continue
		}
		if !slices.Contains(row.Phones, e164) {
			row.Phones = append(row.Phones, e164)
		}
	}
	if row.PIN != "" {
		if err := ivr.ValidatePIN(string(row.PIN)); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	return row, msgs
}

// Taken holds the accounts and numbers that already belong to callers in the
// database; Numbers maps each number to the account that has it.
type Taken struct {
	Accounts map[string]bool
	Numbers  map[string]string
}

// Reject moves the rows whose account or numbers are in t to the problems,
// keeping both lists in line order.
func (res *Result) Reject(t Taken) {
	kept := res.Rows[:0]
	for _, row := range res.Rows {
		var msgs []string
		if t.Accounts[row.Account] {
			msgs = append(msgs, fmt.Sprintf("account %s already exists", row.Account))
		}
		for _, n := range row.Phones {
			if owner, ok := t.Numbers[n]; ok {
				msgs = append(msgs, fmt.Sprintf("number %s already belongs to caller %s", n, owner))
			}
		}
		if len(msgs) == 0 {
			kept = append(kept, row)
			continue
		}
		res.Problems = append(res.Problems, Problem{Line: row.Line, Message: strings.Join(msgs, "; ")})
	}
	res.Rows = kept
	slices.SortStableFunc(res.Problems, func(a, b Problem) int { return a.Line - b.Line })
}

// Writer writes callers as CSV without PINs, header first: every column of
// Columns but pin.
type Writer struct {
	cw     *csv.Writer
	header bool
}

// NewWriter returns a Writer on w. Call Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{cw: csv.NewWriter(w)} }

// Write writes one caller, numbers joined with ';'.
func (w *Writer) Write(c ivr.Caller) error {
	if !w.header {
		w.header = true
		if err := w.cw.Write(exported); err != nil {
			return err
		}
	}
	return w.cw.Write([]string{c.Account, c.Name, strings.Join(c.Phones, ";"), c.Language, string(c.Status)})
}

// Flush writes the header if nothing was written yet, flushes, and returns the
// first write error.
func (w *Writer) Flush() error {
	if !w.header {
		w.header = true
		w.cw.Write(exported)
	}
	w.cw.Flush()
	return w.cw.Error()
}

// digitRun and quoted are the parts of a message that vary from row to row.
var (
	digitRun = regexp.MustCompile(`\+?[0-9]+`)
	quoted   = regexp.MustCompile(`"[^"]*"`)
)

// Kind returns p's message with its values (numbers, quoted text) blanked
// out, so rows that are wrong in the same way have the same kind.
func (p Problem) Kind() string {
	return digitRun.ReplaceAllString(quoted.ReplaceAllString(p.Message, `"…"`), "N")
}

// Report writes problems to w as "file:line: message", at most limit of each
// Kind; the rest of a kind become one line with their count and a hint. It
// returns the first write error.
func Report(w io.Writer, file string, problems []Problem, limit int) error {
	shown := make(map[string]int)
	var kinds []string
	for _, p := range problems {
		k := p.Kind()
		if shown[k]++; shown[k] == 1 {
			kinds = append(kinds, k)
		}
		if shown[k] > limit {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s:%d: %s\n", file, p.Line, p.Message); err != nil {
			return err
		}
	}
	for _, k := range kinds {
		if n := shown[k] - limit; n > 0 {
			if _, err := fmt.Fprintf(w, "%s: %d more rows like the %d above (%s): "+
				"the same mistake throughout the file usually has one cause, such as a wrong column, region or encoding\n",
				file, n, limit, k); err != nil {
				return err
			}
		}
	}
	return nil
}
