package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/prompts"
)

// The first words of the sample menus' prompts (menus.yaml), in English.
const (
	mainMenuWords    = "To leave a message, press 1."
	departmentsWords = "For sales, press 1."
)

// heardWords reports whether one of sounds is a text prompt rendered here
// whose first language's words begin with words.
func heardWords(sounds []string, words string) bool {
	return slices.ContainsFunc(sounds, func(s string) bool {
		w, ok := prompts.Words(s)
		return ok && strings.HasPrefix(w, words)
	})
}

// needVoice skips without espeak-ng and sox, except in CI, which installs
// them (.ci/run).
func needVoice(t *testing.T) {
	t.Helper()
	if tool := prompts.MissingTool(); tool != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: apt-get install espeak-ng sox", tool)
		}
		t.Skipf("%s is missing: apt-get install espeak-ng sox", tool)
	}
}

// promptsDir returns a new prompts directory for tb, removed after it. Its
// path is fit for --prompts-dir, which t.TempDir's (named after the test,
// with its spaces and commas) may not be.
func promptsDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "ivr-prompts-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// textMenu is a menu whose prompt is text in two languages.
func textMenu(words string) string {
	return `menus:
  - key: main
    prompt:
      - {text: "` + words + `", language: en}
      - {text: "Pour les ventes, tapez 1.", language: fr}
    invalid_prompt: pm-invalid-option
    options:
      - {digits: "1", action: operator}
`
}

// Applying a menu with a text prompt renders it into the prompts directory
// before the version that names it is stored; ivr prompts lists it, verify
// finds a missing file, render makes it again, and a replaced text is no
// longer live.
func TestTextPromptsEndToEnd(t *testing.T) {
	t.Parallel()
	needVoice(t)
	c := newCLI(t)
	dir := filepath.Join(promptsDir(t), "prompts")
	file := filepath.Join(t.TempDir(), "menus.yaml")
	if err := os.WriteFile(file, []byte(textMenu("For sales, press 1.")), 0o644); err != nil {
		t.Fatal(err)
	}

	// Without a prompts directory a text prompt is a mistake of the file.
	_, errOut, err := c.runEnv(map[string]string{"IVR_PROMPTS_DIR": ""}, "", "menus", "apply", "-f", file, "--publish")
	if err == nil || !strings.Contains(errOut, "menus.yaml:4:") || !strings.Contains(errOut, "--prompts-dir") {
		t.Errorf("apply without --prompts-dir: %v\n%s", err, errOut)
	}
	for _, bad := range []string{"prompts", "/var/lib/ivr prompts"} {
		if _, _, err := c.run("", "menus", "apply", "-f", file, "--prompts-dir", bad); err == nil {
			t.Errorf("apply took --prompts-dir %q", bad)
		}
	}

	_, errOut, err = c.run("", "menus", "apply", "-f", file, "--publish", "--prompts-dir", dir)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "rendered "+dir+"/") || !strings.Contains(errOut, "(en,fr): For sales, press 1.") {
		t.Errorf("apply did not say what it rendered:\n%s", errOut)
	}
	var sound string
	c.scalar(&sound, "SELECT prompt FROM menu_versions")
	hash := filepath.Base(sound)
	if filepath.Dir(sound) != dir {
		t.Fatalf("the menu's prompt is %q, want a sound in %s", sound, dir)
	}
	for _, f := range []string{hash + ".wav", "en/" + hash + ".wav", "fr/" + hash + ".wav"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}

	out := c.ok("", "prompts", "list", "--format", "csv")
	if want := sound + ",\"en,fr\",live,yes,\"For sales, press 1.\""; !strings.Contains(out, want) {
		t.Errorf("prompts list:\n%s\nwant the row %s", out, want)
	}
	if out := c.ok("", "prompts", "verify", "--format", "csv"); strings.TrimSpace(out) != "sound,problem,words" {
		t.Errorf("verify with every file there:\n%s", out)
	}

	// Applying the same file again renders nothing and stores nothing new.
	_, errOut, err = c.run("", "menus", "apply", "-f", file, "--publish", "--prompts-dir", dir)
	if err != nil || strings.Contains(errOut, "rendered") {
		t.Errorf("second apply: %v\n%s", err, errOut)
	}

	// A lost file: verify fails naming it, render makes it again.
	if err := os.Remove(filepath.Join(dir, "fr", hash+".wav")); err != nil {
		t.Fatal(err)
	}
	out, _, err = c.run("", "prompts", "verify", "--format", "csv")
	if err == nil || !strings.Contains(out, sound+",missing") {
		t.Errorf("verify with a file lost: %v\n%s", err, out)
	}
	out = c.ok("", "prompts", "render")
	if !strings.Contains(out, "rendered "+sound) || !strings.Contains(out, "rendered 1 of 1 text prompts") {
		t.Errorf("render:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "fr", hash+".wav")); err != nil {
		t.Errorf("render did not make the lost file: %v", err)
	}

	// New words are a new sound; the old one stays for the old version but
	// is no longer live.
	if err := os.WriteFile(file, []byte(textMenu("For sales, press one.")), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("", "menus", "apply", "-f", file, "--publish", "--prompts-dir", dir)
	var newSound string
	c.scalar(&newSound, "SELECT prompt FROM menu_versions WHERE version = 2")
	if newSound == sound {
		t.Fatal("new words kept the old sound name")
	}
	if _, err := os.Stat(sound + ".wav"); err != nil {
		t.Errorf("the old version's file is gone: %v", err)
	}
	out = c.ok("", "prompts", "verify", "--format", "csv")
	if !strings.Contains(out, sound+",not live") || strings.Contains(out, newSound) {
		t.Errorf("verify after a new version:\n%s\nwant only the old prompt, as not live", out)
	}
}
