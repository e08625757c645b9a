package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/htmlreport"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// reportDef is one report of `ivr report`.
type reportDef struct {
	name    string
	summary string
	run     func(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error)
	// charts draws the report's rows on the HTML page; nil: a table only.
	charts func(q reportQuery) []htmlreport.Chart
	// empty is what the HTML page says when the report has nothing to show.
	empty string
}

// reportQuery is what a report is asked for: an inclusive range of UTC days
// and, for the per-caller report, how many rows at most.
type reportQuery struct {
	from, to time.Time
	limit    int
}

// reports lists the reports in the order `ivr report` shows them.
func reports() []reportDef {
	return []reportDef{
		{"calls", "calls per day and hour and route, by how they ended", reportCalls, chartsCalls, "No calls in this period."},
		{"funnel", "ivr calls that reached the PIN, authenticated, chose an option, completed", reportFunnel, chartsFunnel,
			"No calls to the IVR in this period."},
		{"options", "how often each menu option was chosen, per menu version", reportOptions, chartsOptions, "No menu choices in this period."},
		{"inputs", "no-input and invalid-input rates per question asked", reportInputs, chartsInputs, "No questions asked in this period."},
		{"hangups", "where callers hang up: the step just before the hangup", reportHangups, chartsHangups, "No hang-ups in this period."},
		{"surveys", "survey answers per question", reportSurveys, chartsSurveys, "No survey answers in this period."},
		{"pins", "PIN checks, failures and lockouts per day", reportPINs, chartsPINs, "No PIN checks in this period."},
		{"recordings", "recordings per day with their total duration", reportRecordings, nil, "No recordings in this period."},
		{"callers", "activity per caller, most active first", reportCallers, nil, "No known callers called in this period."},
		{"numbers", "ivr calls per dialled number: unknown ones, schedule states, how they ended", reportNumbers, nil,
			"No ivr calls routed by dialled number in this period."},
	}
}

// runReport is `ivr report [NAME|all] [--from DAY] [--to DAY] [--format F]`.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "[NAME|all]", "Run the report NAME over the stored calls; without NAME, list the reports. "+
		"With --format html, write one page with charts, of NAME or of all the reports. Days are UTC; --to is included.")
	dbf := fs.reportsDatabase()
	from := fs.String("from", "", "first day, YYYY-MM-DD in UTC (default 29 days before --to)")
	to := fs.String("to", "", "last day, YYYY-MM-DD in UTC, included (default today)")
	format := fs.String("format", "table", "output format: table, csv, json, or html (a self-contained page with charts)")
	limit := fs.Int("limit", 50, "most rows of the callers report")
	pos, err := fs.parse(args, 0, 1)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) > 0 {
		name = pos[0]
	}
	page := strings.EqualFold(*format, "html")
	var f tabular.Format
	if !page {
		if f, err = tabular.ParseFormat(*format); err != nil {
			return usageError{fmt.Sprintf("report: unknown format %q (want table, csv, json or html)", *format)}
		}
	}
	defs, err := selectReports(name, page)
	if err != nil {
		return err
	}
	if defs == nil {
		return listReports(e.stdout, f)
	}
	q := reportQuery{limit: *limit}
	if q.from, q.to, err = reportRange(*from, *to, time.Now()); err != nil {
		return err
	}
	db, err := dbf.Store(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if page {
		return writeReportPage(ctx, e.stdout, db, defs, q, name == "all", time.Now())
	}
	rows, err := defs[0].run(ctx, db, q)
	if err != nil {
		return err
	}
	return rows.Write(e.stdout, f)
}

// selectReports is the reports NAME asks for: all of them for "all", which
// only the HTML page shows, and none (the list) for "".
func selectReports(name string, page bool) ([]reportDef, error) {
	switch {
	case name == "" && page:
		return nil, usageError{"report: --format html writes a report: give its NAME, or all"}
	case name == "":
		return nil, nil
	case name == "all" && page:
		return reports(), nil
	case name == "all":
		return nil, usageError{"report: all needs --format html; the other formats write one report at a time"}
	}
	for _, r := range reports() {
		if r.name == name {
			return []reportDef{r}, nil
		}
	}
	return nil, usageError{fmt.Sprintf("report: unknown report %q (run 'ivr report' for the list)", name)}
}

// listReports writes the names and summaries of the reports.
func listReports(w io.Writer, f tabular.Format) error {
	var r tabular.Rows
	r.Columns = []string{"report", "shows"}
	for _, d := range reports() {
		r.Add(d.name, d.summary)
	}
	return r.Write(w, f)
}

// reportRange reads --from and --to; the defaults are the 30 days up to today.
func reportRange(from, to string, now time.Time) (time.Time, time.Time, error) {
	end := now.UTC().Truncate(24 * time.Hour)
	if to != "" {
		t, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return time.Time{}, time.Time{}, usageError{fmt.Sprintf("report: --to %q: want YYYY-MM-DD", to)}
		}
		end = t
	}
	start := end.AddDate(0, 0, -29)
	if from != "" {
		t, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return time.Time{}, time.Time{}, usageError{fmt.Sprintf("report: --from %q: want YYYY-MM-DD", from)}
		}
		start = t
	}
	if start.After(end) {
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf("report: --from %s is after --to %s", start.Format(time.DateOnly), end.Format(time.DateOnly))}
	}
	return start, end, nil
}

// percent formats part/whole as a percentage with one decimal, "" when whole
// is 0.
func percent(part, whole int64) string {
	if whole == 0 {
		return ""
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

// clock formats a duration in milliseconds as H:MM:SS.
func clock(ms int64) string {
	s := (ms + 500) / 1000
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

func reportCalls(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportCallsByHour(ctx, q.from, q.to)
	r := tabular.Rows{Columns: []string{"day", "hour", "route", "calls", "channels", "answered", "completed", "transferred",
		"hung_up", "auth_failed", "locked_out", "failed", "lost", "open", "avg_duration"}}
	for _, c := range rows {
		avg := ""
		if ended := c.Calls - c.StillOpen; ended > 0 {
			avg = clock(c.TotalSeconds * 1000 / ended)
		}
		r.Add(c.Day, fmt.Sprintf("%02d:00", c.Hour), c.Route, c.Calls, c.Channels, c.Answered, c.Completed, c.Transferred,
			c.HungUp, c.AuthFailed, c.LockedOut, c.Failed, c.Lost, c.StillOpen, avg)
	}
	return r, err
}

func reportFunnel(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	f, err := db.ReportFunnel(ctx, q.from, q.to)
	r := tabular.Rows{Columns: []string{"stage", "calls", "of_all", "of_previous"}}
	stages := []struct {
		name string
		n    int64
	}{
		{"called the IVR", f.Calls}, {"answered", f.Answered}, {"reached the PIN", f.ReachedPIN},
		{"authenticated", f.Authenticated}, {"chose an option", f.ChoseOption}, {"completed", f.Completed},
	}
	prev := f.Calls
	for _, s := range stages {
		r.Add(s.name, s.n, percent(s.n, f.Calls), percent(s.n, prev))
		prev = s.n
	}
	return r, err
}

func reportOptions(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportMenuOptions(ctx, q.from, q.to)
	totals := map[string]int64{}
	key := func(o store.MenuOptionCount) string { return o.Menu + "\x00" + strconv.Itoa(int(o.Version)) }
	for _, o := range rows {
		totals[key(o)] += o.Chosen
	}
	r := tabular.Rows{Columns: []string{"menu", "version", "digits", "label", "action", "chosen", "share"}}
	for _, o := range rows {
		r.Add(o.Menu, o.Version, o.Digits, o.Label, o.Action, o.Chosen, percent(o.Chosen, totals[key(o)]))
	}
	return r, err
}

func reportInputs(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportInputQuality(ctx, q.from, q.to)
	r := tabular.Rows{Columns: []string{"input", "kind", "attempts", "valid", "invalid", "no_input", "invalid_rate", "no_input_rate"}}
	for _, i := range rows {
		r.Add(i.Input, i.Kind, i.Attempts, i.Valid, i.Invalid, i.NoInput, percent(i.Invalid, i.Attempts), percent(i.NoInput, i.Attempts))
	}
	return r, err
}

func reportHangups(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportHangups(ctx, q.from, q.to)
	var total int64
	for _, h := range rows {
		total += h.Hangups
	}
	r := tabular.Rows{Columns: []string{"after", "step", "hangups", "share", "during_prompt"}}
	for _, h := range rows {
		r.Add(h.Kind, h.Step, h.Hangups, percent(h.Hangups, total), h.DuringPrompt)
	}
	return r, err
}

func reportSurveys(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportSurveyResults(ctx, q.from, q.to)
	totals := map[string]int64{}
	key := func(s store.SurveyAnswerCount) string {
		return s.Survey + "\x00" + strconv.Itoa(int(s.Version)) + "\x00" + s.Question
	}
	for _, s := range rows {
		totals[key(s)] += s.Answers
	}
	r := tabular.Rows{Columns: []string{"survey", "version", "question", "answer", "answers", "share"}}
	for _, s := range rows {
		r.Add(s.Survey, s.Version, s.Question, s.Answer, s.Answers, percent(s.Answers, totals[key(s)]))
	}
	return r, err
}

func reportPINs(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportPINSecurity(ctx, q.from, q.to)
	r := tabular.Rows{Columns: []string{"day", "attempts", "failures", "failure_rate", "failing_callers", "locked_calls", "locked_callers"}}
	for _, p := range rows {
		r.Add(p.Day, p.Attempts, p.Failures, percent(p.Failures, p.Attempts), p.FailingCallers, p.LockedCalls, p.LockedCallers)
	}
	return r, err
}

func reportRecordings(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportRecordings(ctx, q.from, q.to)
	r := tabular.Rows{Columns: []string{"day", "purpose", "recordings", "total_duration", "avg_duration", "longest", "cut_by_hangup", "deleted"}}
	for _, d := range rows {
		avg := ""
		if d.Recordings > 0 {
			avg = clock(d.TotalMS / d.Recordings)
		}
		r.Add(d.Day, d.Purpose, d.Recordings, clock(d.TotalMS), avg, clock(int64(d.LongestMS)), d.CutByHangup, d.Deleted)
	}
	return r, err
}

func reportCallers(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportCallerActivity(ctx, q.from, q.to, q.limit)
	r := tabular.Rows{Columns: []string{"account", "name", "calls", "authenticated", "menu_choices", "survey_answers", "recordings", "pin_failures", "last_call"}}
	for _, c := range rows {
		r.Add(c.Account, c.Name, c.Calls, c.Authenticated, c.MenuChoices, c.SurveyAnswers, c.Recordings, c.PINFailures, c.LastCall)
	}
	return r, err
}
