package store

import (
	"testing"
	"time"
)

func TestLiveSpan(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2026, 3, n, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name             string
		from, to         int
		rolled           []int
		liveFrom, liveTo int // liveFrom > liveTo: nothing live
	}{
		{"nothing rolled up", 1, 10, nil, 1, 10},
		{"all rolled up", 1, 3, []int{1, 2, 3}, 4, 3},
		{"the past rolled up", 1, 10, []int{1, 2, 3, 4, 5, 6, 7}, 8, 10},
		{"a day in the middle waits", 1, 10, []int{1, 2, 4, 5, 6}, 3, 10},
		{"only the first day live", 1, 3, []int{2, 3}, 1, 1},
		{"one day rolled up", 5, 5, []int{5}, 6, 5},
		{"one day live", 5, 5, nil, 5, 5},
	} {
		var rolled []time.Time
		for _, n := range tc.rolled {
			rolled = append(rolled, d(n))
		}
		sp := liveSpan(d(tc.from).Add(13*time.Hour), d(tc.to).Add(time.Hour), rolled)
		if !sp.from.Time.Equal(d(tc.from)) || !sp.to.Time.Equal(d(tc.to)) {
			t.Errorf("%s: range %v..%v, want days %d..%d", tc.name, sp.from.Time, sp.to.Time, tc.from, tc.to)
		}
		if !sp.liveFrom.Time.Equal(d(tc.liveFrom)) || !sp.liveTo.Time.Equal(d(tc.liveTo)) {
			t.Errorf("%s: live %v..%v, want days %d..%d", tc.name, sp.liveFrom.Time.Format(time.DateOnly),
				sp.liveTo.Time.Format(time.DateOnly), tc.liveFrom, tc.liveTo)
		}
	}
}

func TestMonthsOfSpan(t *testing.T) {
	d := func(m time.Month, n int) time.Time { return time.Date(2026, m, n, 0, 0, 0, 0, time.UTC) }
	jan, feb, mar, apr := d(1, 1), d(2, 1), d(3, 1), d(4, 1)
	for _, tc := range []struct {
		name             string
		from, to         time.Time
		rolled           []time.Time // rolled-up days, the whole range when nil
		months           []time.Time
		wantFrom, wantTo time.Time // wantFrom after wantTo: none
	}{
		{"whole months", jan, d(3, 31), nil, []time.Time{jan, feb, mar}, jan, d(3, 31)},
		{"parts of months around", d(1, 15), d(4, 10), nil, []time.Time{jan, feb, mar, apr}, feb, d(3, 31)},
		{"a month not rolled up ends the run", jan, d(4, 30), nil, []time.Time{jan, feb, apr}, jan, d(2, 28)},
		{"no whole month", d(1, 2), d(1, 31), nil, []time.Time{jan}, d(2, 1), d(1, 31)},
		{"the live days cut the last month", jan, d(3, 31), []time.Time{jan, d(3, 30)}, []time.Time{jan, feb, mar}, jan, d(2, 28)},
	} {
		rolled := tc.rolled
		if rolled == nil {
			rolled = []time.Time{tc.from, tc.to}
		}
		var days []time.Time
		for x := rolled[0]; !x.After(rolled[1]); x = x.AddDate(0, 0, 1) {
			days = append(days, x)
		}
		from, to := liveSpan(tc.from, tc.to, days).months(tc.months)
		if !from.Time.Equal(tc.wantFrom) || !to.Time.Equal(tc.wantTo) {
			t.Errorf("%s: months %s..%s, want %s..%s", tc.name, from.Time.Format(time.DateOnly), to.Time.Format(time.DateOnly),
				tc.wantFrom.Format(time.DateOnly), tc.wantTo.Format(time.DateOnly))
		}
	}
}
