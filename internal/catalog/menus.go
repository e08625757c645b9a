package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/prompts"
)

// Menu defaults for fields a file leaves out.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxAttempts = 3
)

// Limits a menu must keep.
const (
	MaxTimeout     = time.Minute
	MaxAttemptsCap = 10
	MaxDigitsCap   = 20
)

// Options is what validation knows beyond the file itself. The zero value checks
// the file on its own: every submenu and survey must then be defined in it, and
// prompts are checked for form only.
type Options struct {
	// PublishedMenus holds the keys of the menus that have a published version.
	PublishedMenus map[string]bool
	// PublishedSurveys holds the keys of the surveys that have a published version.
	PublishedSurveys map[string]bool
	// Schedules holds the keys of the stored schedules, for a numbers file.
	Schedules map[string]bool
	// Region is the ISO 3166 region national numbers of a numbers file are
	// read in ("US", "NL"); empty accepts only international numbers and
	// extensions.
	Region string
	// SoundsDirs, when not empty, are local copies of Asterisk sounds
	// directories (such as /var/lib/asterisk/sounds). Every sound a prompt
	// names is looked up in each of them as Asterisk would look it up for a
	// caller of some language: DIR/<name>.* and DIR/<language>/<name>.* (en/,
	// es_MX/ ...), in any format. A sound found in none of them is a warning,
	// not a mistake.
	SoundsDirs []string
	// TextPrompt, when set, takes each prompt written as text and returns the
	// sound name to store for it (see internal/prompts); when nil a text
	// prompt is a mistake, for want of a prompts directory.
	TextPrompt func(prompts.Prompt) string
	// Warn, when set, receives the warnings, in the order of their lines,
	// once the whole file has been read. Warnings never make a file invalid.
	Warn func(Problem)
}

// validator collects the problems of one file.
type validator struct {
	report
	opts      Options
	sounds    map[string]bool // sound name → found in SoundsDirs
	fileMenus map[string]int  // the menus of a menus file → their lines
}

// actionTargets says, for every action, whether it needs a target.
var actionTargets = map[ivr.ActionKind]bool{
	ivr.ActionSubmenu:      true,
	ivr.ActionSurvey:       true,
	ivr.ActionTransfer:     true,
	ivr.ActionRecord:       false,
	ivr.ActionPlayMessages: false,
	ivr.ActionChangePIN:    false,
	ivr.ActionOperator:     false,
	ivr.ActionRepeat:       false,
	ivr.ActionHangup:       false,
}

func actionNames() string {
	names := make([]string, 0, len(actionTargets))
	for k := range actionTargets {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// ParseMenus reads and validates a menus file; name is the file name problems
// are reported with. It returns the menus in file order with defaults filled in
// (VersionID, Version, Published and CreatedAt are left zero), or a Problems
// error listing every mistake: YAML syntax, unknown fields, unknown actions,
// duplicate digits, submenus and surveys that exist neither in the file nor as
// published in opts, loops of menus with no way out, and malformed prompts.
// Prompts missing from opts.SoundsDirs go to opts.Warn.
func ParseMenus(name string, data []byte, opts Options) ([]ivr.Menu, error) {
	var f menusFile
	if err := decode(name, data, &f); err != nil {
		return nil, err
	}
	v := &validator{report: report{file: name, src: data}, opts: opts}
	if len(f.Menus) == 0 {
		v.add(0, "no menus: the file needs a top-level menus: list")
	}
	lines := make(map[string]int) // menu key → line of its first definition
	for _, d := range f.Menus {
		v.checkKey("menu", d.Key, d.line, lines)
	}
	v.fileMenus = lines
	menus := make([]ivr.Menu, 0, len(f.Menus))
	for _, d := range f.Menus {
		menus = append(menus, v.menu(d, lines))
	}
	v.checkLoops(f.Menus, menus, lines)
	if err := v.finish(v.opts.Warn); err != nil {
		return nil, err
	}
	return menus, nil
}

// menu validates one menu and converts it, defaults filled in.
func (v *validator) menu(d menuDoc, keys map[string]int) ivr.Menu {
	m := ivr.Menu{
		Key:           d.Key.s,
		Timeout:       DefaultTimeout,
		MaxDigits:     d.MaxDigits.n,
		MaxAttempts:   d.MaxAttempts.n,
		FailureAction: ivr.Action{Kind: ivr.ActionKind(d.OnFailure.s)},
	}
	what := fmt.Sprintf("menu %q", m.Key)
	m.Prompt = v.checkPrompt(what, d.Prompt, true, d.line)
	m.InvalidPrompt = v.checkPrompt(what+" invalid_prompt", d.InvalidPrompt, false, d.line)
	m.TimeoutPrompt = v.checkPrompt(what+" timeout_prompt", d.TimeoutPrompt, false, d.line)
	if d.Timeout.s != "" {
		t, err := time.ParseDuration(d.Timeout.s)
		switch {
		case err != nil:
			v.add(d.Timeout.line, "%s: timeout %q is not a duration such as 5s", what, d.Timeout.s)
		case t <= 0 || t > MaxTimeout:
			v.add(d.Timeout.line, "%s: timeout %s is outside 1s to %s", what, t, MaxTimeout)
		default:
			m.Timeout = t
		}
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = DefaultMaxAttempts
	} else if m.MaxAttempts < 1 || m.MaxAttempts > MaxAttemptsCap {
		v.add(d.MaxAttempts.lineOr(d.line), "%s: max_attempts %d is outside 1 to %d", what, m.MaxAttempts, MaxAttemptsCap)
	}
	switch m.FailureAction.Kind {
	case "":
		m.FailureAction.Kind = ivr.ActionHangup
	case ivr.ActionHangup, ivr.ActionOperator:
	default:
		v.add(d.OnFailure.line, "%s: on_failure %q must be operator or hangup", what, d.OnFailure.s)
	}
	if len(d.Options) == 0 {
		v.add(d.line, "%s has no options", what)
	}
	longest := 0
	digits := make(map[string]int) // digits → line of first use
	for _, od := range d.Options {
		o := v.option(what, m.Key, od, keys)
		if o.Digits != "" {
			if first, dup := digits[o.Digits]; dup {
				v.add(od.Digits.line, "%s: digits %q are used twice (first on line %d)", what, o.Digits, first)
			} else {
				digits[o.Digits] = od.Digits.line
			}
		}
		longest = max(longest, len(o.Digits))
		m.Options = append(m.Options, o)
	}
	switch {
	case m.MaxDigits == 0:
		m.MaxDigits = max(longest, 1)
	case m.MaxDigits < longest || m.MaxDigits > MaxDigitsCap:
		v.add(d.MaxDigits.lineOr(d.line), "%s: max_digits %d must be between the longest option (%d) and %d", what, m.MaxDigits, longest, MaxDigitsCap)
	}
	return m
}

// option validates one menu option and converts it.
func (v *validator) option(what, menuKey string, d optionDoc, keys map[string]int) ivr.MenuOption {
	o := ivr.MenuOption{
		Digits: d.Digits.s,
		Action: ivr.Action{Kind: ivr.ActionKind(d.Action.s), Target: d.Target.s},
		Label:  d.Label.s,
	}
	o.Hours = v.hours(fmt.Sprintf("%s option %q", what, o.Digits), d.Schedule, d.Closed, d.Holiday)
	switch {
	case o.Digits == "":
		v.add(d.line, "%s: option has no digits", what)
	case strings.Trim(o.Digits, "0123456789*#") != "":
		v.add(d.Digits.line, "%s: digits %q may hold only 0-9, * and #", what, o.Digits)
	}
	needsTarget, known := actionTargets[o.Action.Kind]
	switch {
	case o.Action.Kind == "":
		v.add(d.line, "%s: option %q has no action", what, o.Digits)
		return o
	case !known:
		v.add(d.Action.line, "%s: unknown action %q (want one of %s)", what, o.Action.Kind, actionNames())
		return o
	case needsTarget && o.Action.Target == "":
		v.add(d.Action.line, "%s: action %s needs a target", what, o.Action.Kind)
		return o
	case !needsTarget && o.Action.Target != "":
		v.add(d.Target.line, "%s: action %s takes no target", what, o.Action.Kind)
		return o
	}
	t := o.Action.Target
	switch o.Action.Kind {
	case ivr.ActionSubmenu:
		_, inFile := keys[t]
		switch {
		case t == menuKey:
			v.add(d.Target.line, "%s: option %q opens the menu itself; use action repeat", what, o.Digits)
		case !inFile && !v.opts.PublishedMenus[t]:
			v.add(d.Target.line, "%s: submenu %q is neither in this file nor published", what, t)
		}
	case ivr.ActionSurvey:
		if !v.opts.PublishedSurveys[t] {
			v.add(d.Target.line, "%s: survey %q is not published", what, t)
		}
	case ivr.ActionTransfer:
		if strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			v.add(d.Target.line, "%s: transfer target %q contains a space or control character", what, t)
		}
	}
	return o
}

// checkLoops reports the menus a caller cannot leave: every option of the menu
// leads to another menu of the file (or repeats it) and none of those has a way
// out either. An option with any other action is a way out, and so is a submenu
// published outside the file.
func (v *validator) checkLoops(docs []menuDoc, menus []ivr.Menu, keys map[string]int) {
	byKey := make(map[string]ivr.Menu, len(menus))
	for _, m := range menus {
		if _, seen := byKey[m.Key]; !seen {
			byKey[m.Key] = m
		}
	}
	exits := make(map[string]bool, len(menus))
	for changed := true; changed; {
		changed = false
		for _, m := range menus {
			if exits[m.Key] {
				continue
			}
			for _, o := range m.Options {
				k := o.Action.Kind
				_, inFile := byKey[o.Action.Target]
				if k != ivr.ActionSubmenu && k != ivr.ActionRepeat || k == ivr.ActionSubmenu && (!inFile || exits[o.Action.Target]) {
					exits[m.Key], changed = true, true
					break
				}
			}
		}
	}
	reported := make(map[string]bool)
	for i, m := range menus {
		if exits[m.Key] || reported[m.Key] || len(m.Options) == 0 {
			continue
		}
		cycle := findCycle(m.Key, byKey)
		for _, k := range cycle {
			reported[k] = true
		}
		if len(cycle) > 1 {
			v.add(docs[i].line, "menu %q: loop with no way out: %s (every option leads to another menu of the loop)",
				m.Key, strings.Join(append(cycle, cycle[0]), " → "))
		} else {
			v.add(docs[i].line, "menu %q has no way out: its options only repeat it or open menus without one", m.Key)
		}
	}
}

// findCycle returns a cycle of submenus through start, start first, or just
// start when there is none.
func findCycle(start string, byKey map[string]ivr.Menu) []string {
	var path []string
	onPath := make(map[string]bool)
	done := make(map[string]bool)
	var walk func(k string) bool
	walk = func(k string) bool {
		if k == start && len(path) > 0 {
			return true
		}
		if onPath[k] || done[k] {
			return false
		}
		m, ok := byKey[k]
		if !ok {
			return false
		}
		path = append(path, k)
		onPath[k] = true
		for _, o := range m.Options {
			if o.Action.Kind == ivr.ActionSubmenu && walk(o.Action.Target) {
				return true
			}
		}
		path = path[:len(path)-1]
		onPath[k] = false
		done[k] = true
		return false
	}
	if walk(start) {
		return path
	}
	return []string{start}
}

// MarshalMenus writes menus as a menus file that ParseMenus reads back to the
// same menus. Version numbers and publication are not part of the file.
func MarshalMenus(menus []ivr.Menu) ([]byte, error) {
	f := menusFile{Menus: make([]menuDoc, 0, len(menus))}
	for _, m := range menus {
		d := menuDoc{
			Key:           str(m.Key),
			Prompt:        sound(m.Prompt),
			InvalidPrompt: sound(m.InvalidPrompt),
			TimeoutPrompt: sound(m.TimeoutPrompt),
			Timeout:       str(m.Timeout.String()),
			MaxDigits:     whole{n: m.MaxDigits},
			MaxAttempts:   whole{n: m.MaxAttempts},
			OnFailure:     str(string(m.FailureAction.Kind)),
		}
		for _, o := range m.Options {
			d.Options = append(d.Options, optionDoc{
				Digits:   str(o.Digits),
				Action:   str(string(o.Action.Kind)),
				Target:   str(o.Action.Target),
				Label:    str(o.Label),
				Schedule: str(o.Hours.Schedule),
				Closed:   branchOut(o.Hours.Closed),
				Holiday:  branchOut(o.Hours.Holiday),
			})
		}
		f.Menus = append(f.Menus, d)
	}
	return encode(f)
}
