package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// testPINKey is the PIN keyring the tests hash with.
var testPINKey = "k1:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// cli runs the ivr command against one database, the way a user would.
type cli struct {
	t       *testing.T
	url     string
	pool    *pgxpool.Pool
	prompts string // the prompts directory of the text prompts (IVR_PROMPTS_DIR)
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	url := testdb.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &cli{t: t, url: url, pool: pool, prompts: promptsDir(t)}
}

// run runs ivr with args and stdin and returns what it wrote.
func (c *cli) run(stdin string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	return c.runEnv(nil, stdin, args...)
}

// runEnv is run with more environment variables.
func (c *cli) runEnv(more map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	env := map[string]string{"DATABASE_URL": c.url, "IVR_PIN_KEY": testPINKey, "IVR_PROMPTS_DIR": c.prompts}
	maps.Copy(env, more)
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// ok runs ivr and fails the test when it returns an error.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("ivr %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// scalar runs a query that returns one value.
func (c *cli) scalar(dest any, sql string, args ...any) {
	c.t.Helper()
	if err := c.pool.QueryRow(context.Background(), sql, args...).Scan(dest); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

func (c *cli) count(sql string, args ...any) int {
	c.t.Helper()
	var n int
	c.scalar(&n, sql, args...)
	return n
}

func TestCallersCRUD(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if out := c.ok("4831\n", "callers", "add", "1001", "--name", "Ada Lovelace", "--numbers", "+14155550101;(415) 555-0102", "--pin-stdin"); out != "added caller 1001\n" {
		t.Errorf("add said %q", out)
	}
	if n := c.count(`SELECT count(*) FROM caller_phones p JOIN callers c ON c.id = p.caller_id WHERE c.account = '1001'`); n != 2 {
		t.Errorf("caller 1001 has %d numbers, want 2", n)
	}
	kr, err := ivr.ParseKeyring(testPINKey)
	if err != nil {
		t.Fatal(err)
	}
	var h ivr.PINHash
	if err := c.pool.QueryRow(context.Background(), `SELECT pin_key_id, pin_version, pin_hash FROM callers WHERE account = '1001'`).Scan(&h.KeyID, &h.Version, &h.Sum); err != nil {
		t.Fatal(err)
	}
	if !kr.Verify("1001", "4831", h) {
		t.Error("the stored PIN hash does not verify 4831")
	}

	_, _, err = c.run("1234\n", "callers", "add", "1002", "--numbers", "+14155550103", "--pin-stdin")
	if err == nil || !strings.Contains(err.Error(), "too easy") || strings.Contains(err.Error(), "1234") {
		t.Errorf("a weak PIN: error %v, want one saying it is too easy without showing it", err)
	}
	if _, _, err = c.run("", "callers", "add", "1003", "--numbers", "+14155550101"); err == nil || !strings.Contains(err.Error(), "number +14155550101 already belongs to caller 1001") {
		t.Errorf("a taken number: error %v", err)
	}
	if n := c.count(`SELECT count(*) FROM callers`); n != 1 {
		t.Errorf("%d callers after refused adds, want 1", n)
	}

	c.ok("", "callers", "add", "1002", "--name", "Alan Turing", "--numbers", "4155550103", "--language", "en")
	c.ok("", "callers", "add", "2001", "--name", "Grace Hopper", "--numbers", "+31612345678")

	var shown []map[string]any
	out := c.ok("", "callers", "show", "1001", "--format", "json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown) != 1 {
		t.Fatalf("show json %q: %v", out, err)
	}
	if shown[0]["numbers"] != "+14155550101 +14155550102" || shown[0]["pin"] != "set" || shown[0]["failures"] != 0.0 || strings.Contains(out, "4831") {
		t.Errorf("show: %v", shown[0])
	}
	if _, _, err := c.runEnv(map[string]string{"IVR_REGION": "ZZ"}, "", "callers", "add", "3001", "--numbers", "4155550199"); err == nil || !strings.Contains(err.Error(), "IVR_REGION") {
		t.Errorf("add with IVR_REGION=ZZ: %v, want the region refused", err)
	}
	if _, _, err := c.run("", "callers", "show", "9999"); err == nil || err.Error() != "no caller with account 9999" {
		t.Errorf("show unknown: %v", err)
	}

	accounts := func(args ...string) string {
		t.Helper()
		out := c.ok("", append([]string{"callers", "list", "--format", "csv"}, args...)...)
		var acc []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			acc = append(acc, strings.Split(line, ",")[0])
		}
		return strings.Join(acc, " ")
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "1001 1002 2001"},
		{[]string{"--name", "TURING"}, "1002"},
		{[]string{"--account", "10"}, "1001 1002"},
		{[]string{"--phone", "612345678"}, "2001"},
		{[]string{"--phone", "(415) 555-0103"}, "1002"},
		{[]string{"--limit", "2"}, "1001 1002"},
		{[]string{"--limit", "2", "--offset", "2"}, "2001"},
		{[]string{"--after", "1002"}, "2001"},
		{[]string{"--locked", "yes"}, ""},
		{[]string{"--status", "disabled"}, ""},
	} {
		if got := accounts(tt.args...); got != tt.want {
			t.Errorf("list %v = %q, want %q", tt.args, got, tt.want)
		}
	}

	if _, err := c.pool.Exec(context.Background(), `UPDATE callers SET pin_failures = 5, locked_until = now() + interval '1 hour' WHERE account = '1002'`); err != nil {
		t.Fatal(err)
	}
	if got := accounts("--locked", "yes"); got != "1002" {
		t.Errorf("locked callers %q, want 1002", got)
	}
	c.ok("", "callers", "unlock", "1002")
	if got := accounts("--locked", "no"); got != "1001 1002 2001" {
		t.Errorf("after unlock, unlocked callers %q", got)
	}
	if n := c.count(`SELECT pin_failures FROM callers WHERE account = '1002'`); n != 0 {
		t.Errorf("failures after unlock: %d", n)
	}

	c.ok("", "callers", "update", "1002", "--status", "disabled", "--numbers", "4155550199", "--language=")
	var status, lang string
	c.scalar(&status, `SELECT status FROM callers WHERE account = '1002'`)
	c.scalar(&lang, `SELECT language FROM callers WHERE account = '1002'`)
	if status != "disabled" || lang != "" || accounts("--phone", "+14155550199") != "1002" || accounts("--phone", "4155550103") != "" {
		t.Errorf("after update: status %q, language %q, numbers not replaced", status, lang)
	}

	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte("5820\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.pool.Exec(context.Background(), `UPDATE callers SET pin_failures = 2 WHERE account = '1001'`); err != nil {
		t.Fatal(err)
	}
	c.ok("", "callers", "set-pin", "1001", "--pin-file", pinFile)
	if err := c.pool.QueryRow(context.Background(), `SELECT pin_key_id, pin_version, pin_hash FROM callers WHERE account = '1001'`).Scan(&h.KeyID, &h.Version, &h.Sum); err != nil {
		t.Fatal(err)
	}
	if !kr.Verify("1001", "5820", h) || c.count(`SELECT pin_failures FROM callers WHERE account = '1001'`) != 0 {
		t.Error("set-pin did not store the new PIN and clear the failures")
	}
	if _, _, err := c.run("", "callers", "set-pin", "1001", "--pin-stdin"); err == nil {
		t.Error("set-pin with empty stdin succeeded")
	}
	_, _, err = c.run("", "callers", "set-pin", "1001", "--pin-file", pinFile, "--pin-key", "")
	if err == nil || !strings.Contains(err.Error(), "no PIN key") {
		t.Errorf("set-pin without a key: %v", err)
	}

	c.ok("", "callers", "delete", "2001")
	if _, _, err := c.run("", "callers", "delete", "2001"); err == nil || err.Error() != "no caller with account 2001" {
		t.Errorf("delete twice: %v", err)
	}
	if n := c.count(`SELECT count(*) FROM caller_phones WHERE e164 = '+31612345678'`); n != 0 {
		t.Errorf("the deleted caller's number is still there")
	}
}

// badImport has good rows, one row for each kind of mistake, and one row
// that clashes with the caller already in the database.
const badImport = `account,name,numbers,language,pin
1001,Ada Lovelace,+14155550101;4155550102,en,4831
10x2,Bad Account,+14155550103,,
1004,Bad Number,555,,
1005,No Number,,,
1006,Weak PIN,+14155550106,,1234
1001,Same Account,+14155550108,,
1009,Same Number,(415)555-0101,,
1010,Bad Language,+14155550110,English,
1011,In The Database,+14155550199,,
9000,Account In The Database,+14155550111,,
1013,Grace Hopper,+14155550113 +14155550114,es_MX,
`

func TestCallersImport(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "callers", "add", "9000", "--numbers", "+14155550199")
	file := filepath.Join(t.TempDir(), "callers.csv")
	if err := os.WriteFile(file, []byte(badImport), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := c.run("", "callers", "import", file)
	if err == nil || !strings.Contains(err.Error(), "8 of 11 rows are invalid; nothing imported") {
		t.Fatalf("import of a bad file: %v", err)
	}
	for _, want := range []string{
		":3: account \"10x2\" must be 1 to 20 digits",
		":4: number \"555\" is not a valid phone number",
		":6: pin is too easy to guess",
		":7: account 1001 is already on line 2",
		":8: number +14155550101 is already on line 2",
		":9: language \"English\"",
		":10: number +14155550199 already belongs to caller 9000",
		":11: account 9000 already exists",
	} {
		if !strings.Contains(stderr, file+want) {
			t.Errorf("the report lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "1234") || strings.Contains(stderr, "4831") {
		t.Errorf("the report shows a PIN:\n%s", stderr)
	}
	if n := c.count(`SELECT count(*) FROM callers`); n != 1 {
		t.Fatalf("%d callers after a refused import, want 1", n)
	}

	out, stderr, err := c.run("", "callers", "import", file, "--skip-invalid")
	if err != nil || out != "imported 3 callers, skipped 8 invalid rows\n" || !strings.Contains(stderr, "3/3 100%") {
		t.Fatalf("--skip-invalid: %v\nstdout %q\nstderr %q", err, out, stderr)
	}
	if n := c.count(`SELECT count(*) FROM callers WHERE account IN ('1001', '1013')`); n != 2 {
		t.Errorf("imported %d of the 2 good rows", n)
	}
	if n := c.count(`SELECT count(*) FROM callers WHERE pin_hash IS NOT NULL`); n != 1 {
		t.Errorf("%d callers with a PIN, want 1 (1001)", n)
	}

	export := c.ok("", "callers", "export")
	want := "account,name,numbers,language,status\n1001,Ada Lovelace,+14155550101;+14155550102,en,active\n1005,No Number,,,active\n" +
		"1013,Grace Hopper,+14155550113;+14155550114,es_MX,active\n9000,,+14155550199,,active\n"
	if export != want {
		t.Errorf("export:\ngot  %q\nwant %q", export, want)
	}
}

// TestCallersExportImportRoundTrip exports callers of every shape (disabled,
// without a number, with a language, with a PIN), imports the file into an
// empty database, and exports again: both files are the same, and no PIN
// left the first database.
func TestCallersExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	src, dst := newCLI(t), newCLI(t)
	src.ok("", "callers", "add", "1001", "--name", "Ada Lovelace", "--numbers", "+14155550101;+14155550102", "--language", "es_MX")
	src.ok("", "callers", "add", "1002", "--name", "Bob, Disabled", "--numbers", "+14155550103")
	src.ok("", "callers", "update", "1002", "--status", "disabled")
	src.ok("", "callers", "add", "1003", "--name", "Carol No Number")
	src.ok("4831\n", "callers", "add", "1004", "--name", "Dan With PIN", "--numbers", "+14155550104", "--pin-stdin")

	first := src.ok("", "callers", "export")
	if strings.Contains(first, "4831") {
		t.Fatalf("the export shows a PIN:\n%s", first)
	}
	file := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(file, []byte(first), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := dst.ok("", "callers", "import", file); out != "imported 4 callers\n" {
		t.Errorf("import of the export: %q", out)
	}
	if second := dst.ok("", "callers", "export"); second != first {
		t.Errorf("the export of the imported file differs:\nfirst  %q\nsecond %q", first, second)
	}
	if n := dst.count(`SELECT count(*) FROM callers WHERE account = '1002' AND status = 'disabled'`); n != 1 {
		t.Errorf("the disabled caller came back active")
	}
}

// TestCallersImportLatin1 imports a file saved as Latin-1: the row with the
// accented name is reported with its line, and --skip-invalid imports the
// others.
func TestCallersImportLatin1(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "latin1.csv")
	src := "account,name,numbers\n1001,Ada,+14155550101\n1002,Jos\xe9,+14155550102\n1003,Eve,+14155550103\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := c.run("", "callers", "import", file)
	if err == nil || !strings.Contains(stderr, file+":3: field 2 is not UTF-8 text") {
		t.Fatalf("import of a Latin-1 file: %v\n%s", err, stderr)
	}
	out, stderr, err := c.run("", "callers", "import", file, "--skip-invalid")
	if err != nil || out != "imported 2 callers, skipped 1 invalid rows\n" {
		t.Fatalf("--skip-invalid: %v\nstdout %q\nstderr %q", err, out, stderr)
	}
	if n := c.count(`SELECT count(*) FROM callers WHERE account IN ('1001', '1003')`); n != 2 {
		t.Errorf("imported %d of the 2 good rows", n)
	}
}

// BenchmarkCallersImport imports 10,000 callers with PINs into an empty
// database per iteration.
func BenchmarkCallersImport(b *testing.B) {
	var buf strings.Builder
	buf.WriteString("account,name,numbers,language,pin\n")
	for i := range 10000 {
		pin := fmt.Sprintf("%06d", (i*7919+104729)%1000000)
		for ivr.ValidatePIN(pin) != nil {
			pin = fmt.Sprintf("%06d", (i*31+len(pin)*7)%1000000+100000)
		}
		fmt.Fprintf(&buf, "%d,Caller %d,+1415%07d;+1628%07d,en,%s\n", 100000+i, i, i, i, pin)
	}
	file := filepath.Join(b.TempDir(), "callers.csv")
	if err := os.WriteFile(file, []byte(buf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		url := testdb.URL(b)
		env := map[string]string{"DATABASE_URL": url, "IVR_PIN_KEY": testPINKey}
		b.StartTimer()
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"callers", "import", file, "--skip-invalid"}, func(k string) string { return env[k] }, nil, &out, &errOut)
		if err != nil {
			b.Fatal(err)
		}
		if got := out.String(); got != "imported 10000 callers\n" {
			b.Fatalf("import said %q", got)
		}
	}
}

// TestCallersAddAndUpdateSayWhatIsWrong makes the mistakes an operator makes
// with add and update: each message names the field and the value given, and
// none is a raw database error.
func TestCallersAddAndUpdateSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "callers", "add", "1001", "--numbers", "+14155550101")
	c.ok("", "callers", "add", "1002", "--numbers", "+14155550102")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "1001"}, `add caller 1001: account "1001" already exists`},
		{[]string{"add", "1003", "--numbers", "+14155550101"}, "add caller 1003: number +14155550101 already belongs to caller 1001"},
		{[]string{"add", "12ab"}, `add caller 12ab: account "12ab" must be 1 to 20 digits`},
		{[]string{"add", "1003", "--language", "English"}, `add caller 1003: language "English" is not an Asterisk language code such as en or es_MX`},
		{[]string{"update", "1002", "--numbers", "+14155550101"}, "caller 1002: number +14155550101 already belongs to caller 1001"},
		{[]string{"update", "1002", "--language", "Spanish"}, `caller 1002: language "Spanish" is not an Asterisk language code`},
		{[]string{"update", "1234", "--name", "Nobody"}, "no caller with account 1234"},
		{[]string{"delete", "1234"}, "no caller with account 1234"},
	} {
		_, _, err := c.run("", append([]string{"callers"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ivr callers %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
			continue
		}
		for _, raw := range []string{"SQLSTATE", "constraint", "no rows"} {
			if strings.Contains(err.Error(), raw) {
				t.Errorf("ivr callers %s: a raw database error: %v", strings.Join(tc.args, " "), err)
			}
		}
	}
}
