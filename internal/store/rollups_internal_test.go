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
