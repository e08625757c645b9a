// Package prompts turns prompts written as text into sound files Asterisk
// plays.
//
// A text prompt has its words in one or more languages. It is rendered, once,
// into a prompts directory that Asterisk reads, under a name made from a hash
// of its words, languages and voice, so a changed text is a new file and the
// versions of a menu published earlier keep theirs:
//
//	DIR/<hash>.wav        the first language's words, heard by a caller of any other language
//	DIR/<lang>/<hash>.wav each language's words
//	DIR/<hash>.json       what the sound says (Rendered), for ivr prompts list
//
// The menus name the sound DIR/<hash>, an absolute path without extension.
// Asterisk looks such a name up in DIR/<channel language>/ first and in DIR
// itself after (main/file.c), so the channel's language picks the words and a
// language the prompt lacks gets the first one.
//
// A voice is a shell command that reads the words on its standard input and
// writes a WAV file to $PROMPT_OUTPUT in the language $PROMPT_LANGUAGE
// (DefaultVoice runs espeak-ng). sox then makes it what Asterisk plays without
// transcoding: 8 kHz, mono, 16-bit, with the silence around the words trimmed.
package prompts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// DefaultVoice is the voice used when none is configured: espeak-ng, from
// Debian's espeak-ng package, in the prompt's language.
const DefaultVoice = `espeak-ng -v "$PROMPT_LANGUAGE" -s 150 --stdin -w "$PROMPT_OUTPUT"`

// MissingTool names the first of espeak-ng and sox, the tools of
// DefaultVoice and of the conversion every voice's output goes through, that
// is not installed, or returns "".
func MissingTool() string {
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool
		}
	}
	return ""
}

// Text is a prompt's words in one language.
type Text struct {
	// Language is the Asterisk language code the words are in: en, fr,
	// pt_BR.
	Language string `json:"language"`
	// Words is what the prompt says.
	Words string `json:"words"`
}

// Prompt is a prompt given as text, in one or more languages; the first is the
// default.
type Prompt struct {
	Texts []Text
}

// languagePattern is what an Asterisk language code may look like here.
var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$`)

// Check returns what is wrong with p, or nil: no text, an empty text, a
// malformed or repeated language.
func (p Prompt) Check() error {
	if len(p.Texts) == 0 {
		return errors.New("a text prompt needs its words in at least one language")
	}
	seen := map[string]bool{}
	for _, t := range p.Texts {
		switch {
		case !languagePattern.MatchString(t.Language):
			return fmt.Errorf("language %q is not an Asterisk language code such as en, fr or pt_BR", t.Language)
		case seen[t.Language]:
			return fmt.Errorf("language %q is given twice", t.Language)
		case strings.TrimSpace(t.Words) == "":
			return fmt.Errorf("the %s text is empty", t.Language)
		}
		seen[t.Language] = true
	}
	return nil
}

// Hash names p spoken by voice: the same words, languages (in order) and
// voice give the same hash, any change another.
func (p Prompt) Hash(voice string) string {
	h := sha256.New()
	fmt.Fprintf(h, "voice %q\n", voice)
	for _, t := range p.Texts {
		fmt.Fprintf(h, "%q %q\n", t.Language, t.Words)
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// Voice renders prompts into a directory.
type Voice struct {
	// Dir is the prompts directory, an absolute path that Asterisk reads
	// under the same name.
	Dir string
	// Command is the shell command that speaks (see the package doc);
	// empty is DefaultVoice.
	Command string
}

// command returns the voice's command.
func (v Voice) command() string {
	if v.Command == "" {
		return DefaultVoice
	}
	return v.Command
}

// SoundName returns the name the menus give Asterisk for p: its file in Dir
// without extension.
func (v Voice) SoundName(p Prompt) string {
	return filepath.Join(v.Dir, p.Hash(v.command()))
}

// Rendered is what a rendered prompt's JSON file says.
type Rendered struct {
	// Hash is the prompt's name in the directory.
	Hash string `json:"hash"`
	// Voice is the command that spoke it.
	Voice string `json:"voice"`
	// Texts are its words, the default language first.
	Texts []Text `json:"texts"`
}

// Exists reports whether every file of p is in Dir.
func (v Voice) Exists(p Prompt) bool {
	for _, f := range v.files(p) {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	return true
}

// files lists the sound files of p: the default, then one per language.
func (v Voice) files(p Prompt) []string {
	hash := p.Hash(v.command())
	files := []string{filepath.Join(v.Dir, hash+".wav")}
	for _, t := range p.Texts {
		files = append(files, filepath.Join(v.Dir, t.Language, hash+".wav"))
	}
	return files
}

// Render makes the files of p that Dir lacks (and Dir, when it is missing)
// and reports whether it made any. Each file is written under a temporary name and renamed, so Asterisk
// never plays half a file and a failed render leaves nothing behind.
func (v Voice) Render(ctx context.Context, p Prompt) (bool, error) {
	if err := p.Check(); err != nil {
		return false, err
	}
	if !filepath.IsAbs(v.Dir) {
		return false, fmt.Errorf("prompts directory %q is not an absolute path: Asterisk needs one", v.Dir)
	}
	if v.Exists(p) {
		return false, nil
	}
	hash := p.Hash(v.command())
	if err := os.MkdirAll(v.Dir, 0o755); err != nil {
		return false, fmt.Errorf("prompts directory: %w", err)
	}
	tmp, err := os.MkdirTemp(v.Dir, ".render-")
	if err != nil {
		return false, fmt.Errorf("prompts directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	for i, t := range p.Texts {
		out := filepath.Join(tmp, t.Language+".wav")
		if err := v.speak(ctx, t, out); err != nil {
			return false, err
		}
		if err := install(out, filepath.Join(v.Dir, t.Language, hash+".wav")); err != nil {
			return false, err
		}
		if i == 0 {
			if err := install(out, filepath.Join(v.Dir, hash+".wav")); err != nil {
				return false, err
			}
		}
	}
	meta, err := json.MarshalIndent(Rendered{Hash: hash, Voice: v.command(), Texts: p.Texts}, "", "  ")
	if err != nil {
		return false, err
	}
	metaTmp := filepath.Join(tmp, "meta.json")
	if err := os.WriteFile(metaTmp, append(meta, '\n'), 0o644); err != nil {
		return false, err
	}
	return true, install(metaTmp, filepath.Join(v.Dir, hash+".json"))
}

// speak runs the voice for t and converts what it wrote into out, 8 kHz mono
// 16-bit WAV.
func (v Voice) speak(ctx context.Context, t Text, out string) error {
	raw := out + ".voice.wav"
	cmd := exec.CommandContext(ctx, "sh", "-c", v.command())
	cmd.Stdin = strings.NewReader(t.Words)
	cmd.Env = append(os.Environ(), "PROMPT_LANGUAGE="+voiceLanguage(t.Language), "PROMPT_OUTPUT="+raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		hint := ""
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) && exit.ExitCode() == 127 {
			hint = " (the voice's command was not found: install espeak-ng, or configure another voice)"
		}
		return fmt.Errorf("voice for %s text %q: %w: %s%s", t.Language, abbrev(t.Words), err, strings.TrimSpace(stderr.String()), hint)
	}
	// -D: no dither, so the same words give the same file. silence ... reverse
	// twice: trim the quiet before and after the words; pad: a short breath
	// before what comes next.
	sox := exec.CommandContext(ctx, "sox", "-D", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out,
		"silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse", "norm", "-3", "pad", "0", "0.3")
	stderr.Reset()
	sox.Stderr = &stderr
	if err := sox.Run(); errors.Is(err, exec.ErrNotFound) {
		return errors.New("sox, which converts the voice's WAV to 8 kHz, is not installed")
	} else if err != nil {
		return fmt.Errorf("sox, converting the %s text %q to 8 kHz: %w: %s", t.Language, abbrev(t.Words), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// voiceLanguage is the language name a voice gets for an Asterisk language
// code: pt_BR is pt-br.
func voiceLanguage(lang string) string {
	return strings.ToLower(strings.ReplaceAll(lang, "_", "-"))
}

// abbrev shortens words for an error message.
func abbrev(words string) string {
	if r := []rune(words); len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return words
}

// install copies src to dst (making dst's directory) by way of a temporary
// file renamed into place.
func install(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// List returns the prompts rendered into dir, by hash.
func List(dir string) ([]Rendered, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	out := make([]Rendered, 0, len(paths))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var r Rendered
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Words returns the first language's words of the rendered prompt whose sound
// name is sound (its JSON file beside it), and false when sound is not a
// rendered text prompt readable here.
func Words(sound string) (string, bool) {
	if !filepath.IsAbs(sound) {
		return "", false
	}
	data, err := os.ReadFile(sound + ".json")
	if err != nil {
		return "", false
	}
	var r Rendered
	if json.Unmarshal(data, &r) != nil || len(r.Texts) == 0 {
		return "", false
	}
	return r.Texts[0].Words, true
}
