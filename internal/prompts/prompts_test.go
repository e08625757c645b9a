package prompts_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/prompts"
)

// needTools skips without espeak-ng and sox, except in CI, which installs
// them (.ci/run).
func needTools(t *testing.T) {
	t.Helper()
	if tool := prompts.MissingTool(); tool != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: apt-get install espeak-ng sox", tool)
		}
		t.Skipf("%s is missing: apt-get install espeak-ng sox", tool)
	}
}

// wavFormat reads the sample rate, channels and bits per sample of a WAV
// file's fmt chunk.
func wavFormat(t *testing.T, path string) (rate uint32, channels, bits uint16) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" || string(data[12:16]) != "fmt " {
		t.Fatalf("%s is not a WAV file", path)
	}
	return binary.LittleEndian.Uint32(data[24:28]), binary.LittleEndian.Uint16(data[22:24]), binary.LittleEndian.Uint16(data[34:36])
}

var twoLanguages = prompts.Prompt{Texts: []prompts.Text{
	{Language: "en", Words: "For sales, press 1."},
	{Language: "fr", Words: "Pour les ventes, tapez 1."},
}}

// The default voice renders every language of a prompt, and the first once
// more without a language folder, as 8 kHz mono 16-bit WAV that Asterisk
// plays, with a JSON file saying what it says; a second render makes nothing.
func TestRenderWithTheDefaultVoice(t *testing.T) {
	needTools(t)
	v := prompts.Voice{Dir: t.TempDir()}
	made, err := v.Render(context.Background(), twoLanguages)
	if err != nil || !made {
		t.Fatalf("render: made %v, %v", made, err)
	}
	name := v.SoundName(twoLanguages)
	hash := filepath.Base(name)
	if filepath.Dir(name) != v.Dir {
		t.Errorf("sound name %s is not in %s", name, v.Dir)
	}
	for _, f := range []string{hash + ".wav", "en/" + hash + ".wav", "fr/" + hash + ".wav"} {
		rate, ch, bits := wavFormat(t, filepath.Join(v.Dir, f))
		if rate != 8000 || ch != 1 || bits != 16 {
			t.Errorf("%s: %d Hz, %d channels, %d bits; want 8000 Hz mono 16-bit", f, rate, ch, bits)
		}
	}
	en, _ := os.ReadFile(filepath.Join(v.Dir, "en", hash+".wav"))
	def, _ := os.ReadFile(filepath.Join(v.Dir, hash+".wav"))
	fr, _ := os.ReadFile(filepath.Join(v.Dir, "fr", hash+".wav"))
	if string(en) != string(def) || string(en) == string(fr) {
		t.Error("the default file is not the first language's words, or both languages say the same")
	}
	if !v.Exists(twoLanguages) {
		t.Error("Exists is false after the render")
	}
	if made, err := v.Render(context.Background(), twoLanguages); err != nil || made {
		t.Errorf("second render: made %v, %v; want nothing made", made, err)
	}
	list, err := prompts.List(v.Dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []prompts.Rendered{{Hash: hash, Voice: prompts.DefaultVoice, Texts: twoLanguages.Texts}}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("List = %+v, want %+v", list, want)
	}
	entries, _ := os.ReadDir(v.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// The name changes with the words, the languages and the voice, so a new
// text never overwrites the file of a version published before.
func TestHashNamesWordsLanguagesAndVoice(t *testing.T) {
	base := twoLanguages.Hash(prompts.DefaultVoice)
	others := map[string]string{
		"words":    prompts.Prompt{Texts: []prompts.Text{{Language: "en", Words: "For sales, press 2."}, twoLanguages.Texts[1]}}.Hash(prompts.DefaultVoice),
		"language": prompts.Prompt{Texts: []prompts.Text{twoLanguages.Texts[0]}}.Hash(prompts.DefaultVoice),
		"order":    prompts.Prompt{Texts: []prompts.Text{twoLanguages.Texts[1], twoLanguages.Texts[0]}}.Hash(prompts.DefaultVoice),
		"voice":    twoLanguages.Hash("other-tts"),
	}
	for what, h := range others {
		if h == base {
			t.Errorf("another %s gives the same hash %s", what, h)
		}
	}
	if again := twoLanguages.Hash(prompts.DefaultVoice); again != base {
		t.Errorf("the same prompt hashes to %s and %s", base, again)
	}
}

// A configured voice gets the words on its standard input and the language
// and output file in its environment; one that fails leaves nothing behind
// and its message reaches the error.
func TestRenderWithAConfiguredVoice(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	heard := filepath.Join(dir, "heard")
	// A voice that records what it was given and says it as a tone.
	v := prompts.Voice{Dir: dir, Command: `cat > "` + heard + `.$PROMPT_LANGUAGE" && sox -n -r 16000 -c 1 "$PROMPT_OUTPUT" synth 0.5 sine 440`}
	p := prompts.Prompt{Texts: []prompts.Text{{Language: "pt_BR", Words: "Olá"}}}
	if _, err := v.Render(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(heard + ".pt-br"); string(got) != "Olá" {
		t.Errorf("the voice heard %q in language pt-br, want Olá", got)
	}
	if rate, _, _ := wavFormat(t, filepath.Join(dir, "pt_BR", p.Hash(v.Command)+".wav")); rate != 8000 {
		t.Errorf("rendered at %d Hz, want 8000", rate)
	}

	broken := prompts.Voice{Dir: t.TempDir(), Command: `echo "no such voice" >&2; exit 3`}
	_, err := broken.Render(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "no such voice") {
		t.Errorf("broken voice: %v, want its message", err)
	}
	if entries, _ := os.ReadDir(broken.Dir); len(entries) != 0 {
		t.Errorf("a failed render left %d files", len(entries))
	}
}

// Render refuses a prompt with mistakes and a relative directory, which
// Asterisk would read from its own sounds directory.
func TestRenderRefuses(t *testing.T) {
	if _, err := (prompts.Voice{Dir: t.TempDir()}).Render(context.Background(), prompts.Prompt{}); err == nil {
		t.Error("rendered a prompt without words")
	}
	if _, err := (prompts.Voice{Dir: "prompts"}).Render(context.Background(), twoLanguages); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative directory: %v", err)
	}
}
