// Package datagen makes realistic IVR traffic for measuring the reports: callers,
// menu and survey versions, and calls of both routes with the journal steps,
// responses, recordings and PIN attempts the call flows would have written. The
// calls follow the shapes of internal/ivr (identification, PIN with retries and
// lockouts, menu choices with invalid and missed input, surveys, recordings,
// transfers, hangups at any step), spread over business hours of many days.
//
// Generation is deterministic for a seed, so two runs with the same Options
// write the same data. Write loads it into PostgreSQL with COPY.
package datagen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
)

// Options say how much traffic to make and when. The zero value of a field means
// its default.
type Options struct {
	Calls   int       // calls to make; default 1,000,000
	Callers int       // callers known to the IVR; default Calls/50, at least 10
	Start   time.Time // the first day of traffic (UTC midnight); default Days before today
	Days    int       // days the calls spread over; default 365
	Seed    uint64    // random seed; the same seed makes the same data
}

func (o Options) withDefaults(now time.Time) Options {
	if o.Calls <= 0 {
		o.Calls = 1_000_000
	}
	if o.Callers <= 0 {
		o.Callers = max(o.Calls/50, 10)
	}
	if o.Days <= 0 {
		o.Days = 365
	}
	if o.Start.IsZero() {
		o.Start = now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -o.Days)
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	return o
}

// CallerSeed is a caller the generated calls come from.
type CallerSeed struct {
	ID      int64 // assigned by the database when written
	Account string
	Name    string
	Phone   string // E.164
}

// MenuSeed is one version of the main menu: the digits callers can press and
// how often each is chosen, and the day it went live.
type MenuSeed struct {
	VersionID int64 // assigned when written
	Key       string
	Version   int
	Live      time.Time // calls from this time on hear it
	Prompt    string
	Options   []ivr.MenuOption
	Weights   []float64 // per option, how often callers choose it
}

// SurveySeed is one version of the satisfaction survey.
type SurveySeed struct {
	VersionID int64
	Key       string
	Version   int
	Live      time.Time
	Questions []ivr.Question
}

// CallRecord is one generated call: its row, how it ended, and everything the
// flows journaled for it. IDs inside are filled in by Write.
type CallRecord struct {
	Call        ivr.Call
	End         ivr.CallEnd
	Steps       []ivr.Step
	Responses   []ivr.Response
	Recordings  []ivr.Recording
	PINAttempts []ivr.PINAttempt
}

// hourWeights is the share of a day's calls in each UTC hour: quiet at night,
// a morning peak and a smaller afternoon one.
var hourWeights = []float64{
	0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 2.5, 5, 8, 9, 8.5,
	7, 7.5, 8, 7.5, 6.5, 5, 3.5, 2.5, 2, 1.5, 1, 0.5,
}

// weekdayWeights is the relative traffic per weekday, Sunday first.
var weekdayWeights = []float64{0.35, 1.1, 1, 1, 1, 0.95, 0.5}

// generator makes calls one at a time in time order, keeping the per-caller
// PIN failure counts that lead to lockouts.
type generator struct {
	rng      *rand.Rand
	opt      Options
	callers  []CallerSeed
	menus    []MenuSeed
	surveys  []SurveySeed
	failures map[int]int       // consecutive PIN failures per caller index
	locked   map[int]time.Time // locked-until per caller index
	dayPick  []float64         // cumulative weights of the days
	hourPick []float64
	seq      int64
}

// plan returns the callers, menus and surveys of a run.
func plan(opt Options) ([]CallerSeed, []MenuSeed, []SurveySeed) {
	callers := make([]CallerSeed, opt.Callers)
	for i := range callers {
		callers[i] = CallerSeed{
			Account: strconv.Itoa(100000 + i),
			Name:    fmt.Sprintf("Caller %d", i+1),
			Phone:   fmt.Sprintf("+1555%07d", 1000000+i),
		}
	}
	span := time.Duration(opt.Days) * 24 * time.Hour
	opts := func(extra ...ivr.MenuOption) []ivr.MenuOption {
		base := []ivr.MenuOption{
			{Digits: "1", Action: ivr.Action{Kind: ivr.ActionPlayMessages}, Label: "messages"},
			{Digits: "2", Action: ivr.Action{Kind: ivr.ActionSurvey, Target: "satisfaction"}, Label: "survey"},
			{Digits: "3", Action: ivr.Action{Kind: ivr.ActionRecord}, Label: "leave a message"},
			{Digits: "4", Action: ivr.Action{Kind: ivr.ActionChangePIN}, Label: "change PIN"},
			{Digits: "0", Action: ivr.Action{Kind: ivr.ActionOperator, Target: "operator"}, Label: "operator"},
		}
		return append(base, extra...)
	}
	menus := []MenuSeed{
		{Key: "main", Version: 1, Live: opt.Start, Prompt: "ivr-main-v1", Options: opts(),
			Weights: []float64{30, 18, 14, 5, 25}},
		{Key: "main", Version: 2, Live: opt.Start.Add(span / 3), Prompt: "ivr-main-v2",
			Options: opts(ivr.MenuOption{Digits: "9", Action: ivr.Action{Kind: ivr.ActionHangup}, Label: "goodbye"}),
			Weights: []float64{32, 20, 12, 5, 18, 8}},
		{Key: "main", Version: 3, Live: opt.Start.Add(2 * span / 3), Prompt: "ivr-main-v3",
			Options: opts(ivr.MenuOption{Digits: "9", Action: ivr.Action{Kind: ivr.ActionHangup}, Label: "goodbye"}),
			Weights: []float64{35, 24, 10, 4, 14, 9}},
	}
	questions := []ivr.Question{
		{Position: 1, Key: "satisfied", Prompt: "survey-satisfied", AllowedDigits: "12345", Required: true},
		{Position: 2, Key: "resolved", Prompt: "survey-resolved", AllowedDigits: "12", Required: true},
		{Position: 3, Key: "recommend", Prompt: "survey-recommend", Range: &ivr.AnswerRange{Min: 0, Max: 10}},
	}
	surveys := []SurveySeed{
		{Key: "satisfaction", Version: 1, Live: opt.Start, Questions: questions[:2]},
		{Key: "satisfaction", Version: 2, Live: opt.Start.Add(span / 2), Questions: questions},
	}
	return callers, menus, surveys
}

func newGenerator(opt Options, callers []CallerSeed, menus []MenuSeed, surveys []SurveySeed) *generator {
	g := &generator{
		rng:      rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)),
		opt:      opt,
		callers:  callers,
		menus:    menus,
		surveys:  surveys,
		failures: make(map[int]int),
		locked:   make(map[int]time.Time),
	}
	for d := range opt.Days {
		g.dayPick = append(g.dayPick, weekdayWeights[opt.Start.AddDate(0, 0, d).Weekday()])
	}
	g.dayPick = cumulative(g.dayPick)
	g.hourPick = cumulative(hourWeights)
	return g
}

func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	sum := 0.0
	for i, v := range w {
		sum += v
		out[i] = sum
	}
	return out
}

// pick returns an index drawn with the cumulative weights c.
func (g *generator) pick(c []float64) int {
	x := g.rng.Float64() * c[len(c)-1]
	lo, hi := 0, len(c)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if c[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// startTimes returns n call start times in increasing order.
func (g *generator) startTimes(n int) []time.Time {
	perDay := make([]int, g.opt.Days)
	for range n {
		perDay[g.pick(g.dayPick)]++
	}
	out := make([]time.Time, 0, n)
	for d, k := range perDay {
		day := g.opt.Start.AddDate(0, 0, d)
		ts := make([]time.Duration, k)
		for i := range ts {
			h := g.pick(g.hourPick)
			ts[i] = time.Duration(h)*time.Hour + time.Duration(g.rng.Int64N(int64(time.Hour)))
		}
		slices.Sort(ts)
		for _, t := range ts {
			out = append(out, day.Add(t).Truncate(time.Millisecond))
		}
	}
	return out
}

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns a duration uniformly in [lo, hi).
func (g *generator) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)))
}
