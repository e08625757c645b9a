package agiclient

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Sounds is the set of sound files a simulated Asterisk can play. A name is
// kept as Asterisk's sounds directory holds it: relative to that directory,
// with "/" between folders and without the format extension ("en/vm-password",
// "ivr/main-menu", "vm-password"), or as an absolute path without extension.
//
// A nil *Sounds holds no sound. A Sounds is not changed after it is built and
// may be shared by many calls at once.
type Sounds struct {
	names map[string]bool
	dirs  []string // the directories scanned, absolute
}

// NewSounds returns the set of the given names, as Sounds describes them.
// A name without a language folder ("beep") is found in every language, as
// a file directly in Asterisk's sounds directory is.
func NewSounds(names ...string) *Sounds {
	s := &Sounds{names: make(map[string]bool, len(names))}
	for _, n := range names {
		s.names[n] = true
	}
	return s
}

// maxSoundDepth bounds the folders ScanSounds descends, so a symbolic link
// that points back up cannot make it loop.
const maxSoundDepth = 8

// ScanSounds returns the sounds found in the given directories, each read as
// an Asterisk sounds directory: <dir>/<lang>/<name>.<ext> and <dir>/<name>.<ext>,
// in any format (any extension), folders and symbolic links followed. It
// fails when a directory cannot be read.
func ScanSounds(dirs ...string) (*Sounds, error) {
	s := &Sounds{names: map[string]bool{}}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("sounds directory %s: %w", d, err)
		}
		if err := s.scan(abs, "", 0); err != nil {
			return nil, fmt.Errorf("sounds directory %s: %w", d, err)
		}
		s.dirs = append(s.dirs, abs)
	}
	return s, nil
}

func (s *Sounds) scan(dir, rel string, depth int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		fi, err := os.Stat(full) // follows symbolic links
		if err != nil {
			continue // a dangling link is no sound
		}
		if fi.IsDir() {
			if depth < maxSoundDepth {
				if err := s.scan(full, path.Join(rel, e.Name()), depth+1); err != nil {
					return err
				}
			}
			continue
		}
		if name, ok := soundName(e.Name()); ok && fi.Mode().IsRegular() {
			s.names[path.Join(rel, name)] = true
		}
	}
	return nil
}

// soundName is a file name without its format extension; ok is false for a
// name with no extension.
func soundName(file string) (string, bool) {
	ext := filepath.Ext(file)
	if ext == "" || ext == file {
		return "", false
	}
	return strings.TrimSuffix(file, ext), true
}

// Len returns the number of names in the set.
func (s *Sounds) Len() int {
	if s == nil {
		return 0
	}
	return len(s.names)
}

// Has reports whether Asterisk finds the sound name on a channel whose
// language is language, trying the folders in Asterisk's order: the language
// ("es_MX"), the language without each "_" suffix ("es"), no language folder,
// then "en". An absolute name is looked up as it is. A name holding "&" is
// never found: Asterisk plays one file per name.
func (s *Sounds) Has(name, language string) bool {
	if s == nil || name == "" || strings.Contains(name, "&") {
		return false
	}
	if strings.HasPrefix(name, "/") {
		return s.names[name] || s.onDisk(name)
	}
	for lang := language; lang != ""; {
		if s.names[lang+"/"+name] {
			return true
		}
		i := strings.LastIndexByte(lang, '_')
		if i < 0 {
			break
		}
		lang = lang[:i]
	}
	return s.names[name] || s.names["en/"+name]
}

// onDisk looks an absolute name up in the scanned directories it lies in,
// and on disk otherwise: a set scanned from directories stands for the files
// of the host Asterisk runs on.
func (s *Sounds) onDisk(name string) bool {
	if len(s.dirs) == 0 {
		return false
	}
	for _, d := range s.dirs {
		if rel, err := filepath.Rel(d, name); err == nil && !strings.HasPrefix(rel, "..") {
			return s.names[filepath.ToSlash(rel)]
		}
	}
	entries, err := os.ReadDir(filepath.Dir(name))
	if err != nil {
		return false
	}
	base := filepath.Base(name)
	for _, e := range entries {
		if n, ok := soundName(e.Name()); ok && n == base && !e.IsDir() {
			return true
		}
	}
	return false
}

// missingWarning is the line Asterisk's file.c logs for a file it cannot find.
func missingWarning(name string) string {
	return "File " + name + " does not exist in any format"
}
