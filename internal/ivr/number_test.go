package ivr_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/schedule"
	"github.com/ivrhq/ivr/internal/store"
)

// Dialled numbers of the routing fixture.
const (
	salesLine = "+14155550100" // dialled as 4155550100 in region US: starts at dept
	nightLine = "+14155550111" // a schedule that is never open
	holiLine  = "+14155550122" // a holiday today and tomorrow (UTC)
	dayLine   = "+14155550133" // open around the clock
)

// withNumbers stores the routing fixture: a few numbers and their schedules.
// The schedules' hours make "now" what each test needs whatever the time of
// day, so no clock is faked.
func withNumbers(t *testing.T, w *world, closed ivr.Branch) {
	t.Helper()
	ctx := context.Background()
	always := schedule.Schedule{Location: time.UTC}
	for d := range always.Weekly {
		always.Weekly[d] = []schedule.Span{{From: 0, To: 24 * 60}}
	}
	holiday := always
	now := time.Now().UTC()
	for _, d := range []time.Time{now, now.Add(24 * time.Hour)} {
		holiday.Holidays = append(holiday.Holidays, schedule.Holiday{Date: schedule.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}})
	}
	if err := w.db.ReplaceSchedules(ctx, []ivr.Schedule{
		{Key: "always", Hours: always},
		{Key: "holidays", Hours: holiday},
		{Key: "never", Hours: schedule.Schedule{Location: time.UTC}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.db.ReplaceNumbers(ctx, []ivr.Number{
		{Number: salesLine, Menu: "dept", Language: "nl"},
		{Number: "600", Menu: "main"},
		{Number: nightLine, Menu: "main", ScheduleKey: "never", Closed: closed},
		{Number: holiLine, Menu: "main", ScheduleKey: "holidays", Closed: closed,
			Holiday: ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/holiday"}},
		{Number: dayLine, Menu: "dept", ScheduleKey: "always", Closed: closed},
	}); err != nil {
		t.Fatal(err)
	}
}

// dialled is a call from Alice to the ivr route without a menu, to dnid.
func dialled(script, dnid string, keys ...string) agiclient.Call {
	return agiclient.Call{Script: script, Env: map[string]string{"agi_callerid": aliceLocal, "agi_dnid": dnid}, Keys: keys}
}

func TestNumberPicksTheEntryMenu(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	withNumbers(t, w, ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"})

	// Dialled nationally: normalised like a caller ID, reaches dept, in Dutch.
	c := w.run(dialled("ivr", "4155550100", alicePIN+"#", "1"))
	if !c.heard("vm-password", "ivr/dept-menu") || c.countPrompt("ivr/main-menu") != 0 {
		t.Errorf("heard %v, want the dept menu", c.prompts())
	}
	wantTransfer(t, w, c, "sales")
	if got := c.tr.Variables["CHANNEL(language)"]; got != "nl" {
		t.Errorf("CHANNEL(language) = %q, want the number's nl", got)
	}
	if !c.hasStep(ivr.StepNumber, "number:"+salesLine, ivr.OutcomeValid) {
		t.Errorf("journal %v, want the number matched", c.stepKeys())
	}

	// ?number= wins over agi_dnid; an extension is kept as dialled.
	c = w.run(dialled("ivr?number=600", "4155550100", alicePIN+"#", "9"))
	if !c.heard("vm-password", "ivr/main-menu", "vm-goodbye") {
		t.Errorf("heard %v, want the main menu", c.prompts())
	}
	if !c.hasStep(ivr.StepNumber, "number:600", ivr.OutcomeValid) {
		t.Errorf("journal %v", c.stepKeys())
	}

	// ?menu= wins over both: no number is looked up.
	c = w.run(dialled("ivr?menu=main", "4155550100", alicePIN+"#", "9"))
	if !c.heard("ivr/main-menu") || slices.ContainsFunc(c.steps, func(s stepRow) bool { return s.Kind == string(ivr.StepNumber) }) {
		t.Errorf("heard %v, journal %v", c.prompts(), c.stepKeys())
	}

	// An unknown number starts at the default menu and says so in the journal.
	c = w.run(dialled("ivr", "2125550199", alicePIN+"#", "9"))
	if !c.heard("ivr/main-menu") {
		t.Errorf("heard %v", c.prompts())
	}
	if !c.hasStep(ivr.StepNumber, "number:+12125550199", ivr.OutcomeInvalid) {
		t.Errorf("journal %v, want the unknown number", c.stepKeys())
	}
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)

	// The numbers report groups the calls by the number they matched.
	today := time.Now().UTC()
	rows, err := w.db.ReportNumbers(context.Background(), today.AddDate(0, 0, -1), today.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.NumberCalls{
		{Number: "+12125550199", Calls: 1, Completed: 1},
		{Number: salesLine, Known: true, Calls: 1, Transferred: 1},
		{Number: "600", Known: true, Calls: 1, Completed: 1},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("numbers report %+v\nwant %+v", rows, want)
	}
}

func wantTransfer(t *testing.T, w *world, c call, to string) {
	t.Helper()
	w.checkEnd(c, ivr.ResultTransfer, ivr.EndTransferred)
	if got := c.tr.Variables["IVR_TRANSFER_TO"]; got != to {
		t.Errorf("IVR_TRANSFER_TO = %q, want %q", got, to)
	}
}

func TestScheduleBranches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		closed ivr.Branch
		number string
		keys   []string
		check  func(t *testing.T, w *world, c call)
	}{
		{"open", ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"}, dayLine, []string{alicePIN + "#", "1"},
			func(t *testing.T, w *world, c call) {
				wantTransfer(t, w, c, "sales")
				if !c.hasStep(ivr.StepSchedule, "schedule:always:open", ivr.OutcomeValid) || c.countPrompt("ivr/closed") != 0 {
					t.Errorf("heard %v, journal %v", c.prompts(), c.stepKeys())
				}
			}},
		{"closed: message then hangup", ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"}, nightLine, nil,
			func(t *testing.T, w *world, c call) {
				w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
				if !slices.Equal(c.prompts(), []string{"ivr/closed"}) || !slices.Contains(c.tr.Commands(), "HANGUP") {
					t.Errorf("heard %v, commands %v: want the message, then a hangup", c.prompts(), c.tr.Commands())
				}
				if !c.hasStep(ivr.StepSchedule, "schedule:never:closed", ivr.OutcomeValid) {
					t.Errorf("journal %v", c.stepKeys())
				}
			}},
		{"holiday: its own branch", ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"}, holiLine, nil,
			func(t *testing.T, w *world, c call) {
				w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
				if !slices.Equal(c.prompts(), []string{"ivr/holiday"}) {
					t.Errorf("heard %v", c.prompts())
				}
				if !c.hasStep(ivr.StepSchedule, "schedule:holidays:holiday", ivr.OutcomeValid) {
					t.Errorf("journal %v", c.stepKeys())
				}
			}},
		{"closed: transfer", ivr.Branch{Kind: ivr.BranchTransfer, Target: "night-desk", Prompt: "ivr/closed"}, nightLine, nil,
			func(t *testing.T, w *world, c call) {
				wantTransfer(t, w, c, "night-desk")
				if !c.heard("ivr/closed", "pls-hold-while-try") || c.countPrompt("vm-password") != 0 {
					t.Errorf("heard %v: want no PIN asked", c.prompts())
				}
			}},
		{"closed: record a message", ivr.Branch{Kind: ivr.BranchRecord, Prompt: "ivr/closed"}, nightLine, []string{"1"},
			func(t *testing.T, w *world, c call) {
				w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
				if !c.heard("ivr/closed", "vm-rec-name", "vm-review", "vm-msgsaved", "vm-goodbye") {
					t.Errorf("heard %v", c.prompts())
				}
				if n := count(t, w.pool, "SELECT count(*) FROM recordings WHERE call_id = $1 AND purpose = 'message'", c.row.ID); n != 1 {
					t.Errorf("%d recordings, want 1", n)
				}
			}},
		{"closed: another menu", ivr.Branch{Kind: ivr.BranchMenu, Target: "dept", Prompt: "ivr/closed"}, nightLine, []string{alicePIN + "#", "1"},
			func(t *testing.T, w *world, c call) {
				wantTransfer(t, w, c, "sales")
				// The PIN, typed during the closed prompt, skips vm-password.
				if !c.heard("ivr/closed", "ivr/dept-menu") || !c.hasStep(ivr.StepPIN, "pin", ivr.OutcomeValid) {
					t.Errorf("heard %v", c.prompts())
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, ivr.Config{}, nil)
			withNumbers(t, w, tc.closed)
			call := dialled("ivr", tc.number, tc.keys...)
			call.Records = []agiclient.Record{{Reason: "dtmf", Key: '#', EndPos: 16000}}
			tc.check(t, w, w.run(call))
		})
	}
}

// A menu option with hours runs its action while its schedule is open, and
// its closed branch otherwise; the state is journaled.
func TestMenuOptionHours(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	withNumbers(t, w, ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/closed"})
	ctx := context.Background()
	closed := ivr.Branch{Kind: ivr.BranchMessage, Prompt: "ivr/desk-closed"}
	m, err := w.db.CreateMenuVersion(ctx, ivr.Menu{Key: "desk", Prompt: "ivr/desk-menu", Timeout: 5 * time.Second, MaxDigits: 1, MaxAttempts: 1,
		FailureAction: ivr.Action{Kind: ivr.ActionHangup},
		Options: []ivr.MenuOption{
			{Digits: "0", Action: ivr.Action{Kind: ivr.ActionOperator}, Hours: ivr.OptionHours{Schedule: "never", Closed: closed}},
			{Digits: "1", Action: ivr.Action{Kind: ivr.ActionTransfer, Target: "sales"}, Hours: ivr.OptionHours{Schedule: "always", Closed: closed}},
			{Digits: "2", Action: ivr.Action{Kind: ivr.ActionOperator}, Hours: ivr.OptionHours{Schedule: "never",
				Closed: ivr.Branch{Kind: ivr.BranchMenu, Target: "dept"}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.PublishMenu(ctx, m.VersionID); err != nil {
		t.Fatal(err)
	}
	stored, err := w.db.PublishedMenu(ctx, "desk")
	if err != nil || stored.Options[0].Hours != m.Options[0].Hours || stored.Options[2].Hours.Closed.Target != "dept" {
		t.Fatalf("stored options %+v, %v", stored.Options, err)
	}

	c := w.run(fromAliceTo("desk", alicePIN+"#", "0"))
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if !c.heard("ivr/desk-menu", "ivr/desk-closed") || c.tr.Variables["IVR_TRANSFER_TO"] != "" {
		t.Errorf("closed option: heard %v, variables %v", c.prompts(), c.tr.Variables)
	}
	if !c.hasStep(ivr.StepSchedule, "schedule:never:closed", ivr.OutcomeValid) {
		t.Errorf("journal %v", c.stepKeys())
	}

	c = w.run(fromAliceTo("desk", alicePIN+"#", "1"))
	wantTransfer(t, w, c, "sales")
	if !c.hasStep(ivr.StepSchedule, "schedule:always:open", ivr.OutcomeValid) || c.countPrompt("ivr/desk-closed") != 0 {
		t.Errorf("open option: heard %v, journal %v", c.prompts(), c.stepKeys())
	}

	c = w.run(fromAliceTo("desk", alicePIN+"#", "2", "1"))
	wantTransfer(t, w, c, "sales")
	if !c.heard("ivr/desk-menu", "ivr/dept-menu") {
		t.Errorf("closed option to a menu: heard %v", c.prompts())
	}
}

// fromAliceTo is a call from Alice's phone to the menu key.
func fromAliceTo(key string, keys ...string) agiclient.Call {
	c := fromAlice(keys...)
	c.Script = "ivr?menu=" + key
	return c
}
