package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustSpans(t *testing.T, s string) []Span {
	t.Helper()
	sp, err := ParseSpans(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s, true)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// berlin is an office in Europe/Berlin: weekdays 09:00-17:00, Saturday
// mornings, a late Friday into Saturday night, and early Sunday hours that the
// daylight-saving changes cut through.
func berlin(t *testing.T) *Schedule {
	s := &Schedule{Location: mustLoad(t, "Europe/Berlin")}
	for d := time.Monday; d <= time.Thursday; d++ {
		s.Weekly[d] = mustSpans(t, "09:00-17:00")
	}
	s.Weekly[time.Friday] = mustSpans(t, "09:00-17:00, 22:00-24:00")
	s.Weekly[time.Saturday] = mustSpans(t, "00:00-02:00, 10:00-14:00")
	s.Weekly[time.Sunday] = mustSpans(t, "01:00-03:00")
	s.Holidays = []Holiday{
		{Date: mustDate(t, "12-25"), Name: "Christmas Day"},
		{Date: mustDate(t, "2026-12-26")}, // a Saturday
		{Date: mustDate(t, "02-29"), Name: "Leap Day"},
	}
	s.Exceptions = []Exception{
		{Date: mustDate(t, "2026-12-24"), Hours: mustSpans(t, "09:00-13:00"), Name: "closes early"},
		{Date: mustDate(t, "2026-12-20"), Hours: mustSpans(t, "10:00-16:00")}, // open on a Sunday
		{Date: mustDate(t, "2027-12-25"), Hours: mustSpans(t, "10:00-12:00")}, // open on a holiday
		{Date: mustDate(t, "2026-06-08")},                                     // closed all day, a Monday
	}
	return s
}

// newYork is open on weekdays 08:00-18:00 and on Sunday until 02:30.
func newYork(t *testing.T) *Schedule {
	s := &Schedule{Location: mustLoad(t, "America/New_York")}
	for d := time.Monday; d <= time.Friday; d++ {
		s.Weekly[d] = mustSpans(t, "08:00-18:00")
	}
	s.Weekly[time.Sunday] = mustSpans(t, "00:00-02:30")
	return s
}

func TestAt(t *testing.T) {
	b, ny := berlin(t), newYork(t)
	for _, c := range []struct {
		name string
		s    *Schedule
		at   string // UTC
		want State
		rule string
	}{
		// Europe/Berlin springs forward on 2026-03-29 at 01:00Z (02:00 CET → 03:00 CEST).
		{"berlin spring: Sunday before its hours", b, "2026-03-28T23:59:59Z", Closed, "hours sunday"},
		{"berlin spring: 01:00 CET opens", b, "2026-03-29T00:00:00Z", Open, "hours sunday 01:00-03:00"},
		{"berlin spring: 01:59 CET", b, "2026-03-29T00:59:59Z", Open, "hours sunday 01:00-03:00"},
		{"berlin spring: the skipped hour ends at 03:00 CEST, closed", b, "2026-03-29T01:00:00Z", Closed, "hours sunday"},
		{"berlin spring: Monday 08:59 CEST", b, "2026-03-30T06:59:00Z", Closed, "hours monday"},
		{"berlin spring: Monday 09:00 CEST", b, "2026-03-30T07:00:00Z", Open, "hours monday 09:00-17:00"},
		// It falls back on 2026-10-25 at 01:00Z (03:00 CEST → 02:00 CET): 02:00-03:00 happens twice.
		{"berlin fall: 01:30 CEST", b, "2026-10-24T23:30:00Z", Open, "hours sunday 01:00-03:00"},
		{"berlin fall: first 02:30 (CEST)", b, "2026-10-25T00:30:00Z", Open, "hours sunday 01:00-03:00"},
		{"berlin fall: second 02:30 (CET)", b, "2026-10-25T01:30:00Z", Open, "hours sunday 01:00-03:00"},
		{"berlin fall: 03:00 CET closes", b, "2026-10-25T02:00:00Z", Closed, "hours sunday"},
		{"berlin fall: Monday 08:59 CET", b, "2026-10-26T07:59:00Z", Closed, "hours monday"},
		{"berlin fall: Monday 09:00 CET", b, "2026-10-26T08:00:00Z", Open, "hours monday 09:00-17:00"},
		// America/New_York springs forward on 2026-03-08 at 07:00Z and falls back on 2026-11-01 at 06:00Z.
		{"new york spring: 01:59 EST", ny, "2026-03-08T06:59:00Z", Open, "hours sunday 00:00-02:30"},
		{"new york spring: 03:00 EDT", ny, "2026-03-08T07:00:00Z", Closed, "hours sunday"},
		{"new york spring: Monday 07:59 EDT", ny, "2026-03-09T11:59:00Z", Closed, "hours monday"},
		{"new york spring: Monday 08:00 EDT", ny, "2026-03-09T12:00:00Z", Open, "hours monday 08:00-18:00"},
		{"new york fall: first 01:30 (EDT)", ny, "2026-11-01T05:30:00Z", Open, "hours sunday 00:00-02:30"},
		{"new york fall: second 01:30 (EST)", ny, "2026-11-01T06:30:00Z", Open, "hours sunday 00:00-02:30"},
		{"new york fall: 02:30 EST", ny, "2026-11-01T07:30:00Z", Closed, "hours sunday"},
		{"new york fall: Monday 08:00 EST", ny, "2026-11-02T13:00:00Z", Open, "hours monday 08:00-18:00"},
		{"new york fall: Monday 07:59 EST", ny, "2026-11-02T12:59:00Z", Closed, "hours monday"},
		// Midnight: Friday 22:00-24:00 runs on into Saturday 00:00-02:00 (CEST).
		{"midnight: Friday 23:59:59", b, "2026-06-05T21:59:59Z", Open, "hours friday 22:00-24:00"},
		{"midnight: Saturday 00:00", b, "2026-06-05T22:00:00Z", Open, "hours saturday 00:00-02:00"},
		{"midnight: Saturday 02:00 closes", b, "2026-06-06T00:00:00Z", Closed, "hours saturday"},
		{"midnight: Thursday 17:00 closes", b, "2026-06-04T15:00:00Z", Closed, "hours thursday"},
		{"midnight: the exception's day starts at 00:00", b, "2026-12-23T23:00:00Z", Closed, "exception 2026-12-24 (closes early)"},
		{"midnight: the holiday starts at 00:00", b, "2026-12-24T23:00:00Z", OnHoliday, "holiday 12-25 (Christmas Day)"},
		{"midnight: the exception's last second", b, "2026-12-24T22:59:59Z", Closed, "exception 2026-12-24 (closes early)"},
		// Exceptions: closed early, open on a Sunday, closed all day, open on a holiday.
		{"exception: open before closing early", b, "2026-12-24T11:59:00Z", Open, "exception 2026-12-24 (closes early) 09:00-13:00"},
		{"exception: closed early", b, "2026-12-24T12:00:00Z", Closed, "exception 2026-12-24 (closes early)"},
		{"exception: open on a Sunday", b, "2026-12-20T10:00:00Z", Open, "exception 2026-12-20 10:00-16:00"},
		{"exception: the Sunday's own hours no longer count", b, "2026-12-20T01:30:00Z", Closed, "exception 2026-12-20"},
		{"exception: closed all day on a Monday", b, "2026-06-08T10:00:00Z", Closed, "exception 2026-06-08"},
		{"exception wins over a holiday", b, "2027-12-25T10:00:00Z", Open, "exception 2027-12-25 10:00-12:00"},
		{"exception wins over a holiday, outside its hours", b, "2027-12-25T12:00:00Z", Closed, "exception 2027-12-25"},
		// Holidays win over the weekly hours, on weekends too.
		{"holiday on a Friday during hours", b, "2026-12-25T10:00:00Z", OnHoliday, "holiday 12-25 (Christmas Day)"},
		{"holiday on a Saturday during its hours", b, "2026-12-26T10:00:00Z", OnHoliday, "holiday 2026-12-26"},
		{"yearly holiday on a Sunday", b, "2033-12-25T02:00:00Z", OnHoliday, "holiday 12-25 (Christmas Day)"},
		{"one-off holiday does not repeat", b, "2027-12-26T10:00:00Z", Closed, "hours sunday"},
		// 29 February is a yearly holiday of leap years only.
		{"leap day 2028", b, "2028-02-29T10:00:00Z", OnHoliday, "holiday 02-29 (Leap Day)"},
		{"no leap day in 2027: 28 February", b, "2027-02-28T01:30:00Z", Open, "hours sunday 01:00-03:00"},
		{"no leap day in 2027: 1 March", b, "2027-03-01T10:00:00Z", Open, "hours monday 09:00-17:00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, c.at)
			if err != nil {
				t.Fatal(err)
			}
			got := c.s.At(at)
			if got.State != c.want || got.Rule != c.rule {
				t.Errorf("At(%s) = %s by %q (local %s), want %s by %q", c.at, got.State, got.Rule, got.Local.Format(time.RFC3339), c.want, c.rule)
			}
		})
	}
}

func TestZeroScheduleIsClosedInUTC(t *testing.T) {
	var s Schedule
	got := s.At(time.Date(2026, 1, 5, 12, 0, 0, 0, time.FixedZone("x", 3600)))
	if got.State != Closed || got.Local.Location() != time.UTC || got.Local.Hour() != 11 {
		t.Errorf("zero schedule: %+v", got)
	}
}

func TestNext(t *testing.T) {
	b := berlin(t)
	// Thursday 2026-12-24 at 10:00 CET: open until the exception's 13:00.
	at := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	next, ok := b.Next(at, 7*24*time.Hour)
	if want := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("Next = %s %v, want %s", next, ok, want)
	}
	// Closed from 13:00 on the 24th, a holiday from midnight.
	next, ok = b.Next(next, 7*24*time.Hour)
	if want := time.Date(2026, 12, 24, 23, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("Next = %s %v, want %s", next, ok, want)
	}
	var never Schedule
	if _, ok := never.Next(at, 24*time.Hour); ok {
		t.Error("a schedule that never opens changed state")
	}
}

func TestParseSpans(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"09:00-17:00", "09:00-17:00", ""},
		{"13:00-17:30, 08:30-12:00", "08:30-12:00, 13:00-17:30", ""},
		{"22:00-24:00", "22:00-24:00", ""},
		{"closed", "closed", ""},
		{"17:00-09:00", "", "end before they start"},
		{"22:00-02:00", "", "end before they start"},
		{"09:00-12:00, 11:00-13:00", "", "overlap"},
		{"24:00-24:00", "", "past 23:59"},
		{"9-17", "", "not HH:MM"},
		{"09:00-17:60", "", "not HH:MM"},
		{"09:00", "", "want spans"},
	} {
		sp, err := ParseSpans(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseSpans(%q) = %v, %v; want an error with %q", c.in, sp, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("ParseSpans(%q): %v", c.in, err)
		case c.err == "" && SpansString(sp) != c.want:
			t.Errorf("ParseSpans(%q) = %s, want %s", c.in, SpansString(sp), c.want)
		}
	}
}

func TestParseDays(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"mon-fri", "mon tue wed thu fri"},
		{"sat,sun", "sun sat"},
		{"fri-mon", "sun mon fri sat"},
		{"Wed", "wed"},
		{"mon-funday", ""},
	} {
		ds, err := ParseDays(c.in)
		var names []string
		for _, d := range ds {
			names = append(names, DayName(d))
		}
		got := strings.Join(names, " ")
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("ParseDays(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in     string
		yearly bool
		want   string
	}{
		{"2026-12-24", false, "2026-12-24"},
		{"12-25", true, "12-25"},
		{"02-29", true, "02-29"},
		{"12-25", false, ""},
		{"02-30", true, ""},
		{"2027-02-29", true, ""},
		{"24.12.2026", true, ""},
	} {
		d, err := ParseDate(c.in, c.yearly)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseDate(%q, %v) = %s, want an error", c.in, c.yearly, d)
			}
			continue
		}
		if err != nil || d.String() != c.want {
			t.Errorf("ParseDate(%q, %v) = %s, %v; want %s", c.in, c.yearly, d, err, c.want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b := berlin(t)
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Schedule
	if err := back.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	again, err := back.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) || back.Location.String() != "Europe/Berlin" {
		t.Errorf("round trip changed the schedule:\n%s\n%s", data, again)
	}
	at := time.Date(2026, 12, 24, 11, 0, 0, 0, time.UTC)
	if got, want := back.At(at), b.At(at); got.State != want.State || got.Rule != want.Rule {
		t.Errorf("read back: %+v, want %+v", got, want)
	}
}
