package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ivrhq/ivr/internal/htmlreport"
	"github.com/ivrhq/ivr/internal/store"
)

// writeReportPage runs defs over q and writes them as one HTML page with
// charts, generated at now; all says the page is every report. Nothing is
// written when a report fails.
func writeReportPage(ctx context.Context, w io.Writer, db *store.DB, defs []reportDef, q reportQuery, all bool, now time.Time) error {
	p := htmlreport.Page{Title: "IVR reports", From: q.from, To: q.to, Generated: now}
	if !all {
		p.Title = "IVR report: " + defs[0].name
	}
	for _, d := range defs {
		rows, err := d.run(ctx, db, q)
		if err != nil {
			return fmt.Errorf("report %s: %w", d.name, err)
		}
		s := htmlreport.Section{ID: d.name, Title: d.name, Summary: d.summary, Rows: rows, Empty: d.empty}
		if d.charts != nil {
			s.Charts = d.charts(q)
		}
		p.Sections = append(p.Sections, s)
	}
	return htmlreport.Write(w, p)
}

// callOutcomes are the columns of the calls report that add up to its calls.
var callOutcomes = []string{"completed", "transferred", "hung_up", "auth_failed", "locked_out", "failed", "lost", "open"}

func chartsCalls(q reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{
		{ID: "calls-by-day", Title: "Calls per day by how they ended", Label: []string{"day"}, Series: callOutcomes, Stacked: true,
			Split: []string{"route"}, Axis: dayAxis(q), LabelTitle: "Day (UTC)", ValueTitle: "Calls"},
		{ID: "calls-by-hour", Title: "Calls per hour of the day by how they ended", Label: []string{"hour"}, Series: callOutcomes, Stacked: true,
			Split: []string{"route"}, Axis: hourAxis(), LabelTitle: "Hour (UTC)", ValueTitle: "Calls"},
	}
}

func chartsFunnel(reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{{ID: "funnel", Title: "Calls that got at least this far", Kind: htmlreport.Bars,
		Label: []string{"stage"}, Series: []string{"calls"}, LabelTitle: "Stage", ValueTitle: "Calls"}}
}

func chartsOptions(reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{{ID: "options", Title: "Option choices", Kind: htmlreport.Bars, Label: []string{"digits", "label"},
		Series: []string{"chosen"}, Split: []string{"menu", "version"}, LabelTitle: "Key · option", ValueTitle: "Times chosen"}}
}

func chartsInputs(reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{{ID: "inputs", Title: "Answers per question by outcome", Kind: htmlreport.Bars, Label: []string{"input"},
		Series: []string{"valid", "invalid", "no_input"}, Stacked: true, LabelTitle: "Question", ValueTitle: "Attempts"}}
}

func chartsHangups(reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{{ID: "hangups", Title: "Hang-ups by the step just before", Kind: htmlreport.Bars, Label: []string{"after", "step"},
		Series: []string{"hangups"}, LabelTitle: "After · step", ValueTitle: "Hang-ups"}}
}

func chartsSurveys(reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{{ID: "surveys", Title: "Survey answers", Kind: htmlreport.Bars, Label: []string{"answer"},
		Series: []string{"answers"}, Split: []string{"survey", "version", "question"}, LabelTitle: "Answer", ValueTitle: "Answers"}}
}

func chartsPINs(q reportQuery) []htmlreport.Chart {
	return []htmlreport.Chart{{ID: "pins", Title: "PIN failures and lockouts per day", Label: []string{"day"},
		Series: []string{"failures", "locked_calls"}, Axis: dayAxis(q), LabelTitle: "Day (UTC)", ValueTitle: "Failures, locked calls",
		Empty: "No PIN failures or lockouts in this period."}}
}

// dayAxis is every day of q, as the reports write days.
func dayAxis(q reportQuery) []string {
	var days []string
	for d := q.from; !d.After(q.to); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(time.DateOnly))
	}
	return days
}

// hourAxis is the 24 hours of a day, as the calls report writes them.
func hourAxis() []string {
	hours := make([]string, 24)
	for h := range hours {
		hours[h] = fmt.Sprintf("%02d:00", h)
	}
	return hours
}
