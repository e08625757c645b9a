// Package schedule says whether a business is open at an instant: weekly
// opening hours in an IANA time zone, holidays (on one date, or on a month and
// day every year) and dated exceptions (closing early, opening on a Sunday).
// It is pure: no clock, no I/O; the caller passes the instant.
//
// Rules are read on the wall clock of the schedule's zone, so a schedule open
// 09:00-17:00 opens at nine local time on both sides of a daylight-saving
// change. An instant is placed on its local date and time of day, then the
// first rule that covers that date decides:
//
//  1. an exception on the date: open within its hours, closed outside them
//     (an exception without hours closes the whole day);
//  2. otherwise a holiday on the date (one-off or yearly): holiday all day;
//  3. otherwise the weekly hours of the weekday: open within them, closed
//     outside.
//
// So an exception wins over a holiday, and a holiday over the weekly hours.
// Hours are half-open spans of one day, [from, to): 09:00-17:00 is open at
// 16:59:59 and closed at 17:00; 24:00 ends a span at midnight. A span never
// crosses midnight: write 22:00-24:00 on one day and 00:00-06:00 on the next.
// In the hour a daylight-saving change skips (02:00-03:00 in Europe/Berlin on
// the last Sunday of March) no instant exists, and in the hour it repeats (on
// the last Sunday of October) both instants read the same wall clock and so get
// the same state.
//
// A yearly holiday on 29 February is a holiday in leap years only.
//
//	s := schedule.Schedule{Location: berlin}
//	s.Weekly[time.Monday] = []schedule.Span{{From: 9 * 60, To: 17 * 60}}
//	st := s.At(time.Now()) // st.State is Open, Closed or OnHoliday
package schedule
