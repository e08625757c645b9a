package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/schedule"
)

// officeHours is open 09:00-17:00 on weekdays in Berlin, closed on Christmas
// Day.
func officeHours(t testing.TB) ivr.Schedule {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := ivr.Schedule{Key: "office", Hours: schedule.Schedule{Location: loc,
		Holidays: []schedule.Holiday{{Date: schedule.Date{Month: 12, Day: 25}, Name: "Christmas Day"}}}}
	for d := time.Monday; d <= time.Friday; d++ {
		s.Hours.Weekly[d] = []schedule.Span{{From: 9 * 60, To: 17 * 60}}
	}
	return s
}

func TestReplaceNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	publishedMenu(t, db, "main")
	if err := db.ReplaceSchedules(ctx, []ivr.Schedule{officeHours(t)}); err != nil {
		t.Fatal(err)
	}
	closed := ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"}
	office := ivr.Number{Number: "+493012345678", Menu: "main", Language: "de", ScheduleKey: "office", Closed: closed}
	if err := db.ReplaceNumbers(ctx, []ivr.Number{office, {Number: "600", Menu: "main"}}); err != nil {
		t.Fatal(err)
	}
	n, err := db.Number(ctx, "+493012345678")
	if err != nil {
		t.Fatal(err)
	}
	if n.Menu != "main" || n.Language != "de" || n.Closed != closed || !n.Holiday.IsZero() || n.Schedule == nil || n.Schedule.Key != "office" {
		t.Fatalf("number %+v", n)
	}
	christmas := time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC)
	if st := n.Schedule.Hours.At(christmas); st.State != schedule.OnHoliday {
		t.Errorf("the stored schedule says %+v on Christmas Day", st)
	}
	before := n.UpdatedAt

	// Applying the same content again keeps UpdatedAt; a number left out is deleted.
	if err := db.ReplaceNumbers(ctx, []ivr.Number{office}); err != nil {
		t.Fatal(err)
	}
	if n, err = db.Number(ctx, "+493012345678"); err != nil || !n.UpdatedAt.Equal(before) {
		t.Errorf("unchanged number: %v, updated %s then %s", err, before, n.UpdatedAt)
	}
	if _, err := db.Number(ctx, "600"); !errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("a number left out: %v, want not found", err)
	}
	all, err := db.Numbers(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("Numbers = %v, %v", all, err)
	}

	// The database refuses what validation should have caught.
	for _, bad := range []ivr.Number{
		{Number: "+4930 123", Menu: "main"},
		{Number: "700", Menu: "nosuch"},
		{Number: "701", Menu: "main", ScheduleKey: "nosuch", Closed: closed},
		{Number: "702", Menu: "main", ScheduleKey: "office"}, // no closed branch
		{Number: "703", Menu: "main", Language: "Deutsch"},
	} {
		if err := db.ReplaceNumbers(ctx, []ivr.Number{bad}); err == nil {
			t.Errorf("stored %+v", bad)
		}
	}
	// A schedule a number uses cannot go.
	if err := db.ReplaceSchedules(ctx, nil); !errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("deleting a schedule in use: %v", err)
	}
	ss, err := db.Schedules(ctx)
	if err != nil || len(ss) != 1 || ss[0].Hours.Location.String() != "Europe/Berlin" {
		t.Errorf("Schedules = %+v, %v", ss, err)
	}
}

func TestCatalogCacheSeesNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCatalogWorld(t, 0)
	if _, err := w.cache.Number(ctx, "600"); !errors.Is(err, ivr.ErrNotFound) {
		t.Fatalf("unknown number: %v", err)
	}
	if !w.hit(func() { w.cache.Number(ctx, "600") }) {
		t.Error("an unknown number was not kept")
	}
	w.announced(func() error { return w.db.ReplaceSchedules(ctx, []ivr.Schedule{officeHours(t)}) })
	closed := ivr.Branch{Kind: ivr.BranchTransfer, Target: "night"}
	w.announced(func() error {
		return w.db.ReplaceNumbers(ctx, []ivr.Number{{Number: "600", Menu: "main", ScheduleKey: "office", Closed: closed}})
	})
	n, err := w.cache.Number(ctx, "600")
	if err != nil || n.Closed != closed || n.Schedule == nil {
		t.Fatalf("after apply: %+v, %v", n, err)
	}
	// A copy: changing it changes no later answer.
	n.Schedule.Hours.Weekly[time.Monday][0].To = 1
	n2, _ := w.cache.Number(ctx, "600")
	if n2.Schedule.Hours.Weekly[time.Monday][0].To != 17*60 {
		t.Error("the cache handed out its own schedule")
	}
	// Changing the schedule alone empties the cache too.
	s := officeHours(t)
	s.Hours.Weekly[time.Monday] = nil
	w.announced(func() error { return w.db.ReplaceSchedules(ctx, []ivr.Schedule{s}) })
	if n, err = w.cache.Number(ctx, "600"); err != nil || len(n.Schedule.Hours.Weekly[time.Monday]) != 0 {
		t.Errorf("after the schedule changed: %+v, %v", n.Schedule, err)
	}
}
