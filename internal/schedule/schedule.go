package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is what a schedule says of an instant.
type State string

// The states of a schedule.
const (
	Open      State = "open"
	Closed    State = "closed"
	OnHoliday State = "holiday"
)

// Span is a half-open span of a day's wall clock, [From, To), in minutes
// after midnight: From from 0 to 1439, To from From+1 to 1440 (24:00).
type Span struct{ From, To int }

// String writes s as "09:00-17:00".
func (s Span) String() string { return clock(s.From) + "-" + clock(s.To) }

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// contains reports whether the minute of the day m is in s.
func (s Span) contains(m int) bool { return s.From <= m && m < s.To }

// Date is a calendar date; Year 0 means every year on Month and Day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String writes d as 2026-12-24, or as 12-25 for every year.
func (d Date) String() string {
	if d.Year == 0 {
		return fmt.Sprintf("%02d-%02d", int(d.Month), d.Day)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// on reports whether d falls on the calendar date y-m-day: the same date, or
// for a yearly date the same month and day of any year (29 February only in
// leap years, since other years have no such day).
func (d Date) on(y int, m time.Month, day int) bool {
	return d.Month == m && d.Day == day && (d.Year == 0 || d.Year == y)
}

// Holiday is a day the business is closed for a holiday, whatever its weekly
// hours say.
type Holiday struct {
	Date Date
	Name string
}

// Exception replaces the rules of one date (Date.Year is set): open within
// Hours and closed outside them; no Hours means closed all day.
type Exception struct {
	Date  Date
	Hours []Span
	Name  string
}

// Schedule is a set of opening rules in a time zone. The zero value is always
// closed, in UTC.
type Schedule struct {
	// Location is the zone whose wall clock the rules read. Nil means UTC.
	Location *time.Location
	// Weekly holds the opening hours of each weekday, indexed by
	// time.Weekday (Sunday first). A day without spans is closed.
	Weekly [7][]Span
	// Holidays are checked after Exceptions, before Weekly.
	Holidays []Holiday
	// Exceptions are checked first.
	Exceptions []Exception
}

// Status is the state of a schedule at an instant and the rule that decided
// it: "exception 2026-12-31", "holiday 12-25 (Christmas Day)", "hours
// monday 09:00-17:00", or "hours monday" when the weekday's hours leave the
// instant out. Local is the instant on the schedule's wall clock.
type Status struct {
	State State
	Rule  string
	Local time.Time
}

// At returns the state of s at t, decided as the package documentation says.
func (s *Schedule) At(t time.Time) Status {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	y, m, d := lt.Date()
	minute := lt.Hour()*60 + lt.Minute()
	for _, e := range s.Exceptions {
		if e.Date.on(y, m, d) {
			return Status{State: within(e.Hours, minute), Rule: named("exception "+e.Date.String(), e.Name) + spanOf(e.Hours, minute), Local: lt}
		}
	}
	for _, h := range s.Holidays {
		if h.Date.on(y, m, d) {
			return Status{State: OnHoliday, Rule: named("holiday "+h.Date.String(), h.Name), Local: lt}
		}
	}
	day := s.Weekly[lt.Weekday()]
	return Status{State: within(day, minute), Rule: "hours " + strings.ToLower(lt.Weekday().String()) + spanOf(day, minute), Local: lt}
}

// Next returns the first instant after t, to the minute and at most limit
// later, where the state of s differs from its state at t, and false when it
// stays the same that long.
func (s *Schedule) Next(t time.Time, limit time.Duration) (time.Time, bool) {
	st := s.At(t).State
	start := t.Truncate(time.Minute)
	for at := start.Add(time.Minute); at.Sub(t) <= limit; at = at.Add(time.Minute) {
		if s.At(at).State != st {
			return at, true
		}
	}
	return time.Time{}, false
}

func within(spans []Span, minute int) State {
	for _, sp := range spans {
		if sp.contains(minute) {
			return Open
		}
	}
	return Closed
}

// spanOf names the span holding minute, " 09:00-17:00", or "".
func spanOf(spans []Span, minute int) string {
	for _, sp := range spans {
		if sp.contains(minute) {
			return " " + sp.String()
		}
	}
	return ""
}

func named(rule, name string) string {
	if name == "" {
		return rule
	}
	return rule + " (" + name + ")"
}

// ParseSpans reads opening hours written as "09:00-12:00, 13:00-17:30", or
// "closed" for none, and returns them sorted. Spans must not overlap, and each
// must end after it starts, within one day (24:00 is midnight at its end).
func ParseSpans(s string) ([]Span, error) {
	s = strings.TrimSpace(s)
	if s == "closed" {
		return nil, nil
	}
	var out []Span
	for part := range strings.SplitSeq(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("hours %q: want spans such as 09:00-17:00, separated by commas, or closed", s)
		}
		f, err := parseClock(from, false)
		if err != nil {
			return nil, err
		}
		t, err := parseClock(to, true)
		if err != nil {
			return nil, err
		}
		if t <= f {
			return nil, fmt.Errorf("hours %s-%s end before they start; a span ends by 24:00 and the next day starts at 00:00", from, to)
		}
		out = append(out, Span{From: f, To: t})
	}
	slices.SortFunc(out, func(a, b Span) int { return a.From - b.From })
	for i := 1; i < len(out); i++ {
		if out[i].From < out[i-1].To {
			return nil, fmt.Errorf("hours %s and %s overlap", out[i-1], out[i])
		}
	}
	return out, nil
}

// parseClock reads "HH:MM" as minutes after midnight; end allows 24:00.
func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, herr := strconv.Atoi(h)
	mm, merr := strconv.Atoi(m)
	switch {
	case !ok || herr != nil || merr != nil || len(h) != 2 || len(m) != 2 || mm < 0 || mm > 59 || hh < 0:
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	case end && hh == 24 && mm == 0:
		return 24 * 60, nil
	case hh > 23:
		return 0, fmt.Errorf("time %q is past 23:59 (24:00 may only end a span)", s)
	}
	return hh*60 + mm, nil
}

// SpansString writes spans the way ParseSpans reads them.
func SpansString(spans []Span) string {
	if len(spans) == 0 {
		return "closed"
	}
	parts := make([]string, len(spans))
	for i, sp := range spans {
		parts[i] = sp.String()
	}
	return strings.Join(parts, ", ")
}

// dayNames are the days ParseDays reads, Sunday first as in time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDays reads weekdays written as "mon", "mon-fri", "sat,sun" or
// "fri-mon" (a range may wrap around the week), and returns them in
// time.Weekday order.
func ParseDays(s string) ([]time.Weekday, error) {
	var set [7]bool
	for part := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		f, ok := weekday(from)
		if !ok {
			return nil, fmt.Errorf("day %q is not one of mon, tue, wed, thu, fri, sat, sun", strings.TrimSpace(from))
		}
		t := f
		if isRange {
			if t, ok = weekday(to); !ok {
				return nil, fmt.Errorf("day %q is not one of mon, tue, wed, thu, fri, sat, sun", strings.TrimSpace(to))
			}
		}
		for d := f; ; d = (d + 1) % 7 {
			set[d] = true
			if d == t {
				break
			}
		}
	}
	var out []time.Weekday
	for d, on := range set {
		if on {
			out = append(out, time.Weekday(d))
		}
	}
	return out, nil
}

func weekday(s string) (time.Weekday, bool) {
	i := slices.Index(dayNames[:], strings.ToLower(strings.TrimSpace(s)))
	return time.Weekday(i), i >= 0
}

// DayName is the short name of d that ParseDays reads: "mon".
func DayName(d time.Weekday) string { return dayNames[d%7] }

// ParseDate reads a date written as 2026-12-24, or as 12-25 for every year
// when yearly is true. 02-29 is a valid yearly date (a holiday of leap years).
func ParseDate(s string, yearly bool) (Date, error) {
	s = strings.TrimSpace(s)
	if len(s) == len("12-25") {
		if !yearly {
			return Date{}, fmt.Errorf("date %q needs a year: 2026-12-24", s)
		}
		t, err := time.Parse("2006-01-02", "2000-"+s) // 2000 is a leap year
		if err != nil {
			return Date{}, fmt.Errorf("date %q is not a month and day such as 12-25", s)
		}
		return Date{Month: t.Month(), Day: t.Day()}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a date such as 2026-12-24", s)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}
