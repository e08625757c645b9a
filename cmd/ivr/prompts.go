package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ivrhq/ivr/internal/prompts"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// textPrompts are the flags of the prompts written as text (--prompts-dir,
// --voice) and the text prompts met while validating one file.
type textPrompts struct {
	dir, voice *string
	noRender   *bool
	met        []store.TextPrompt
}

// textPrompts adds --prompts-dir and --voice.
func (f *cmdFlags) textPrompts() *textPrompts {
	return &textPrompts{
		dir: f.String("prompts-dir", "", "the directory prompts written as text are rendered into: an absolute path that "+
			"Asterisk reads under the same name (see docs/asterisk.md)"),
		voice: f.String("voice", "", "the shell command that speaks text prompts: it reads the words on standard input and writes "+
			"a WAV file to $PROMPT_OUTPUT in the language $PROMPT_LANGUAGE (default: espeak-ng)"),
		noRender: f.Bool("no-render", false, "store the text prompts without rendering them, for ivr prompts render "+
			"to do later where the voice is installed (until then Asterisk cannot play them)"),
	}
}

// voiceOf returns the voice of the flags.
func (t *textPrompts) voiceOf() prompts.Voice { return prompts.Voice{Dir: *t.dir, Command: *t.voice} }

// option returns what catalog.Options.TextPrompt takes: nil without
// --prompts-dir, which makes a text prompt a mistake of the file.
func (t *textPrompts) option() (func(prompts.Prompt) string, error) {
	if *t.dir == "" {
		return nil, nil
	}
	if !filepath.IsAbs(*t.dir) {
		return nil, usageError{fmt.Sprintf("--prompts-dir %q: give an absolute path, the one Asterisk reads the prompts from", *t.dir)}
	}
	if strings.ContainsAny(*t.dir, " \t\r\n,|\"'&") {
		// A sound name is one word of an AGI command, and & joins sounds.
		return nil, usageError{fmt.Sprintf("--prompts-dir %q: the path may not contain a space, comma, quote, bar or &", *t.dir)}
	}
	v := t.voiceOf()
	return func(p prompts.Prompt) string {
		sound := v.SoundName(p)
		t.met = append(t.met, store.TextPrompt{Sound: sound, Voice: v.Command, Texts: p.Texts})
		return sound
	}, nil
}

// store renders the text prompts met that the prompts directory lacks (unless
// --no-render), saying each on w, and stores them all, before the versions
// naming them are saved.
func (t *textPrompts) store(ctx context.Context, s *store.DB, w io.Writer) error {
	if len(t.met) == 0 {
		return nil
	}
	if *t.noRender {
		fmt.Fprintf(w, "%d text prompts stored but not rendered (--no-render): run ivr prompts render where the voice is installed\n", len(t.met))
	} else if _, err := render(ctx, t.met, w); err != nil {
		return err
	}
	return s.SaveTextPrompts(ctx, t.met)
}

// render makes the files of ps that their prompts directories lack, with the
// voice each was stored with, a line on w for each made, and returns how many
// it made.
func render(ctx context.Context, ps []store.TextPrompt, w io.Writer) (int, error) {
	made := 0
	for _, p := range ps {
		pv := prompts.Voice{Dir: filepath.Dir(p.Sound), Command: p.Voice}
		ok, err := pv.Render(ctx, prompts.Prompt{Texts: p.Texts})
		if err != nil {
			return made, fmt.Errorf("render %s: %w", p.Sound, err)
		}
		if ok {
			made++
			fmt.Fprintf(w, "rendered %s (%s): %s\n", p.Sound, languages(p.Texts), p.Texts[0].Words)
		}
	}
	return made, nil
}

// languages lists the languages of texts: "en,fr".
func languages(texts []prompts.Text) string {
	ls := make([]string, len(texts))
	for i, t := range texts {
		ls[i] = t.Language
	}
	return strings.Join(ls, ",")
}

func runPrompts(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "prompts", []subcommand{
		{"list", "", "list the prompts written as text, what they say, and whether live versions use them", promptsList},
		{"render", "", "render the stored text prompts whose files are missing (on a new Asterisk, after a lost directory)", promptsRender},
		{"verify", "", "check that every text prompt callers hear has its files, and list those no live version uses", promptsVerify},
	}, args)
}

// promptState is a stored text prompt with its use and files.
type promptState struct {
	store.TextPrompt
	use   string // live (a live version or a number names it), earlier (only drafts and replaced versions do), or none
	files bool   // every file is in the directory
}

// loadPrompts returns the stored text prompts with their use and files.
func loadPrompts(ctx context.Context, s *store.DB) ([]promptState, error) {
	stored, err := s.TextPrompts(ctx)
	if err != nil {
		return nil, err
	}
	uses, err := s.PromptsInUse(ctx)
	if err != nil {
		return nil, err
	}
	use := map[string]string{}
	for _, u := range uses {
		for _, sound := range strings.Split(u.Prompt, "&") {
			if u.Live {
				use[sound] = "live"
			} else if use[sound] == "" {
				use[sound] = "earlier"
			}
		}
	}
	out := make([]promptState, len(stored))
	for i, p := range stored {
		state := use[p.Sound]
		if state == "" {
			state = "none"
		}
		v := prompts.Voice{Dir: filepath.Dir(p.Sound), Command: p.Voice}
		out[i] = promptState{TextPrompt: p, use: state, files: v.Exists(prompts.Prompt{Texts: p.Texts})}
	}
	return out, nil
}

func promptsList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "prompts list", "", "List the prompts written as text in menus, surveys and numbers: the sound name Asterisk "+
		"is given, its languages, who uses it (live: a live version or a number; earlier: only drafts and replaced "+
		"versions; none), whether its files are in the prompts directory here, and its words in the first language.")
	db := f.database()
	format := f.format()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	ps, err := loadPrompts(ctx, s)
	if err != nil {
		return err
	}
	rows := tabular.Rows{Columns: []string{"sound", "languages", "used", "files", "words"}}
	for _, p := range ps {
		rows.Add(p.Sound, languages(p.Texts), p.use, yesNo(p.files), p.Texts[0].Words)
	}
	return write(e, rows, *format)
}

func promptsRender(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "prompts render", "", "Render every stored text prompt whose files are missing from its prompts directory, "+
		"with the voice it was published with, printing each; the apply commands render the prompts of their file "+
		"themselves. Run it on each Asterisk host (or the host whose directory they share) after setting one up.")
	db := f.database()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	stored, err := s.TextPrompts(ctx)
	if err != nil {
		return err
	}
	made, err := render(ctx, stored, e.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rendered %d of %d text prompts; the others were there\n", made, len(stored))
	return nil
}

func promptsVerify(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "prompts verify", "", "Check the text prompts of the stored menus, surveys and numbers: one that a live version or a number "+
		"uses whose files are missing from the prompts directory here is an error (ivr prompts render makes them), "+
		"and one that no live version or number uses is listed as not live. Exits 1 when a prompt callers hear is missing.")
	db := f.database()
	format := f.format()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	ps, err := loadPrompts(ctx, s)
	if err != nil {
		return err
	}
	rows := tabular.Rows{Columns: []string{"sound", "problem", "words"}}
	missing := 0
	for _, p := range ps {
		switch {
		case !p.files && p.use == "live":
			missing++
			rows.Add(p.Sound, "missing: callers hear it and its files are not in the directory", p.Texts[0].Words)
		case p.use != "live":
			rows.Add(p.Sound, "not live: no live version or number uses it", p.Texts[0].Words)
		}
	}
	if err := write(e, rows, *format); err != nil {
		return err
	}
	if missing > 0 {
		return errors.New(fmt.Sprint(missing, " text prompts in use have no files: run ivr prompts render"))
	}
	return nil
}
