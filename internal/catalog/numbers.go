package catalog

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/ivrhq/ivr/internal/ivr"
)

type numbersFile struct {
	Numbers []numberDoc `yaml:"numbers"`
}

type numberDoc struct {
	Number   scalar     `yaml:"number"`
	Menu     scalar     `yaml:"menu"`
	Language scalar     `yaml:"language,omitempty"`
	Schedule scalar     `yaml:"schedule,omitempty"`
	Closed   *branchDoc `yaml:"closed,omitempty"`
	Holiday  *branchDoc `yaml:"holiday,omitempty"`
	lined    `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *numberDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain numberDoc
	d.line, err = decodeLined(n, (*plain)(d))
	return err
}

type branchDoc struct {
	Action scalar    `yaml:"action"`
	Target scalar    `yaml:"target,omitempty"`
	Prompt promptDoc `yaml:"prompt,omitempty"`
	lined  `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *branchDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain branchDoc
	d.line, err = decodeLined(n, (*plain)(d))
	return err
}

// languagePattern is an Asterisk language code: en, es_MX, pt_BR.
var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z0-9]{2,8})*$`)

// ParseNumbers reads and validates a numbers file; name is the file name
// problems are reported with. Each number is stored as ivr.DialledNumber
// writes it, national numbers read in opts.Region. It returns the numbers in
// file order, or a Problems error listing every mistake: YAML syntax, unknown
// fields, a number that is neither a phone number nor an extension, a number
// given twice (in any of its forms), a menu not in opts.PublishedMenus, a
// schedule not in opts.Schedules, a schedule without a closed branch or a
// branch without a schedule, malformed branches and languages. Prompts
// missing from opts.SoundsDirs go to opts.Warn.
func ParseNumbers(name string, data []byte, opts Options) ([]ivr.Number, error) {
	var f numbersFile
	if err := decode(name, data, &f); err != nil {
		return nil, err
	}
	v := &validator{report: report{file: name, src: data}, opts: opts}
	if len(f.Numbers) == 0 {
		v.add(0, "no numbers: the file needs a top-level numbers: list")
	}
	seen := make(map[string]int) // number → line of its first definition
	out := make([]ivr.Number, 0, len(f.Numbers))
	for _, d := range f.Numbers {
		out = append(out, v.number(d, seen))
	}
	if err := v.finish(v.opts.Warn); err != nil {
		return nil, err
	}
	return out, nil
}

func (v *validator) number(d numberDoc, seen map[string]int) ivr.Number {
	n := ivr.Number{Menu: d.Menu.s, Language: d.Language.s, ScheduleKey: d.Schedule.s}
	what := fmt.Sprintf("number %q", d.Number.s)
	switch key, ok := ivr.DialledNumber(d.Number.s, v.opts.Region); {
	case d.Number.s == "":
		v.add(d.line, "number has no number")
	case !ok:
		v.add(d.Number.line, "%s is neither a phone number (region %s) nor an extension of up to 6 keys 0-9, * and #", what, orDefault(v.opts.Region, "none"))
	default:
		n.Number = key
		if first, dup := seen[key]; dup {
			v.add(d.Number.line, "%s is defined twice, as %s (first on line %d)", what, key, first)
		} else {
			seen[key] = d.Number.line
		}
	}
	switch {
	case n.Menu == "":
		v.add(d.line, "%s has no menu", what)
	case !v.opts.PublishedMenus[n.Menu]:
		v.add(d.Menu.line, "%s: menu %q is not published", what, n.Menu)
	}
	if n.Language != "" && !languagePattern.MatchString(n.Language) {
		v.add(d.Language.line, "%s: language %q is not an Asterisk language code such as en or es_MX", what, n.Language)
	}
	h := v.hours(what, d.Schedule, d.Closed, d.Holiday)
	n.Closed, n.Holiday = h.Closed, h.Holiday
	return n
}

// hours validates the schedule and the closed and holiday branches of a
// number or a menu option and converts them.
func (v *validator) hours(what string, sched scalar, closed, holiday *branchDoc) ivr.OptionHours {
	h := ivr.OptionHours{Schedule: sched.s}
	switch {
	case h.Schedule == "":
		for _, b := range []*branchDoc{closed, holiday} {
			if b != nil {
				v.add(b.line, "%s: closed and holiday need a schedule", what)
				break
			}
		}
		return h
	case !v.opts.Schedules[h.Schedule]:
		v.add(sched.line, "%s: schedule %q is not defined (apply it with ivr schedules apply first)", what, h.Schedule)
	}
	if closed == nil {
		v.add(sched.line, "%s: with a schedule, closed says what a caller gets while it is closed", what)
	} else {
		h.Closed = v.branch(what+" closed", *closed)
	}
	if holiday != nil {
		h.Holiday = v.branch(what+" holiday", *holiday)
	}
	return h
}

// branch validates a closed or holiday branch and converts it.
func (v *validator) branch(what string, d branchDoc) ivr.Branch {
	b := ivr.Branch{Kind: ivr.BranchKind(d.Action.s), Target: d.Target.s}
	b.Prompt = v.checkPrompt(what, d.Prompt, b.Kind == ivr.BranchMessage, d.line)
	switch b.Kind {
	case ivr.BranchMenu:
		switch {
		case b.Target == "":
			v.add(d.Action.line, "%s: action menu needs a target", what)
		case !v.opts.PublishedMenus[b.Target] && v.fileMenus[b.Target] == 0:
			v.add(d.Target.line, "%s: menu %q is not published", what, b.Target)
		}
	case ivr.BranchTransfer:
		switch {
		case b.Target == "":
			v.add(d.Action.line, "%s: action transfer needs a target", what)
		case strings.ContainsFunc(b.Target, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			v.add(d.Target.line, "%s: transfer target %q contains a space or control character", what, b.Target)
		}
	case ivr.BranchMessage, ivr.BranchRecord:
		if b.Target != "" {
			v.add(d.Target.line, "%s: action %s takes no target", what, b.Kind)
		}
	case "":
		v.add(d.line, "%s has no action", what)
	default:
		v.add(d.Action.line, "%s: unknown action %q (want menu, message, record or transfer)", what, b.Kind)
	}
	return b
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// MarshalNumbers writes numbers as a numbers file that ParseNumbers reads
// back to the same numbers.
func MarshalNumbers(ns []ivr.Number) ([]byte, error) {
	f := numbersFile{Numbers: make([]numberDoc, 0, len(ns))}
	for _, n := range ns {
		f.Numbers = append(f.Numbers, numberDoc{
			Number:   str(n.Number),
			Menu:     str(n.Menu),
			Language: str(n.Language),
			Schedule: str(n.ScheduleKey),
			Closed:   branchOut(n.Closed),
			Holiday:  branchOut(n.Holiday),
		})
	}
	return encode(f)
}

func branchOut(b ivr.Branch) *branchDoc {
	if b.IsZero() {
		return nil
	}
	return &branchDoc{Action: str(string(b.Kind)), Target: str(b.Target), Prompt: sound(b.Prompt)}
}
