package catalog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/prompts"
)

// published validates against a published survey "satisfaction", and stores
// a text prompt as /prompts/ and its first language.
var published = catalog.Options{PublishedSurveys: map[string]bool{"satisfaction": true}, TextPrompt: firstLanguage}

// firstLanguage is a catalog.Options.TextPrompt for the tests.
func firstLanguage(p prompts.Prompt) string { return "/prompts/" + p.Texts[0].Language }

func TestSampleFilesParseAndRoundTrip(t *testing.T) {
	data, err := os.ReadFile("../../menus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	menus, err := catalog.ParseMenus("menus.yaml", data, published)
	if err != nil {
		t.Fatalf("sample menus.yaml: %v", err)
	}
	if len(menus) != 2 || menus[0].Key != "main" {
		t.Fatalf("got menus %+v, want main and departments", menus)
	}
	kinds := map[ivr.ActionKind]bool{}
	for _, o := range menus[0].Options {
		kinds[o.Action.Kind] = true
	}
	for _, k := range []ivr.ActionKind{ivr.ActionRecord, ivr.ActionSurvey, ivr.ActionPlayMessages, ivr.ActionChangePIN, ivr.ActionOperator} {
		if !kinds[k] {
			t.Errorf("main menu offers no %s", k)
		}
	}
	dep := menus[1]
	if dep.MaxAttempts != catalog.DefaultMaxAttempts || dep.MaxDigits != 1 || dep.Timeout != 5*time.Second || dep.FailureAction.Kind != ivr.ActionHangup {
		t.Errorf("departments defaults: %+v", dep)
	}
	out, err := catalog.MarshalMenus(menus)
	if err != nil {
		t.Fatal(err)
	}
	again, err := catalog.ParseMenus("export.yaml", out, published)
	if err != nil {
		t.Fatalf("exported menus do not parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(menus, again) {
		t.Errorf("round trip changed the menus:\n%s", out)
	}

	data, err = os.ReadFile("../../surveys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	surveys, err := catalog.ParseSurveys("surveys.yaml", data, catalog.Options{TextPrompt: firstLanguage})
	if err != nil {
		t.Fatalf("sample surveys.yaml: %v", err)
	}
	if len(surveys) != 1 || len(surveys[0].Questions) != 3 || surveys[0].Questions[1].Range == nil || surveys[0].Questions[1].Position != 2 {
		t.Fatalf("got surveys %+v", surveys)
	}
	out, err = catalog.MarshalSurveys(surveys)
	if err != nil {
		t.Fatal(err)
	}
	back, err := catalog.ParseSurveys("export.yaml", out, catalog.Options{})
	if err != nil || !reflect.DeepEqual(surveys, back) {
		t.Errorf("survey round trip: %v\n%s", err, out)
	}
}

func TestDigitsKeptAsWritten(t *testing.T) {
	src := "menus:\n- key: m\n  prompt: p\n  options:\n  - {digits: 01, action: hangup}\n  - {digits: 1, action: record}\n"
	menus, err := catalog.ParseMenus("m.yaml", []byte(src), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := menus[0].Options[0].Digits; got != "01" {
		t.Errorf("digits 01 read as %q", got)
	}
	if menus[0].MaxDigits != 2 {
		t.Errorf("max_digits defaulted to %d, want the longest option 2", menus[0].MaxDigits)
	}
}

// menu builds a one-menu file around the given option lines (each indented
// for the options list) and extra menu fields.
func menu(fields string, options ...string) string {
	return "menus:\n  - key: main\n    prompt: hello\n" + fields + "    options:\n" + strings.Join(options, "")
}

func TestMenuMistakes(t *testing.T) {
	const ok = "      - {digits: \"1\", action: record}\n"
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{"syntax", "menus: [\n", 1, "']' not found"},
		{"unknown field", menu("    colour: blue\n", ok), 4, `unknown field "colour"`},
		{"unknown option field", menu("", "      - digits: \"1\"\n        action: record\n        goto: x\n"), 7, `unknown field "goto"`},
		{"no menus", "menus: []\n", 0, "no menus"},
		{"no key", "menus:\n  - prompt: hello\n    options:\n" + ok, 2, "menu has no key"},
		{"bad key", strings.Replace(menu("", ok), "main", "Main Menu", 1), 2, `menu key "Main Menu" must be`},
		{"duplicate menu", menu("", ok) + "  - key: main\n    prompt: x\n    options:\n" + ok, 6, `menu "main" is defined twice (first on line 2)`},
		{"no prompt", "menus:\n  - key: main\n    options:\n" + ok, 2, "prompt is missing"},
		{"no options", "menus:\n  - key: main\n    prompt: hello\n", 2, "has no options"},
		{"unknown action", menu("", "      - digits: \"1\"\n        action: recrod\n"), 6, `unknown action "recrod"`},
		{"no action", menu("", "      - digits: \"1\"\n"), 5, `option "1" has no action`},
		{"duplicate digits", menu("", ok, "      - digits: \"1\"\n        action: hangup\n"), 6, `digits "1" are used twice (first on line 5)`},
		{"bad digits", menu("", "      - {digits: \"1a\", action: record}\n"), 5, `digits "1a" may hold only`},
		{"no digits", menu("", "      - {action: record}\n"), 5, "option has no digits"},
		{"missing target", menu("", ok, "      - {digits: \"2\", action: submenu}\n"), 6, "action submenu needs a target"},
		{"stray target", menu("", "      - {digits: \"1\", action: record, target: x}\n"), 5, "action record takes no target"},
		{"missing submenu", menu("", ok, "      - {digits: \"2\", action: submenu, target: billing}\n"), 6, `submenu "billing" is neither in this file nor published`},
		{"self submenu", menu("", ok, "      - {digits: \"2\", action: submenu, target: main}\n"), 6, "opens the menu itself"},
		{"missing survey", menu("", ok, "      - {digits: \"2\", action: survey, target: nps}\n"), 6, `survey "nps" is not published`},
		{"bad transfer", menu("", "      - {digits: \"0\", action: transfer, target: \"sales desk\"}\n"), 5, "contains a space"},
		{"bad timeout", menu("    timeout: 5\n", ok), 4, `timeout "5" is not a duration`},
		{"long timeout", menu("    timeout: 2m\n", ok), 4, "timeout 2m0s is outside"},
		{"bad attempts", menu("    timeout: 5s\n    max_attempts: 50\n", ok), 5, "max_attempts 50 is outside 1 to 10"},
		{"attempts not a number", menu("    max_attempts: many\n", ok), 4, `"many" is not a whole number`},
		{"short max_digits", menu("    max_digits: 1\n", "      - {digits: \"12\", action: record}\n"), 4, "max_digits 1 must be between the longest option (2)"},
		{"tab", strings.Replace(menu("", ok), "    prompt", "\tprompt", 1), 3, "a tab in the indentation: YAML indents with spaces only"},
		{"unquoted #", menu("", "      - digits: #\n        action: hangup\n"), 5, `an unquoted # starts a comment, so there is no value: write "#"`},
		{"bad on_failure", menu("    on_failure: record\n", ok), 4, `on_failure "record" must be operator or hangup`},
		{"prompt extension", strings.Replace(menu("", ok), "hello", "hello.wav", 1), 3, `"hello.wav" has a file extension`},
		{"prompt with space", strings.Replace(menu("", ok), "hello", "hello world", 1), 3, "contains a space"},
		{"repeat only", menu("", "      - {digits: \"1\", action: repeat}\n"), 2, `menu "main" has no way out`},
		{"loop", menu("", "      - {digits: \"1\", action: submenu, target: a}\n") +
			"  - key: a\n    prompt: x\n    options:\n      - {digits: \"1\", action: submenu, target: main}\n      - {digits: \"2\", action: repeat}\n",
			2, "loop with no way out: main → a → main"},
		{"mapping as value", strings.Replace(menu("", ok), "main", "{a: b}", 1), 2, "want a single value"},
		{"text prompt without language", strings.Replace(menu("", ok), "hello", "{text: Hello}", 1), 3, `text prompt "Hello" has no language`},
		{"text prompt, unknown field", strings.Replace(menu("", ok), "hello", "{text: Hello, language: en, voice: x}", 1), 3, `unknown field "voice"`},
		{"text prompt, bad language", strings.Replace(menu("", ok), "hello", "{text: Hello, language: English}", 1), 3, `language "English" is not an Asterisk language code`},
		{"text prompt, language twice", strings.Replace(menu("", ok), "hello", "[{text: Hello, language: en}, {text: Hi, language: en}]", 1), 3, `language "en" is given twice`},
		{"text prompt, empty", strings.Replace(menu("", ok), "hello", "{text: '', language: en}", 1), 3, "the en text is empty"},
		{"text prompt, no prompts directory", strings.Replace(menu("", ok), "hello", "{text: Hello, language: en}", 1), 3, "give one with --prompts-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.ParseMenus("menus.yaml", []byte(tt.src), catalog.Options{})
			ps, ok := err.(catalog.Problems)
			if !ok {
				t.Fatalf("got error %v (%T), want Problems", err, err)
			}
			for _, p := range ps {
				if p.Line == tt.line && strings.Contains(p.Message, tt.want) && p.File == "menus.yaml" {
					return
				}
			}
			t.Errorf("no problem at line %d containing %q; got:\n%v", tt.line, tt.want, err)
		})
	}
}

func TestEveryMistakeIsReported(t *testing.T) {
	src := menu("    on_failure: record\n",
		"      - {digits: \"1\", action: recrod}\n",
		"      - {digits: \"2\", action: survey, target: nps}\n")
	_, err := catalog.ParseMenus("menus.yaml", []byte(src), catalog.Options{})
	ps, _ := err.(catalog.Problems)
	if len(ps) != 3 {
		t.Fatalf("want 3 problems, got:\n%v", err)
	}
	if got := ps[0].String(); !strings.HasPrefix(got, "menus.yaml:4: ") {
		t.Errorf("first problem %q, want it at menus.yaml:4", got)
	}
}

func TestPublishedTargetsResolve(t *testing.T) {
	src := menu("", "      - {digits: \"1\", action: submenu, target: billing}\n", "      - {digits: \"2\", action: survey, target: nps}\n")
	opts := catalog.Options{PublishedMenus: map[string]bool{"billing": true}, PublishedSurveys: map[string]bool{"nps": true}}
	if _, err := catalog.ParseMenus("menus.yaml", []byte(src), opts); err != nil {
		t.Fatalf("published targets: %v", err)
	}
}

// writeFiles creates each file (with its folders) under dir.
func writeFiles(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSoundsDirsWarnAboutMissingPrompts(t *testing.T) {
	stock, own := t.TempDir(), t.TempDir()
	writeFiles(t, stock, "hello.gsm", "en/bye.ulaw", "es_MX/hola.opus", "empty-dir.wav/x", "en/tt-weasels.gsm.bak")
	writeFiles(t, own, "ivr/main.sln16", "fr/ivr/bonjour.xyz")
	// A language folder that is a link, as Debian's sounds/en is.
	if err := os.Symlink(filepath.Join(stock, "es_MX"), filepath.Join(own, "es")); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(t.TempDir(), "custom", "welcome")
	writeFiles(t, filepath.Dir(abs), "en/welcome.wav")

	src := "menus:\n  - key: main\n    prompt: hello&bye&ivr/main&hola&ivr/bonjour&" + abs + "\n" +
		"    invalid_prompt: empty-dir\n    timeout_prompt: tt-weasels&nowhere\n" +
		"    options:\n      - {digits: \"1\", action: record}\n"
	var warns []catalog.Problem
	opts := catalog.Options{SoundsDirs: []string{stock, own}, Warn: func(p catalog.Problem) { warns = append(warns, p) }}
	menus, err := catalog.ParseMenus("menus.yaml", []byte(src), opts)
	if err != nil || len(menus) != 1 {
		t.Fatalf("a missing sound must not make the file invalid: %v", err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		`menus.yaml:4: warning: menu "main" invalid_prompt: sound "empty-dir" has no file in ` + stock + " or " + own,
		`menus.yaml:5: warning: menu "main" timeout_prompt: sound "tt-weasels" has no file in`,
		`menus.yaml:5: warning: menu "main" timeout_prompt: sound "nowhere" has no file in`,
	}
	if len(got) != len(want) {
		t.Fatalf("got warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}

	// Without sounds directories nothing is looked up.
	warns = nil
	if _, err := catalog.ParseMenus("menus.yaml", []byte(src), catalog.Options{Warn: opts.Warn}); err != nil || len(warns) != 0 {
		t.Errorf("no sounds dirs: err %v, warnings %v", err, warns)
	}

	// Warnings come with the mistakes of an invalid file too.
	warns = nil
	surveys := "surveys:\n  - key: s\n    intro_prompt: nowhere\n    questions:\n      - {key: q, prompt: hello}\n"
	_, err = catalog.ParseSurveys("surveys.yaml", []byte(surveys), opts)
	if err == nil || len(warns) != 1 || warns[0].Line != 3 || !strings.Contains(warns[0].Message, `sound "nowhere"`) {
		t.Errorf("surveys: err %v, warnings %v", err, warns)
	}
}

// The sample menus and survey play on a stock Asterisk with its core English
// sounds and the project's own prompts: every sound they name is in one of
// the two.
func TestSamplePromptsExist(t *testing.T) {
	stock := "/usr/share/asterisk/sounds"
	if _, err := os.Stat(filepath.Join(stock, "en", "vm-goodbye.gsm")); err != nil {
		t.Fatalf("Asterisk's core English sounds are not installed (%v): apt-get install asterisk-core-sounds-en", err)
	}
	var warns []string
	opts := catalog.Options{
		PublishedSurveys: map[string]bool{"satisfaction": true},
		SoundsDirs:       []string{"../../deploy/asterisk/sounds", stock},
		Warn:             func(p catalog.Problem) { warns = append(warns, p.String()) },
		// Text prompts are rendered when applied; their files are not checked here.
		TextPrompt: firstLanguage,
	}
	for file, parse := range map[string]func(string, []byte, catalog.Options) error{
		"menus.yaml": func(n string, b []byte, o catalog.Options) error { _, err := catalog.ParseMenus(n, b, o); return err },
		"surveys.yaml": func(n string, b []byte, o catalog.Options) error {
			_, err := catalog.ParseSurveys(n, b, o)
			return err
		},
	} {
		data, err := os.ReadFile("../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		if err := parse(file, data, opts); err != nil {
			t.Fatal(err)
		}
	}
	if len(warns) > 0 {
		t.Errorf("the samples name prompts that neither deploy/asterisk/sounds nor %s has (run make prompts):\n%s",
			stock, strings.Join(warns, "\n"))
	}
}

func TestSurveyMistakes(t *testing.T) {
	q := func(lines string) string {
		return "surveys:\n  - key: s\n    questions:\n      - key: q\n        prompt: p\n" + lines
	}
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{"no answers", q(""), 4, "needs allowed_digits or a range"},
		{"both", q("        allowed_digits: \"12\"\n        range: {min: 1, max: 2}\n"), 4, "has both allowed_digits and a range"},
		{"bad digits", q("        allowed_digits: \"1x\"\n"), 6, "may hold only"},
		{"repeated digits", q("        allowed_digits: \"121\"\n"), 6, "names '1' twice"},
		{"empty range", q("        range: {min: 5, max: 1}\n"), 4, "range 5-1 must satisfy"},
		{"not a bool", q("        allowed_digits: \"1\"\n        required: maybe\n        kind: x\n"), 7, `"maybe" is not true or false`},
		{"unknown field", q("        allowed_digits: \"1\"\n        kind: x\n"), 7, `unknown field "kind"`},
		{"no questions", "surveys:\n  - key: s\n", 2, `survey "s" has no questions`},
		{"duplicate question", q("        allowed_digits: \"1\"\n      - {key: q, prompt: p, allowed_digits: \"2\"}\n"), 7, `question "q" is defined twice (first on line 4)`},
		{"no prompt", "surveys:\n  - key: s\n    questions:\n      - {key: q, allowed_digits: \"1\"}\n", 4, "prompt is missing"},
		{"duplicate survey", "surveys:\n  - {key: s, questions: [{key: q, prompt: p, allowed_digits: \"1\"}]}\n" +
			"  - {key: s, questions: [{key: q, prompt: p, allowed_digits: \"1\"}]}\n", 3, `survey "s" is defined twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.ParseSurveys("surveys.yaml", []byte(tt.src), catalog.Options{})
			ps, _ := err.(catalog.Problems)
			for _, p := range ps {
				if p.Line == tt.line && strings.Contains(p.Message, tt.want) {
					return
				}
			}
			t.Errorf("no problem at line %d containing %q; got:\n%v", tt.line, tt.want, err)
		})
	}
}

func TestDiffMenus(t *testing.T) {
	a := ivr.Menu{Key: "main", Version: 1, Prompt: "p1", Timeout: 5 * time.Second, MaxDigits: 1, MaxAttempts: 3,
		FailureAction: ivr.Action{Kind: ivr.ActionHangup},
		Options: []ivr.MenuOption{
			{Digits: "1", Action: ivr.Action{Kind: ivr.ActionRecord}, Label: "Message"},
			{Digits: "2", Action: ivr.Action{Kind: ivr.ActionSurvey, Target: "old"}},
		}}
	b := a
	b.Version, b.VersionID, b.Published = 2, 7, true
	if cs := catalog.DiffMenus(a, b); len(cs) != 0 {
		t.Fatalf("same content, different version: %v", cs)
	}
	b.Prompt = "p2"
	b.Options = []ivr.MenuOption{
		{Digits: "2", Action: ivr.Action{Kind: ivr.ActionSurvey, Target: "new"}},
		{Digits: "0", Action: ivr.Action{Kind: ivr.ActionOperator}},
	}
	want := []catalog.Change{
		{Field: "prompt", Old: "p1", New: "p2"},
		{Field: "option 1", Old: "record"},
		{Field: "option 1 label", Old: "Message"},
		{Field: "option 2", Old: "survey old", New: "survey new"},
		{Field: "option 0", New: "operator"},
	}
	if got := catalog.DiffMenus(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("DiffMenus:\ngot  %v\nwant %v", got, want)
	}
}

func TestDiffSurveys(t *testing.T) {
	a := ivr.Survey{Key: "s", Questions: []ivr.Question{{Position: 1, Key: "q", Prompt: "p", AllowedDigits: "12"}}}
	b := ivr.Survey{Key: "s", Questions: []ivr.Question{
		{Position: 1, Key: "n", Prompt: "p", Range: &ivr.AnswerRange{Min: 0, Max: 10}, Required: true},
		{Position: 2, Key: "q", Prompt: "p", AllowedDigits: "12"},
	}}
	want := []catalog.Change{
		{Field: "question q position", Old: "1", New: "2"},
		{Field: "question n position", New: "1"},
		{Field: "question n prompt", New: "p"},
		{Field: "question n answers", New: "0-10"},
		{Field: "question n required", New: "required"},
	}
	if got := catalog.DiffSurveys(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("DiffSurveys:\ngot  %v\nwant %v", got, want)
	}
}

// A prompt written as text, in one language or several, is stored as the
// sound name Options.TextPrompt gives it, in every kind of file.
func TestTextPrompts(t *testing.T) {
	var got []prompts.Prompt
	opts := catalog.Options{TextPrompt: func(p prompts.Prompt) string {
		got = append(got, p)
		return fmt.Sprintf("/prompts/p%d", len(got))
	}}
	menus, err := catalog.ParseMenus("menus.yaml", []byte(`menus:
  - key: main
    prompt:
      - text: For sales, press 1.
        language: en
      - text: Pour les ventes, tapez 1.
        language: fr
    invalid_prompt: {text: That is not an option., language: en}
    timeout_prompt: please-try-again
    options:
      - {digits: "1", action: operator}
`), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 && got[0].Texts[0].Words != "For sales, press 1." {
		t.Errorf("first text %q", got[0].Texts[0].Words)
	}
	if m := menus[0]; m.Prompt != "/prompts/p1" || m.InvalidPrompt != "/prompts/p2" || m.TimeoutPrompt != "please-try-again" {
		t.Errorf("prompts stored as %q, %q, %q", m.Prompt, m.InvalidPrompt, m.TimeoutPrompt)
	}
	want := []prompts.Prompt{
		{Texts: []prompts.Text{{Language: "en", Words: "For sales, press 1."}, {Language: "fr", Words: "Pour les ventes, tapez 1."}}},
		{Texts: []prompts.Text{{Language: "en", Words: "That is not an option."}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("text prompts %+v, want %+v", got, want)
	}

	// Block scalars, folded (>-) or literal (|), are their text.
	got = nil
	if _, err := catalog.ParseMenus("menus.yaml", []byte("menus:\n  - key: m\n    prompt:\n      text: >-\n        For sales,\n        press 1.\n      language: en\n    options:\n      - digits: \"1\"\n        action: operator\n        label: |-\n          Sales\n"), opts); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Texts[0].Words != "For sales, press 1." {
		t.Errorf("folded text read as %+v", got)
	}

	surveys, err := catalog.ParseSurveys("surveys.yaml", []byte(`surveys:
  - key: s
    intro_prompt: {text: A short survey., language: en}
    questions:
      - key: q1
        prompt: {text: How did we do?, language: en}
        allowed_digits: "12345"
`), opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := surveys[0]; s.IntroPrompt != "/prompts/p2" || s.Questions[0].Prompt != "/prompts/p3" {
		t.Errorf("survey prompts stored as %q, %q", s.IntroPrompt, s.Questions[0].Prompt)
	}
}
