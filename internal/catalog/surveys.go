package catalog

import (
	"fmt"
	"strings"

	"github.com/ivrhq/ivr/internal/ivr"
)

// MaxRange is the largest number a range question may accept.
const MaxRange = 999999

// ParseSurveys reads and validates a surveys file; name is the file name
// problems are reported with. It returns the surveys in file order (VersionID,
// Version, Published and CreatedAt are left zero), or a Problems error listing
// every mistake: YAML syntax, unknown fields, duplicate keys, questions with
// neither or both of allowed_digits and range, repeated or invalid digits, empty
// ranges, and malformed prompts. Prompts missing from opts.SoundsDirs go to
// opts.Warn.
func ParseSurveys(name string, data []byte, opts Options) ([]ivr.Survey, error) {
	var f surveysFile
	if err := decode(name, data, &f); err != nil {
		return nil, err
	}
	v := &validator{report: report{file: name, src: data}, opts: opts}
	if len(f.Surveys) == 0 {
		v.add(0, "no surveys: the file needs a top-level surveys: list")
	}
	keys := make(map[string]int)
	surveys := make([]ivr.Survey, 0, len(f.Surveys))
	for _, d := range f.Surveys {
		s := ivr.Survey{Key: d.Key.s}
		what := fmt.Sprintf("survey %q", s.Key)
		v.checkKey("survey", d.Key, d.line, keys)
		s.IntroPrompt = v.checkPrompt(what+" intro_prompt", d.IntroPrompt, false, d.line)
		s.ThankYouPrompt = v.checkPrompt(what+" thank_you_prompt", d.ThankYouPrompt, false, d.line)
		if len(d.Questions) == 0 {
			v.add(d.line, "%s has no questions", what)
		}
		qkeys := make(map[string]int)
		for i, qd := range d.Questions {
			s.Questions = append(s.Questions, v.question(what, i+1, qd, qkeys))
		}
		surveys = append(surveys, s)
	}
	if err := v.finish(v.opts.Warn); err != nil {
		return nil, err
	}
	return surveys, nil
}

// checkKey reports a missing, malformed or repeated key; seen maps the keys met
// so far to their lines.
func (v *validator) checkKey(kind string, k scalar, line int, seen map[string]int) {
	switch first, dup := seen[k.s]; {
	case k.s == "":
		v.add(line, "%s has no key", kind)
	case !keyPattern.MatchString(k.s):
		v.add(k.line, "%s key %q must be lower-case letters, digits, '-' or '_'", kind, k.s)
	case dup:
		v.add(k.line, "%s %q is defined twice (first on line %d)", kind, k.s, first)
	default:
		seen[k.s] = k.line
	}
}

// question validates one survey question and converts it.
func (v *validator) question(survey string, pos int, d questionDoc, seen map[string]int) ivr.Question {
	q := ivr.Question{Position: pos, Key: d.Key.s, AllowedDigits: d.AllowedDigits.s, Required: d.Required}
	what := fmt.Sprintf("%s question %q", survey, q.Key)
	v.checkKey(survey+" question", d.Key, d.line, seen)
	q.Prompt = v.checkPrompt(what, d.Prompt, true, d.line)
	switch {
	case q.AllowedDigits == "" && d.Range == nil:
		v.add(d.line, "%s needs allowed_digits or a range", what)
	case q.AllowedDigits != "" && d.Range != nil:
		v.add(d.line, "%s has both allowed_digits and a range; keep one", what)
	case d.Range != nil:
		q.Range = &ivr.AnswerRange{Min: d.Range.Min, Max: d.Range.Max}
		if q.Range.Min < 0 || q.Range.Max > MaxRange || q.Range.Min > q.Range.Max {
			v.add(d.line, "%s: range %d-%d must satisfy 0 <= min <= max <= %d", what, q.Range.Min, q.Range.Max, MaxRange)
		}
	default:
		if strings.Trim(q.AllowedDigits, "0123456789*#") != "" {
			v.add(d.AllowedDigits.line, "%s: allowed_digits %q may hold only 0-9, * and #", what, q.AllowedDigits)
		}
		for i, r := range q.AllowedDigits {
			if strings.IndexRune(q.AllowedDigits, r) < i {
				v.add(d.AllowedDigits.line, "%s: allowed_digits %q names %q twice", what, q.AllowedDigits, r)
				break
			}
		}
	}
	return q
}

// MarshalSurveys writes surveys as a surveys file that ParseSurveys reads back
// to the same surveys. Version numbers and publication are not part of the file.
func MarshalSurveys(surveys []ivr.Survey) ([]byte, error) {
	f := surveysFile{Surveys: make([]surveyDoc, 0, len(surveys))}
	for _, s := range surveys {
		d := surveyDoc{Key: str(s.Key), IntroPrompt: sound(s.IntroPrompt), ThankYouPrompt: sound(s.ThankYouPrompt)}
		for _, q := range s.Questions {
			qd := questionDoc{Key: str(q.Key), Prompt: sound(q.Prompt), AllowedDigits: str(q.AllowedDigits), Required: q.Required}
			if q.Range != nil {
				qd.Range = &rangeDoc{Min: q.Range.Min, Max: q.Range.Max}
			}
			d.Questions = append(d.Questions, qd)
		}
		f.Surveys = append(f.Surveys, d)
	}
	return encode(f)
}
