package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ivrhq/ivr/internal/ivr"
)

// Change is one difference between two versions of a menu or survey. Field
// names what changed ("prompt", "option 1", "question overall answers"); Old
// is empty for something added and New is empty for something removed.
type Change struct {
	Field string
	Old   string
	New   string
}

// field is one named value of a flattened menu or survey.
type field struct{ name, value string }

// MenuFields lists the content of m as named values, in the order DiffMenus
// compares them (the fields, then each option), for showing a menu as a table.
func MenuFields(m ivr.Menu) [][2]string { return pairs(menuFields(m)) }

// SurveyFields lists the content of s as named values, like MenuFields.
func SurveyFields(s ivr.Survey) [][2]string { return pairs(surveyFields(s)) }

func pairs(fs []field) [][2]string {
	out := make([][2]string, len(fs))
	for i, f := range fs {
		out[i] = [2]string{f.name, f.value}
	}
	return out
}

// DiffMenus lists what changed from menu a to menu b, in the order of a's fields
// followed by the fields only b has. Versions, IDs and publication are ignored,
// so two versions with the same content have no changes.
func DiffMenus(a, b ivr.Menu) []Change { return diff(menuFields(a), menuFields(b)) }

// DiffSurveys lists what changed from survey a to survey b, like DiffMenus.
func DiffSurveys(a, b ivr.Survey) []Change { return diff(surveyFields(a), surveyFields(b)) }

func diff(a, b []field) []Change {
	old := make(map[string]string, len(a))
	for _, f := range a {
		old[f.name] = f.value
	}
	cur := make(map[string]string, len(b))
	for _, f := range b {
		cur[f.name] = f.value
	}
	var cs []Change
	for _, f := range a {
		if nv := cur[f.name]; nv != f.value {
			cs = append(cs, Change{Field: f.name, Old: f.value, New: nv})
		}
	}
	for _, f := range b {
		if _, had := old[f.name]; !had && f.value != "" {
			cs = append(cs, Change{Field: f.name, New: f.value})
		}
	}
	return cs
}

func action(a ivr.Action) string { return strings.TrimSpace(string(a.Kind) + " " + a.Target) }

func menuFields(m ivr.Menu) []field {
	fs := []field{
		{"prompt", m.Prompt},
		{"invalid_prompt", m.InvalidPrompt},
		{"timeout_prompt", m.TimeoutPrompt},
		{"timeout", m.Timeout.String()},
		{"max_digits", strconv.Itoa(m.MaxDigits)},
		{"max_attempts", strconv.Itoa(m.MaxAttempts)},
		{"on_failure", action(m.FailureAction)},
	}
	for _, o := range m.Options {
		fs = append(fs,
			field{"option " + o.Digits, action(o.Action)},
			field{"option " + o.Digits + " label", o.Label},
			field{"option " + o.Digits + " schedule", o.Hours.Schedule},
			field{"option " + o.Digits + " closed", BranchString(o.Hours.Closed)},
			field{"option " + o.Digits + " holiday", BranchString(o.Hours.Holiday)})
	}
	return fs
}

func surveyFields(s ivr.Survey) []field {
	fs := []field{
		{"intro_prompt", s.IntroPrompt},
		{"thank_you_prompt", s.ThankYouPrompt},
	}
	for _, q := range s.Questions {
		answers := q.AllowedDigits
		if q.Range != nil {
			answers = fmt.Sprintf("%d-%d", q.Range.Min, q.Range.Max)
		}
		required := ""
		if q.Required {
			required = "required"
		}
		p := "question " + q.Key
		fs = append(fs,
			field{p + " position", strconv.Itoa(q.Position)},
			field{p + " prompt", q.Prompt},
			field{p + " answers", answers},
			field{p + " required", required})
	}
	return fs
}
