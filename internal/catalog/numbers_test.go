package catalog_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/schedule"
)

var routing = catalog.Options{
	PublishedMenus: map[string]bool{"main": true, "departments": true},
	Schedules:      map[string]bool{"office": true},
	Region:         "US",
}

func TestSampleSchedulesAndNumbersRoundTrip(t *testing.T) {
	data, err := os.ReadFile("../../schedules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := catalog.ParseSchedules("schedules.yaml", data, routing)
	if err != nil {
		t.Fatalf("sample schedules.yaml: %v", err)
	}
	if len(ss) != 1 || ss[0].Hours.Location.String() != "America/New_York" || len(ss[0].Hours.Weekly[time.Saturday]) != 1 {
		t.Fatalf("schedules %+v", ss)
	}
	// Christmas Eve 2026 at 17:30 in New York: the exception closed the office at 13:00.
	if st := ss[0].Hours.At(time.Date(2026, 12, 24, 22, 30, 0, 0, time.UTC)); st.State != schedule.Closed || !strings.HasPrefix(st.Rule, "exception") {
		t.Errorf("Christmas Eve 17:30: %+v", st)
	}
	out, err := catalog.MarshalSchedules(ss)
	if err != nil {
		t.Fatal(err)
	}
	back, err := catalog.ParseSchedules("out.yaml", out, routing)
	if err != nil {
		t.Fatalf("marshalled schedules do not parse: %v\n%s", err, out)
	}
	if cs := catalog.DiffSchedules(ss, back); len(cs) != 0 {
		t.Errorf("round trip changed %+v\n%s", cs, out)
	}

	data, err = os.ReadFile("../../numbers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := catalog.ParseNumbers("numbers.yaml", data, routing)
	if err != nil {
		t.Fatalf("sample numbers.yaml: %v", err)
	}
	want := ivr.Number{Number: "+12125550100", Menu: "main", Language: "en", ScheduleKey: "office",
		Closed:  ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"},
		Holiday: ivr.Branch{Kind: ivr.BranchRecord, Prompt: "ivr/holiday"}}
	if len(ns) != 3 || !reflect.DeepEqual(ns[0], want) || ns[1].Number != "500" {
		t.Fatalf("numbers %+v", ns)
	}
	out, err = catalog.MarshalNumbers(ns)
	if err != nil {
		t.Fatal(err)
	}
	nback, err := catalog.ParseNumbers("out.yaml", out, routing)
	if err != nil || !reflect.DeepEqual(nback, ns) {
		t.Errorf("round trip: %v\n%+v\n%s", err, nback, out)
	}
}

func TestScheduleMistakes(t *testing.T) {
	src := `schedules:
  - key: office
    time_zone: Europe/Nowhere
    hours:
      - days: mon-fri
        open: "09:00-17:00"
      - days: wed
        open: "16:00-18:00"
      - days: funday
        open: "09:00-12:00"
      - days: sat
        open: "22:00-02:00"
    holidays:
      - date: "12-25"
      - date: "12-25"
      - date: "02-30"
      - date: 2026-01-01
        hours: "10:00-12:00"
    exceptions:
      - date: "12-24"
        hours: "09:00-13:00"
      - date: 2026-12-31
  - key: office
    time_zone: UTC
`
	_, err := catalog.ParseSchedules("s.yaml", []byte(src), catalog.Options{})
	if err == nil {
		t.Fatal("no mistakes found")
	}
	for _, want := range []string{
		`s.yaml:3: schedule "office": time_zone "Europe/Nowhere" is not an IANA time zone`,
		`s.yaml:8: schedule "office": wed: hours 09:00-17:00 and 16:00-18:00 overlap`,
		`s.yaml:9: schedule "office": day "funday" is not one of mon`,
		`s.yaml:12: schedule "office": hours 22:00-02:00 end before they start`,
		`s.yaml:15: schedule "office" holiday: 12-25 is given twice (first on line 14)`,
		`s.yaml:16: schedule "office" holiday: date "02-30" is not a month and day`,
		`s.yaml:18: schedule "office": a holiday has no hours`,
		`s.yaml:20: schedule "office" exception: date "12-24" needs a year`,
		`s.yaml:22: schedule "office": exception 2026-12-31 needs hours`,
		`s.yaml:23: schedule "office" is defined twice (first on line 2)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestDiffNumbers(t *testing.T) {
	a := []ivr.Number{{Number: "500", Menu: "main"}, {Number: "501", Menu: "departments", Language: "es"}}
	b := []ivr.Number{{Number: "500", Menu: "main", ScheduleKey: "office", Closed: ivr.Branch{Kind: ivr.BranchTransfer, Target: "night"}},
		{Number: "502", Menu: "main"}}
	got := catalog.DiffNumbers(a, b)
	want := []catalog.Change{
		{Field: "500 schedule", New: "office"},
		{Field: "500 closed", New: "transfer night"},
		{Field: "501 menu", Old: "departments"},
		{Field: "501 language", Old: "es"},
		{Field: "502 menu", New: "main"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DiffNumbers = %+v\nwant %+v", got, want)
	}
}

func TestMenuOptionHours(t *testing.T) {
	src := `menus:
  - key: desk
    prompt: ivr/desk
    options:
      - digits: "0"
        action: operator
        schedule: office
        closed: {action: menu, target: night}
        holiday: {action: message, prompt: ivr/holiday}
      - digits: "1"
        action: hangup
  - key: night
    prompt: ivr/night
    options:
      - digits: "1"
        action: record
        schedule: weekend
      - digits: "2"
        action: hangup
        closed: {action: transfer}
`
	_, err := catalog.ParseMenus("m.yaml", []byte(src), routing)
	if err == nil {
		t.Fatal("no mistakes found")
	}
	for _, want := range []string{
		`m.yaml:17: menu "night" option "1": schedule "weekend" is not defined`,
		`m.yaml:17: menu "night" option "1": with a schedule, closed says what a caller gets`,
		`m.yaml:20: menu "night" option "2": closed and holiday need a schedule`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "m.yaml:8") || strings.Contains(err.Error(), `menu "night" is not published`) {
		t.Errorf("a closed branch to a menu of the file is refused:\n%v", err)
	}

	good := strings.SplitAfter(src, "        action: hangup\n")[0] + `  - key: night
    prompt: ivr/night
    options:
      - digits: "1"
        action: record
`
	menus, err := catalog.ParseMenus("m.yaml", []byte(good), routing)
	if err != nil {
		t.Fatal(err)
	}
	want := ivr.OptionHours{Schedule: "office", Closed: ivr.Branch{Kind: ivr.BranchMenu, Target: "night"},
		Holiday: ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/holiday"}}
	if menus[0].Options[0].Hours != want {
		t.Errorf("option hours %+v, want %+v", menus[0].Options[0].Hours, want)
	}
	out, err := catalog.MarshalMenus(menus)
	if err != nil {
		t.Fatal(err)
	}
	back, err := catalog.ParseMenus("out.yaml", out, routing)
	if err != nil || len(catalog.DiffMenus(menus[0], back[0])) != 0 {
		t.Errorf("round trip: %v\n%s", err, out)
	}
	changed := back[0]
	changed.Options = append([]ivr.MenuOption(nil), back[0].Options...)
	changed.Options[0].Hours.Holiday = ivr.Branch{}
	if cs := catalog.DiffMenus(menus[0], changed); len(cs) != 1 || cs[0].Field != "option 0 holiday" {
		t.Errorf("DiffMenus = %+v", cs)
	}
}
