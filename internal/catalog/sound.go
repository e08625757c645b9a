package catalog

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// soundExtensions are the file formats Asterisk plays a sound from. A prompt
// names the sound without one: Asterisk picks the best format it finds.
var soundExtensions = []string{
	"wav", "WAV", "wav16", "wav49", "gsm", "ulaw", "ul", "mu", "pcm", "alaw", "al",
	"sln", "raw", "sln12", "sln16", "sln24", "sln32", "sln44", "sln48", "sln96", "sln192",
	"g722", "g723", "g726", "g729", "ilbc", "siren7", "siren14", "speex", "ogg", "opus", "mp3",
}

// keyPattern is what a menu, survey or question key may look like.
var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// checkPrompt reports the mistakes in a prompt value and returns the sound
// names to store for it: one or more Asterisk sound names joined with "&",
// each without extension, or a text prompt (see checkTextPrompt). A sound
// that the sounds directories, when there are any, do not hold is a warning.
func (v *validator) checkPrompt(what string, p promptDoc, required bool, line int) string {
	if len(p.texts) > 0 {
		return v.checkTextPrompt(what, p)
	}
	if p.s == "" {
		if required {
			v.add(line, "%s: prompt is missing", what)
		}
		return ""
	}
	for _, name := range strings.Split(p.s, "&") {
		switch {
		case name == "":
			v.add(p.line, "%s: prompt %q has an empty sound name", what, p.s)
		case strings.ContainsAny(name, " \t\r\n,|\"'"):
			v.add(p.line, "%s: sound name %q contains a space, comma, quote or bar", what, name)
		case hasSoundExtension(name):
			v.add(p.line, "%s: sound name %q has a file extension; name the sound without it (Asterisk picks the format)", what, name)
		case len(v.opts.SoundsDirs) > 0 && !v.soundFound(name):
			v.warn(p.line, "%s: sound %q has no file in %s (looked for %s.* there and in every language folder such as en/): Asterisk will not find it",
				what, name, strings.Join(v.opts.SoundsDirs, " or "), name)
		}
	}
	return p.s
}

func hasSoundExtension(name string) bool {
	ext := filepath.Ext(name)
	if ext == "" {
		return false
	}
	for _, e := range soundExtensions {
		if ext[1:] == e {
			return true
		}
	}
	return false
}

// soundFound reports, remembering the answer, whether findSound finds name in
// the validator's sounds directories.
func (v *validator) soundFound(name string) bool {
	if known, ok := v.sounds[name]; ok {
		return known
	}
	if v.sounds == nil {
		v.sounds = make(map[string]bool)
	}
	found := findSound(name, v.opts.SoundsDirs)
	v.sounds[name] = found
	return found
}

// findSound reports whether one of the sounds directories dirs holds the
// sound name (such as "ivr/main-menu") in a form Asterisk plays for a caller of
// some language: a file name.<format>, of any format, in a directory itself or
// in one of its language folders (DIR/en/ivr/main-menu.wav, DIR/es_MX/...,
// DIR/ivr/main-menu.gsm). Asterisk tries the channel's language, that
// language without its _suffix, no language folder, then en (main/file.c). An
// absolute name is looked up where it points, and in the language folders
// beside it, whatever dirs says.
func findSound(name string, dirs []string) bool {
	if filepath.IsAbs(name) {
		dirs, name = []string{filepath.Dir(name)}, filepath.Base(name)
	}
	for _, dir := range dirs {
		if hasSoundFile(filepath.Join(dir, name)) {
			return true
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			// A language folder may be a link (Debian's en is one).
			lang := filepath.Join(dir, e.Name())
			if fi, err := os.Stat(lang); err == nil && fi.IsDir() && hasSoundFile(filepath.Join(lang, name)) {
				return true
			}
		}
	}
	return false
}

// hasSoundFile reports whether base.<extension> is a file (or a link to one)
// for some extension without a dot.
func hasSoundFile(base string) bool {
	entries, err := os.ReadDir(filepath.Dir(base))
	if err != nil {
		return false
	}
	prefix := filepath.Base(base) + "."
	for _, e := range entries {
		ext, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || ext == "" || strings.Contains(ext, ".") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(filepath.Dir(base), e.Name())); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
