package schedule

import (
	"encoding/json"
	"fmt"
	"time"
)

// scheduleJSON is the JSON form of a Schedule: rules written as ParseSpans
// and ParseDate read them, so a stored schedule reads like its YAML file.
type scheduleJSON struct {
	TimeZone   string            `json:"time_zone"`
	Weekly     map[string]string `json:"weekly,omitempty"` // day name → spans; days left out are closed
	Holidays   []dayJSON         `json:"holidays,omitempty"`
	Exceptions []dayJSON         `json:"exceptions,omitempty"`
}

type dayJSON struct {
	Date  string `json:"date"`
	Hours string `json:"hours,omitempty"`
	Name  string `json:"name,omitempty"`
}

// MarshalJSON writes s with its zone's name and its rules as text.
func (s Schedule) MarshalJSON() ([]byte, error) {
	j := scheduleJSON{TimeZone: "UTC", Weekly: map[string]string{}}
	if s.Location != nil {
		j.TimeZone = s.Location.String()
	}
	for d, spans := range s.Weekly {
		if len(spans) > 0 {
			j.Weekly[dayNames[d]] = SpansString(spans)
		}
	}
	for _, h := range s.Holidays {
		j.Holidays = append(j.Holidays, dayJSON{Date: h.Date.String(), Name: h.Name})
	}
	for _, e := range s.Exceptions {
		j.Exceptions = append(j.Exceptions, dayJSON{Date: e.Date.String(), Hours: SpansString(e.Hours), Name: e.Name})
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes; the zone must be one the
// time package can load.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	var j scheduleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	loc, err := time.LoadLocation(j.TimeZone)
	if err != nil {
		return fmt.Errorf("schedule time zone: %w", err)
	}
	out := Schedule{Location: loc}
	for name, hours := range j.Weekly {
		d, ok := weekday(name)
		if !ok {
			return fmt.Errorf("schedule day %q is not a weekday", name)
		}
		if out.Weekly[d], err = ParseSpans(hours); err != nil {
			return err
		}
	}
	for _, h := range j.Holidays {
		date, err := ParseDate(h.Date, true)
		if err != nil {
			return err
		}
		out.Holidays = append(out.Holidays, Holiday{Date: date, Name: h.Name})
	}
	for _, e := range j.Exceptions {
		date, err := ParseDate(e.Date, false)
		if err != nil {
			return err
		}
		spans, err := ParseSpans(e.Hours)
		if err != nil {
			return err
		}
		out.Exceptions = append(out.Exceptions, Exception{Date: date, Hours: spans, Name: e.Name})
	}
	*s = out
	return nil
}
