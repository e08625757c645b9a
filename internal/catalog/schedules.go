package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/schedule"
)

type schedulesFile struct {
	Schedules []scheduleDoc `yaml:"schedules"`
}

type scheduleDoc struct {
	Key        scalar     `yaml:"key"`
	TimeZone   scalar     `yaml:"time_zone"`
	Hours      []hoursDoc `yaml:"hours,omitempty"`
	Holidays   []dayDoc   `yaml:"holidays,omitempty"`
	Exceptions []dayDoc   `yaml:"exceptions,omitempty"`
	lined      `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *scheduleDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain scheduleDoc
	d.line, err = decodeLined(n, (*plain)(d))
	return err
}

type hoursDoc struct {
	Days  scalar `yaml:"days"`
	Open  scalar `yaml:"open"`
	lined `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *hoursDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain hoursDoc
	d.line, err = decodeLined(n, (*plain)(d))
	return err
}

// dayDoc is a holiday (without hours) or an exception (with hours, or
// closed).
type dayDoc struct {
	Date  scalar `yaml:"date"`
	Hours scalar `yaml:"hours,omitempty"`
	Name  scalar `yaml:"name,omitempty"`
	lined `yaml:"-"`
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *dayDoc) UnmarshalYAML(n ast.Node) (err error) {
	type plain dayDoc
	d.line, err = decodeLined(n, (*plain)(d))
	return err
}

// ParseSchedules reads and validates a schedules file; name is the file name
// problems are reported with. It returns the schedules in file order, or a
// Problems error listing every mistake: YAML syntax, unknown fields,
// duplicate keys, unknown time zones, malformed days, hours and dates, hours
// that overlap on a day, holidays and exceptions given twice for a date, and
// an exception without a year.
func ParseSchedules(name string, data []byte, opts Options) ([]ivr.Schedule, error) {
	var f schedulesFile
	if err := decode(name, data, &f); err != nil {
		return nil, err
	}
	v := &validator{report: report{file: name, src: data}, opts: opts}
	if len(f.Schedules) == 0 {
		v.add(0, "no schedules: the file needs a top-level schedules: list")
	}
	keys := make(map[string]int)
	out := make([]ivr.Schedule, 0, len(f.Schedules))
	for _, d := range f.Schedules {
		v.checkKey("schedule", d.Key, d.line, keys)
		out = append(out, v.schedule(d))
	}
	if err := v.finish(v.opts.Warn); err != nil {
		return nil, err
	}
	return out, nil
}

func (v *validator) schedule(d scheduleDoc) ivr.Schedule {
	s := ivr.Schedule{Key: d.Key.s}
	what := fmt.Sprintf("schedule %q", s.Key)
	switch loc, err := time.LoadLocation(d.TimeZone.s); {
	case d.TimeZone.s == "":
		v.add(d.line, "%s has no time_zone (an IANA zone such as Europe/Berlin)", what)
	case err != nil || d.TimeZone.s == "Local":
		v.add(d.TimeZone.line, "%s: time_zone %q is not an IANA time zone such as Europe/Berlin", what, d.TimeZone.s)
	default:
		s.Hours.Location = loc
	}
	for _, h := range d.Hours {
		days, err := schedule.ParseDays(h.Days.s)
		if h.Days.s == "" {
			err = fmt.Errorf("days are missing (such as mon-fri)")
		}
		if err != nil {
			v.add(h.Days.lineOr(h.line), "%s: %v", what, err)
			continue
		}
		spans, err := schedule.ParseSpans(h.Open.s)
		if err != nil {
			v.add(h.Open.lineOr(h.line), "%s: %v", what, err)
			continue
		}
		for _, day := range days {
			merged, err := schedule.ParseSpans(schedule.SpansString(append(slices.Clone(s.Hours.Weekly[day]), spans...)))
			if err != nil {
				v.add(h.Open.lineOr(h.line), "%s: %s: %v", what, schedule.DayName(day), err)
				continue
			}
			s.Hours.Weekly[day] = merged
		}
	}
	dates := make(map[string]int) // date → line of its first holiday
	for _, h := range d.Holidays {
		date, ok := v.date(what+" holiday", h, true, dates)
		if h.Hours.s != "" {
			v.add(h.Hours.line, "%s: a holiday has no hours; to open on it, add an exception for its date", what)
		}
		if ok {
			s.Hours.Holidays = append(s.Hours.Holidays, schedule.Holiday{Date: date, Name: h.Name.s})
		}
	}
	clear(dates)
	for _, e := range d.Exceptions {
		date, ok := v.date(what+" exception", e, false, dates)
		if e.Hours.s == "" {
			v.add(e.line, "%s: exception %s needs hours (such as 09:00-13:00, or closed)", what, e.Date.s)
			continue
		}
		spans, err := schedule.ParseSpans(e.Hours.s)
		if err != nil {
			v.add(e.Hours.line, "%s: exception %s: %v", what, e.Date.s, err)
			continue
		}
		if ok {
			s.Hours.Exceptions = append(s.Hours.Exceptions, schedule.Exception{Date: date, Hours: spans, Name: e.Name.s})
		}
	}
	return s
}

// date reads the date of a holiday or exception and reports one given twice.
func (v *validator) date(what string, d dayDoc, yearly bool, seen map[string]int) (schedule.Date, bool) {
	if d.Date.s == "" {
		v.add(d.line, "%s has no date", what)
		return schedule.Date{}, false
	}
	date, err := schedule.ParseDate(d.Date.s, yearly)
	if err != nil {
		v.add(d.Date.line, "%s: %v", what, err)
		return date, false
	}
	if first, dup := seen[date.String()]; dup {
		v.add(d.Date.line, "%s: %s is given twice (first on line %d)", what, date, first)
		return date, false
	}
	seen[date.String()] = d.Date.line
	return date, true
}

// lineOr returns the line s stands on, or def when it is not in the file.
func (s scalar) lineOr(def int) int {
	if s.line == 0 {
		return def
	}
	return s.line
}

// MarshalSchedules writes schedules as a schedules file that ParseSchedules
// reads back to the same schedules: the weekly hours one entry per run of
// days with the same hours.
func MarshalSchedules(ss []ivr.Schedule) ([]byte, error) {
	f := schedulesFile{Schedules: make([]scheduleDoc, 0, len(ss))}
	for _, s := range ss {
		d := scheduleDoc{Key: str(s.Key), TimeZone: str(zoneName(s.Hours.Location))}
		for _, h := range weekRuns(s.Hours) {
			d.Hours = append(d.Hours, hoursDoc{Days: str(h[0]), Open: str(h[1])})
		}
		for _, h := range s.Hours.Holidays {
			d.Holidays = append(d.Holidays, dayDoc{Date: str(h.Date.String()), Name: str(h.Name)})
		}
		for _, e := range s.Hours.Exceptions {
			d.Exceptions = append(d.Exceptions, dayDoc{Date: str(e.Date.String()), Hours: str(schedule.SpansString(e.Hours)), Name: str(e.Name)})
		}
		f.Schedules = append(f.Schedules, d)
	}
	return encode(f)
}

func zoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	return loc.String()
}

// weekRuns returns the open days of s, Monday first, as [days, hours] pairs,
// consecutive days with the same hours joined: ["mon-fri", "09:00-17:00"].
func weekRuns(s schedule.Schedule) [][2]string {
	var out [][2]string
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	for i := 0; i < len(order); {
		spans := s.Weekly[order[i]]
		j := i + 1
		for j < len(order) && slices.Equal(s.Weekly[order[j]], spans) {
			j++
		}
		if len(spans) > 0 {
			days := schedule.DayName(order[i])
			if j-1 > i {
				days += "-" + schedule.DayName(order[j-1])
			}
			out = append(out, [2]string{days, schedule.SpansString(spans)})
		}
		i = j
	}
	return out
}

// ScheduleFields lists the content of s as named values, in the order
// DiffSchedules compares them, for showing a schedule as a table.
func ScheduleFields(s ivr.Schedule) [][2]string { return pairs(scheduleFields(s)) }

func scheduleFields(s ivr.Schedule) []field {
	fs := []field{{"time_zone", zoneName(s.Hours.Location)}}
	for _, h := range weekRuns(s.Hours) {
		fs = append(fs, field{"hours " + h[0], h[1]})
	}
	for _, h := range s.Hours.Holidays {
		fs = append(fs, field{"holiday " + h.Date.String(), strings.TrimSpace("holiday " + h.Name)})
	}
	for _, e := range s.Hours.Exceptions {
		fs = append(fs, field{"exception " + e.Date.String(), strings.TrimSpace(schedule.SpansString(e.Hours) + " " + e.Name)})
	}
	return fs
}

// NumberFields lists the content of n as named values, in the order
// DiffNumbers compares them.
func NumberFields(n ivr.Number) [][2]string { return pairs(numberFields(n)) }

func numberFields(n ivr.Number) []field {
	return []field{
		{"menu", n.Menu},
		{"language", n.Language},
		{"schedule", n.ScheduleKey},
		{"closed", BranchString(n.Closed)},
		{"holiday", BranchString(n.Holiday)},
	}
}

// BranchString writes b in words: "message (prompt ivr/closed)", "transfer
// operator"; "" when b is zero.
func BranchString(b ivr.Branch) string {
	if b.IsZero() {
		return ""
	}
	s := string(b.Kind)
	if b.Target != "" {
		s += " " + b.Target
	}
	if b.Prompt != "" {
		s += " (prompt " + b.Prompt + ")"
	}
	return s
}

// DiffNumbers lists what changed from the numbers a to the numbers b, each
// field named after its number ("+31201234567 menu"): the numbers of a in
// order, then those only b has.
func DiffNumbers(a, b []ivr.Number) []Change {
	return diffAll(a, b, func(n ivr.Number) string { return n.Number }, numberFields)
}

// DiffSchedules lists what changed from the schedules a to the schedules b,
// each field named after its schedule ("office hours mon-fri"), like
// DiffNumbers.
func DiffSchedules(a, b []ivr.Schedule) []Change {
	return diffAll(a, b, func(s ivr.Schedule) string { return s.Key }, scheduleFields)
}

// diffAll compares two whole sets of items by their fields, each prefixed
// with the item's key.
func diffAll[T any](a, b []T, key func(T) string, fields func(T) []field) []Change {
	flat := func(xs []T) []field {
		var fs []field
		for _, x := range xs {
			for _, f := range fields(x) {
				fs = append(fs, field{key(x) + " " + f.name, f.value})
			}
		}
		return fs
	}
	return diff(flat(a), flat(b))
}
