package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/prompts"
)

func TestMenusAndSurveysApply(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	// The sample menus offer the sample survey, so they cannot go first.
	_, stderr, err := c.run("", "menus", "apply", "-f", "../../menus.yaml")
	if err == nil || !strings.Contains(stderr, `../../menus.yaml:36: menu "main": survey "satisfaction" is not published`) {
		t.Fatalf("menus before surveys: %v\n%s", err, stderr)
	}
	if n := c.count(`SELECT count(*) FROM menu_versions`); n != 0 {
		t.Fatalf("%d menu versions stored from a file with a mistake", n)
	}

	out := c.ok("", "surveys", "apply", "-f", "../../surveys.yaml", "--publish", "--format", "csv")
	if out != "key,version,status,changes,live\nsatisfaction,1,new,13,yes\n" {
		t.Errorf("surveys apply:\n%s", out)
	}
	out = c.ok("", "menus", "apply", "-f", "../../menus.yaml", "--publish", "--format", "csv")
	if out != "key,version,status,changes,live\nmain,1,new,21,yes\ndepartments,1,new,13,yes\n" {
		t.Errorf("menus apply:\n%s", out)
	}
	if n := c.count(`SELECT count(*) FROM menu_versions WHERE published_at IS NOT NULL`); n != 2 {
		t.Errorf("%d published menu versions, want 2", n)
	}
	if n := c.count(`SELECT count(*) FROM menu_options o JOIN menu_versions v ON v.id = o.menu_version_id JOIN menus m ON m.id = v.menu_id WHERE m.key = 'main'`); n != 7 {
		t.Errorf("main has %d options stored, want 7", n)
	}

	out = c.ok("", "menus", "apply", "-f", "../../menus.yaml", "--format", "csv")
	if out != "key,version,status,changes,live\nmain,1,unchanged,0,yes\ndepartments,1,unchanged,0,yes\n" {
		t.Errorf("applying the same file again:\n%s", out)
	}

	// A changed file stores a new draft of the changed menu only.
	data, err := os.ReadFile("../../menus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "invalid_prompt: pm-invalid-option", "invalid_prompt: pm-invalid-option-v2", 1)
	changed = strings.Replace(changed, "label: Operator", "label: Reception", 1)
	file := filepath.Join(t.TempDir(), "menus.yaml")
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out = c.ok("", "menus", "apply", "-f", file, "--dry-run", "--format", "csv")
	if out != "key,version,status,changes,live\ndepartments,1,unchanged,0,yes\nmain,-,changed,2,no\n" || c.count(`SELECT count(*) FROM menu_versions`) != 2 {
		t.Errorf("--dry-run:\n%s", out)
	}
	out = c.ok("", "menus", "apply", "-f", file, "--format", "csv")
	if out != "key,version,status,changes,live\ndepartments,1,unchanged,0,yes\nmain,2,changed,2,no\n" {
		t.Errorf("applying a changed file:\n%s", out)
	}
	out = c.ok("", "menus", "diff", "main", "--format", "csv")
	if out != "field,version 1,version 2\ninvalid_prompt,pm-invalid-option,pm-invalid-option-v2\noption 0 label,Operator,Reception\n" {
		t.Errorf("diff:\n%s", out)
	}
	out = c.ok("", "menus", "list", "--format", "csv")
	if !strings.Contains(out, "\nmain,2,1,2,") || !strings.Contains(out, "\ndepartments,1,1,1,") {
		t.Errorf("list:\n%s", out)
	}
	out = c.ok("", "menus", "list", "main", "--format", "csv")
	if !strings.Contains(out, "main,1,yes,") || !strings.Contains(out, "main,2,no,") {
		t.Errorf("list main:\n%s", out)
	}
	out = c.ok("", "menus", "show", "main", "--version", "live", "--format", "csv")
	if !strings.Contains(out, "version,1\n") || !strings.Contains(out, "invalid_prompt,pm-invalid-option\n") || !strings.Contains(out, "option 2,survey satisfaction\n") {
		t.Errorf("show live:\n%s", out)
	}
	if out := c.ok("", "menus", "publish", "main"); out != "menu main version 2 is live\n" {
		t.Errorf("publish: %q", out)
	}
	var live string
	c.scalar(&live, `SELECT v.invalid_prompt FROM menu_versions v JOIN menus m ON m.id = v.menu_id WHERE m.key = 'main' AND v.published_at IS NOT NULL ORDER BY v.version DESC LIMIT 1`)
	if live != "pm-invalid-option-v2" {
		t.Errorf("live invalid_prompt %q after publish", live)
	}
	if _, _, err := c.run("", "menus", "publish", "main", "--version", "1"); err == nil || !strings.Contains(err.Error(), "older than the live version 2") {
		t.Errorf("publishing an older version: %v", err)
	}

	// export writes what apply reads back to the same menus.
	exported := c.ok("", "menus", "export")
	// The file's text prompts are exported as the sounds they were stored as.
	opts := catalog.Options{PublishedSurveys: map[string]bool{"satisfaction": true},
		TextPrompt: func(p prompts.Prompt) string { return prompts.Voice{Dir: c.prompts}.SoundName(p) }}
	want, err := catalog.ParseMenus("menus.yaml", []byte(changed), opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := catalog.ParseMenus("export", []byte(exported), opts)
	if err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, exported)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[0], want[1]) || !reflect.DeepEqual(got[1], want[0]) {
		t.Errorf("export (in key order) differs from the file:\n%s", exported)
	}
	out = c.ok("", "surveys", "export")
	if !strings.Contains(out, "key: satisfaction") || !strings.Contains(out, "allowed_digits: \"12345\"") {
		t.Errorf("surveys export:\n%s", out)
	}
}

func TestMenusApplyReportsMistakes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "menus.yaml")
	src := "menus:\n  - key: main\n    prompt: hello\n    options:\n      - {digits: \"1\", action: recrod}\n      - {digits: \"1\", action: submenu, target: nowhere}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sounds := filepath.Join(dir, "sounds")
	if err := os.MkdirAll(sounds, 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := c.run("", "menus", "apply", "-f", file, "--sounds-dir", sounds)
	if err == nil || !strings.Contains(err.Error(), "3 mistakes; nothing stored") {
		t.Fatalf("apply: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		file + `:3: warning: menu "main": sound "hello" has no file in ` + sounds,
		file + `:5: menu "main": unknown action "recrod"`,
		file + `:6: menu "main": digits "1" are used twice (first on line 5)`,
		file + `:6: menu "main": submenu "nowhere" is neither in this file nor published`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := c.count(`SELECT count(*) FROM menus`); n != 0 {
		t.Errorf("%d menus stored", n)
	}
}

// A prompt that no sounds directory has is worth a warning naming its file and
// line, and is applied all the same: the sound may be installed later.
func TestMenusApplyWarnsAboutMissingSounds(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	stock, own := filepath.Join(dir, "stock"), filepath.Join(dir, "own")
	for _, f := range []string{
		filepath.Join(stock, "en", "pm-invalid-option.gsm"),
		filepath.Join(stock, "fr", "vm-goodbye.wav"),
		filepath.Join(own, "ivr", "main-menu.sln16"),
	} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "menus.yaml")
	src := "menus:\n  - key: main\n    prompt: ivr/main-menu\n    invalid_prompt: pm-invalid-option\n" +
		"    timeout_prompt: ivr/not-recorded\n    options:\n      - {digits: \"1\", action: hangup}\n" +
		"  - key: other\n    prompt: vm-goodbye&ivr/other-menu\n    options:\n      - {digits: \"1\", action: hangup}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := c.run("", "menus", "apply", "-f", file, "--publish", "--format", "csv", "--sounds-dir", stock, "--sounds-dir", own)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, stderr)
	}
	if out != "key,version,status,changes,live\nmain,1,new,8,yes\nother,1,new,6,yes\n" {
		t.Errorf("apply stored:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], file+`:5: warning: menu "main" timeout_prompt: sound "ivr/not-recorded" has no file in `+stock+" or "+own) ||
		!strings.HasPrefix(lines[1], file+`:9: warning: menu "other": sound "ivr/other-menu" has no file in`) {
		t.Errorf("want warnings for ivr/not-recorded (line 5) and ivr/other-menu (line 9), got:\n%s", stderr)
	}

	// The same two directories from $IVR_SOUNDS_DIR; a flag replaces them.
	env := map[string]string{"IVR_SOUNDS_DIR": stock + string(os.PathListSeparator) + own}
	_, stderr, err = c.runEnv(env, "", "menus", "apply", "-f", file)
	if err != nil || strings.Count(stderr, "warning:") != 2 {
		t.Errorf("IVR_SOUNDS_DIR: %v\n%s", err, stderr)
	}
	_, stderr, err = c.runEnv(env, "", "menus", "apply", "-f", file, "--sounds-dir", own)
	if err != nil || strings.Count(stderr, "warning:") != 4 || !strings.Contains(stderr, `sound "pm-invalid-option" has no file in `+own+" (") {
		t.Errorf("--sounds-dir over IVR_SOUNDS_DIR: %v\n%s", err, stderr)
	}
	_, stderr, err = c.run("", "menus", "apply", "-f", file, "--sounds-dir", filepath.Join(dir, "nowhere"))
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("a sounds dir that does not exist: %v\n%s", err, stderr)
	}
}

// TestApplySaysWhatTheDatabaseRefused applies a menu and a survey whose key
// the file format accepts but the database refuses (64 characters, one more
// than a key may have): the error names the menu or survey and what is wrong
// with its key, in the words of callers add, and nothing is stored.
func TestApplySaysWhatTheDatabaseRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	long := strings.Repeat("m", 64)
	dir := t.TempDir()
	for _, tc := range []struct{ kind, yaml, want string }{
		{"menus", "menus:\n  - key: " + long + "\n    prompt: hello\n    options:\n      - {digits: \"1\", action: hangup}\n",
			`store menus: menu "` + long + `" must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 63 characters`},
		{"surveys", "surveys:\n  - key: " + long + "\n    questions:\n      - {key: q, prompt: p, allowed_digits: \"12\"}\n",
			`store surveys: survey "` + long + `" must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 63 characters`},
	} {
		file := filepath.Join(dir, tc.kind+".yaml")
		if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := c.run("", tc.kind, "apply", "-f", file)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s apply: error %v\nwant %s", tc.kind, err, tc.want)
		}
	}
	if n := c.count(`SELECT (SELECT count(*) FROM menus) + (SELECT count(*) FROM surveys)`); n != 0 {
		t.Errorf("%d menus and surveys stored from refused files", n)
	}
}
