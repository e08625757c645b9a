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

// checkPrompt reports the mistakes in a prompt value: one or more Asterisk sound
// names joined with "&", each without extension, and each present in the prompts
// directory when one is named.
func (v *validator) checkPrompt(what string, p scalar, required bool, line int) {
	if p.s == "" {
		if required {
			v.add(line, "%s: prompt is missing", what)
		}
		return
	}
	for _, name := range strings.Split(p.s, "&") {
		switch {
		case name == "":
			v.add(p.line, "%s: prompt %q has an empty sound name", what, p.s)
		case strings.ContainsAny(name, " \t\r\n,|\"'"):
			v.add(p.line, "%s: sound name %q contains a space, comma, quote or bar", what, name)
		case hasSoundExtension(name):
			v.add(p.line, "%s: sound name %q has a file extension; name the sound without it (Asterisk picks the format)", what, name)
		case v.opts.PromptsDir != "" && !v.soundExists(name):
			v.add(p.line, "%s: sound %q is not in %s (looked for %s.wav, .gsm, .ulaw, .sln ... there and in its language folders)",
				what, name, v.opts.PromptsDir, name)
		}
	}
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

// soundExists reports whether the prompts directory holds the sound in any
// format, directly or in a language folder (en/, es/ ...). Absolute sound names
// are looked up where they point.
func (v *validator) soundExists(name string) bool {
	if known, ok := v.sounds[name]; ok {
		return known
	}
	bases := []string{filepath.Join(v.opts.PromptsDir, name)}
	if filepath.IsAbs(name) {
		bases = []string{name}
	} else if langs, err := os.ReadDir(v.opts.PromptsDir); err == nil {
		for _, l := range langs {
			if l.IsDir() {
				bases = append(bases, filepath.Join(v.opts.PromptsDir, l.Name(), name))
			}
		}
	}
	found := false
	for _, base := range bases {
		for _, ext := range soundExtensions {
			if fi, err := os.Stat(base + "." + ext); err == nil && fi.Mode().IsRegular() {
				found = true
				break
			}
		}
	}
	if v.sounds == nil {
		v.sounds = make(map[string]bool)
	}
	v.sounds[name] = found
	return found
}
