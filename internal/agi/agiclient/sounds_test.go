package agiclient_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

// TestScanSounds reads directories laid out as Asterisk's sounds directory:
// language folders, folders of the site's own prompts, any format, linked
// folders followed.
func TestScanSounds(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	for _, f := range []string{"en/vm-password.gsm", "en/vm-password.wav", "en/digits/1.ulaw", "es/vm-login.sln16",
		"ivr/main-menu.wav", "beep.gsm", "README"} {
		writeFile(t, filepath.Join(dir, f))
	}
	writeFile(t, filepath.Join(other, "tt-weasels.gsm"))
	if err := os.Symlink(other, filepath.Join(dir, "fr")); err != nil {
		t.Fatal(err)
	}
	sounds, err := agiclient.ScanSounds(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, lang string
		want       bool
	}{
		{"vm-password", "en", true},
		{"vm-password", "es", true}, // en is the last resort
		{"digits/1", "en_GB", true},
		{"vm-login", "es_MX", true},
		{"vm-login", "en", false},
		{"ivr/main-menu", "es", true},
		{"beep", "de", true},
		{"tt-weasels", "fr", true}, // through the link
		{"tt-weasels", "en", false},
		{"README", "en", false}, // no format extension: no sound
		{"vm-password.gsm", "en", false},
		{"vm-password&beep", "en", false},
		{"", "en", false},
		{filepath.Join(dir, "beep"), "en", true},
		{filepath.Join(dir, "nosuch"), "en", false},
	} {
		if got := sounds.Has(c.name, c.lang); got != c.want {
			t.Errorf("Has(%q, %q) = %v, want %v", c.name, c.lang, got, c.want)
		}
	}
	if _, err := agiclient.ScanSounds(filepath.Join(dir, "nosuch")); err == nil {
		t.Error("ScanSounds of a directory that does not exist: no error")
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("audio"), 0o644); err != nil {
		t.Fatal(err)
	}
}
