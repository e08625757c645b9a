package datagen

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// Options say how much traffic to make and when. The zero value of a field means
// its default.
type Options struct {
	Calls   int       // calls to make; default 1,000,000
	Callers int       // callers known to the IVR; default Calls/50, at least 10
	Start   time.Time // the first day of traffic (UTC midnight); default Days before today
	Days    int       // days the calls spread over; default 365
	Seed    uint64    // random seed; the same seed makes the same scripts
	// Lanes is the number of calls played at once, each lane an ivr.App
	// with its own clock. Default 512.
	Lanes int
	// Logger receives the log lines of the App about calls that went wrong.
	// Nil discards them (Generate counts such calls either way).
	Logger *slog.Logger
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
	if o.Lanes <= 0 {
		o.Lanes = 512
	}
	return o
}

// CallerSeed is a caller the generated calls come from.
type CallerSeed struct {
	Account string
	Name    string
	Phone   string     // E.164
	PIN     ivr.Secret // the PIN the caller starts with
}

// MenuSeed is one version of the main menu, the day it goes live and how
// often callers choose each of its options.
type MenuSeed struct {
	Menu    ivr.Menu
	Live    time.Time // calls from this time on hear it
	Weights []float64 // per option, how often callers choose it
}

// SurveySeed is one version of the satisfaction survey and when it goes live.
type SurveySeed struct {
	Survey ivr.Survey
	Live   time.Time
}

// Plan is what a run seeds and plays: the callers, the menu and survey
// versions, and the start of every call. Make it with NewPlan; Script gives
// each call its script. A Plan is not changed after NewPlan.
type Plan struct {
	Options Options // with the defaults filled in
	Callers []CallerSeed
	Menus   []MenuSeed   // in the order they go live, the first at Options.Start
	Surveys []SurveySeed // likewise
	Starts  []time.Time  // the start of call n is Starts[n], in increasing order
}

// Routes of the scripts, as the App's mux names them.
const (
	RouteLookup = "lookup"
	RouteIVR    = "ivr"
)

// PINTry is what a caller does at one PIN prompt.
type PINTry int

// The PIN tries.
const (
	PINRight PINTry = iota // the account's current PIN
	PINWrong               // another PIN
	PINNone                // nothing: the prompt times out
)

// NewPIN is one try at choosing a new PIN: a weak PIN the policy refuses,
// or a good one typed again wrongly (Mismatch) or rightly.
type NewPIN struct {
	Weak, Mismatch bool
}

// Script is what the caller of one call does. The lists are consumed in order
// as the IVR asks: one entry at each prompt of that kind. When they run out
// the caller stays silent, except at the menu, where they hang up.
type Script struct {
	N      int // the call's number, from 0 in start order
	Start  time.Time
	Route  string // RouteLookup or RouteIVR
	Number string // the caller ID as the trunk sends it; "" when withheld
	// Caller is the index in Plan.Callers of the caller the call is about:
	// the owner of Number, or the account typed. -1 for none.
	Caller int

	Accounts []string // at each account prompt: Caller's account, one nobody has, or "" for nothing
	PINs     []PINTry
	Menu     []string            // keys at each main menu prompt
	Answers  map[string][]string // per survey question key, the answer at each asking
	Messages []string            // the key after each message played
	Takes    []agiclient.Record  // how each recording take ends
	Reviews  []string            // the key at each review of a take
	NewPINs  []NewPIN
	// HangupAt is the prompt (counting every STREAM FILE, GET DATA, RECORD
	// FILE and SAY NUMBER) during which the caller hangs up; 0 for never.
	HangupAt int
	// Pace seeds how long each prompt plays and each key takes.
	Pace uint64
}

// Rates of the things callers do, per call or per input. They are rough
// figures of a consumer IVR and only need to make every report show
// something.
const (
	shareLookup     = 0.40  // calls of the lookup route
	shareKnownPhone = 0.70  // ivr calls from a number a caller owns
	shareWithheld   = 0.10  // ivr calls with no caller ID
	rateHangup      = 0.012 // a caller hangs up during any one prompt
	rateTimeout     = 0.05  // a caller presses nothing
	rateInvalid     = 0.05  // a caller presses a key the menu does not know
	rateWrongPIN    = 0.10  // a caller types the wrong PIN
	rateForgetful   = 0.70  // the same, for the few callers who never remember it
	rateUnknownAcct = 0.12  // an account number that does not exist
	maxHangupPrompt = 80    // beyond this prompt nobody hangs up any more
)

// hourWeights is the share of a day's calls in each UTC hour: quiet at night,
// a morning peak and a smaller afternoon one.
var hourWeights = []float64{
	0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1, 2.5, 5, 8, 9, 8.5,
	7, 7.5, 8, 7.5, 6.5, 5, 3.5, 2.5, 2, 1.5, 1, 0.5,
}

// weekdayWeights is the relative traffic per weekday, Sunday first.
var weekdayWeights = []float64{0.35, 1.1, 1, 1, 1, 0.95, 0.5}

// Streams of the random numbers, so that each part of the plan draws from
// its own and adding calls changes no caller.
const (
	streamStarts uint64 = iota + 1
	streamCallers
	streamScripts
)

// rng returns the random source of one stream of seed; n tells apart the
// sources within it (the callers, the calls).
func rng(seed, stream, n uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^stream*0x9e3779b97f4a7c15, n))
}

// NewPlan returns the plan of opt, its defaults filled in from now.
func NewPlan(opt Options, now time.Time) *Plan {
	opt = opt.withDefaults(now)
	p := &Plan{Options: opt}
	for i := range opt.Callers {
		r := rng(opt.Seed, streamCallers, uint64(i))
		p.Callers = append(p.Callers, CallerSeed{
			Account: strconv.Itoa(100000 + i),
			Name:    fmt.Sprintf("Caller %d", i+1),
			Phone:   fmt.Sprintf("+1555%07d", 1000000+i),
			PIN:     ivr.Secret(goodPIN(r)),
		})
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
	goodbye := ivr.MenuOption{Digits: "9", Action: ivr.Action{Kind: ivr.ActionHangup}, Label: "goodbye"}
	menu := func(prompt string, options []ivr.MenuOption) ivr.Menu {
		return ivr.Menu{Key: "main", Prompt: prompt, Timeout: 5 * time.Second, MaxDigits: 1, MaxAttempts: 3,
			FailureAction: ivr.Action{Kind: ivr.ActionOperator, Target: "operator"}, Options: options}
	}
	p.Menus = []MenuSeed{
		{Menu: menu("ivr-main-v1", opts()), Live: opt.Start, Weights: []float64{30, 18, 14, 5, 25}},
		{Menu: menu("ivr-main-v2", opts(goodbye)), Live: opt.Start.Add(span / 3), Weights: []float64{32, 20, 12, 5, 18, 8}},
		{Menu: menu("ivr-main-v3", opts(goodbye)), Live: opt.Start.Add(2 * span / 3), Weights: []float64{35, 24, 10, 4, 14, 9}},
	}
	questions := []ivr.Question{
		{Position: 1, Key: "satisfied", Prompt: "survey-satisfied", AllowedDigits: "12345", Required: true},
		{Position: 2, Key: "resolved", Prompt: "survey-resolved", AllowedDigits: "12", Required: true},
		{Position: 3, Key: "recommend", Prompt: "survey-recommend", Range: &ivr.AnswerRange{Min: 0, Max: 10}},
	}
	survey := func(qs []ivr.Question) ivr.Survey {
		return ivr.Survey{Key: "satisfaction", IntroPrompt: "survey-intro", ThankYouPrompt: "survey-thanks", Questions: qs}
	}
	p.Surveys = []SurveySeed{
		{Survey: survey(questions[:2]), Live: opt.Start},
		{Survey: survey(questions), Live: opt.Start.Add(span / 2)},
	}
	p.Starts = startTimes(opt, rng(opt.Seed, streamStarts, 0))
	return p
}

// goodPIN returns a six-digit PIN the policy accepts.
func goodPIN(r *rand.Rand) string {
	for {
		pin := fmt.Sprintf("%06d", r.IntN(1_000_000))
		if ivr.ValidatePIN(pin) == nil {
			return pin
		}
	}
}

// pick returns an index drawn with the weights w.
func pick(r *rand.Rand, w []float64) int {
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	x := r.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// startTimes returns the opt.Calls call start times in increasing order, to
// the millisecond.
func startTimes(opt Options, r *rand.Rand) []time.Time {
	days := make([]float64, opt.Days)
	for d := range days {
		days[d] = weekdayWeights[opt.Start.AddDate(0, 0, d).Weekday()]
	}
	perDay := make([]int, opt.Days)
	for range opt.Calls {
		perDay[pick(r, days)]++
	}
	out := make([]time.Time, 0, opt.Calls)
	for d, k := range perDay {
		day := opt.Start.AddDate(0, 0, d)
		ts := make([]time.Duration, k)
		for i := range ts {
			h := pick(r, hourWeights)
			ts[i] = (time.Duration(h)*time.Hour + time.Duration(r.Int64N(int64(time.Hour)))).Truncate(time.Millisecond)
		}
		slices.Sort(ts)
		for _, t := range ts {
			out = append(out, day.Add(t))
		}
	}
	return out
}

// liveAt returns the index of the newest of versions (in the order they go
// live) that is live at t, 0 when none is yet.
func liveAt(n int, live func(i int) time.Time, t time.Time) int {
	v := 0
	for i := range n {
		if !live(i).After(t) {
			v = i
		}
	}
	return v
}

// Menu returns the menu version live at t.
func (p *Plan) Menu(t time.Time) *MenuSeed {
	return &p.Menus[liveAt(len(p.Menus), func(i int) time.Time { return p.Menus[i].Live }, t)]
}

// Survey returns the survey version live at t.
func (p *Plan) Survey(t time.Time) *SurveySeed {
	return &p.Surveys[liveAt(len(p.Surveys), func(i int) time.Time { return p.Surveys[i].Live }, t)]
}

// callerFor draws who calls: a few callers call often, most rarely.
func (p *Plan) callerFor(r *rand.Rand) int {
	// A power of a uniform number favours low indexes: of 20,000 callers
	// the first makes about one call in 700, the median one in 24,000.
	return int(math.Pow(r.Float64(), 1.5) * float64(len(p.Callers)))
}

// forgetful reports whether caller i is one of the few who never remember
// their PIN: they are the lockouts.
func forgetful(i int) bool { return i%97 == 13 }

// Script returns the script of call n (0 <= n < len(p.Starts)). It depends
// on the seed, n and the plan alone, so scripts can be made in any order.
func (p *Plan) Script(n int) Script {
	r := rng(p.Options.Seed, streamScripts, uint64(n))
	s := Script{N: n, Start: p.Starts[n], Caller: -1, Pace: r.Uint64()}
	if r.Float64() < shareLookup {
		s.Route = RouteLookup
		switch u := r.Float64(); {
		case u < 0.05:
		case u < 0.85:
			s.Caller = p.callerFor(r)
			s.Number = p.Callers[s.Caller].Phone[2:]
		default:
			s.Number = unknownNumber(r)
		}
		return s
	}
	s.Route = RouteIVR
	byPhone := false
	switch u := r.Float64(); {
	case u < shareKnownPhone:
		s.Caller = p.callerFor(r)
		s.Number = p.Callers[s.Caller].Phone[2:]
		byPhone = true
	case u < shareKnownPhone+shareWithheld:
	default:
		s.Number = unknownNumber(r)
	}
	if !byPhone {
		s.Caller = p.callerFor(r)
		for range 3 {
			switch u := r.Float64(); {
			case u < rateTimeout:
				s.Accounts = append(s.Accounts, "")
			case u < rateTimeout+rateUnknownAcct:
				s.Accounts = append(s.Accounts, fmt.Sprintf("8%08d", r.IntN(100_000_000)))
			default:
				s.Accounts = append(s.Accounts, p.Callers[s.Caller].Account)
			}
		}
	}
	wrong := rateWrongPIN
	if forgetful(s.Caller) {
		wrong = rateForgetful
	}
	for range 3 {
		switch u := r.Float64(); {
		case u < rateTimeout/2:
			s.PINs = append(s.PINs, PINNone)
		case u < rateTimeout/2+wrong:
			s.PINs = append(s.PINs, PINWrong)
		default:
			s.PINs = append(s.PINs, PINRight)
		}
	}
	s.menuKeys(r, p.Menu(s.Start))
	s.Answers = make(map[string][]string)
	for _, q := range p.Survey(s.Start).Survey.Questions {
		s.Answers[q.Key] = answers(r, q)
	}
	for range 6 {
		key := []string{"1", "2", "2", "2", "3", "3", "#"}[r.IntN(7)]
		switch u := r.Float64(); {
		case u < rateTimeout:
			key = ""
		case u < rateTimeout+rateInvalid:
			key = "5"
		}
		s.Messages = append(s.Messages, key)
	}
	for range 6 {
		s.Takes = append(s.Takes, recordTake(r))
		key := "1"
		switch u := r.Float64(); {
		case u < rateTimeout:
			key = ""
		case u < 0.15:
			key = "2"
		case u < 0.20:
			key = "3"
		}
		s.Reviews = append(s.Reviews, key)
	}
	for range 3 {
		s.NewPINs = append(s.NewPINs, NewPIN{Weak: r.Float64() < 0.15, Mismatch: r.Float64() < 0.10})
	}
	// The prompt of the hangup: each prompt is the one with rateHangup.
	if k := 1 + int(math.Log(1-r.Float64())/math.Log(1-rateHangup)); k <= maxHangupPrompt {
		s.HangupAt = k
	}
	return s
}

// unknownNumber is a number nobody in the plan owns (the callers' are
// +1555...).
func unknownNumber(r *rand.Rand) string { return fmt.Sprintf("556%07d", r.IntN(10_000_000)) }

// menuKeys draws the keys the caller presses at the menu m: some misses, a
// choice, and after an action that returns to the menu, another choice,
// goodbye, or nothing (the caller hangs up there).
func (s *Script) menuKeys(r *rand.Rand, m *MenuSeed) {
	for range 4 {
		for misses := 0; misses < 3; misses++ {
			u := r.Float64()
			if u >= rateTimeout+rateInvalid {
				break
			}
			if u < rateTimeout {
				s.Menu = append(s.Menu, "")
			} else {
				s.Menu = append(s.Menu, "7")
			}
		}
		o := m.Menu.Options[pick(r, m.Weights)]
		s.Menu = append(s.Menu, o.Digits)
		switch o.Action.Kind {
		case ivr.ActionOperator, ivr.ActionTransfer, ivr.ActionHangup:
			return
		}
		if r.Float64() < 0.4 {
			continue
		}
		if _, ok := option(m.Menu, "9"); ok && r.Float64() < 0.7 {
			s.Menu = append(s.Menu, "9")
		}
		return
	}
}

// option returns the option of m for digits.
func option(m ivr.Menu, digits string) (ivr.MenuOption, bool) {
	for _, o := range m.Options {
		if o.Digits == digits {
			return o, true
		}
	}
	return ivr.MenuOption{}, false
}

// answers draws the answers to q at each asking: mostly a valid one at once,
// sometimes a miss first; optional questions are sometimes skipped.
func answers(r *rand.Rand, q ivr.Question) []string {
	var out []string
	for range 2 {
		u := r.Float64()
		if u >= rateTimeout+rateInvalid {
			break
		}
		switch {
		case u >= rateTimeout && q.Range != nil:
			out = append(out, strconv.Itoa(q.Range.Max+1+r.IntN(80)))
		case u >= rateTimeout:
			out = append(out, "9")
		case !q.Required:
			return append(out, "") // skipped
		default:
			out = append(out, "")
		}
	}
	if q.Range != nil {
		// Mostly happy callers: 7 to 10, some detractors.
		if r.Float64() < 0.7 {
			return append(out, strconv.Itoa(7+r.IntN(4)))
		}
		return append(out, strconv.Itoa(r.IntN(7)))
	}
	// Earlier digits are the happier answers: weight them up.
	d := q.AllowedDigits
	i := min(r.IntN(len(d)), r.IntN(len(d)+1))
	return append(out, d[i:i+1])
}

// recordRate is the sample rate of RECORD FILE's endpos.
const recordRate = 8000

// recordTake draws how one recording take ends.
func recordTake(r *rand.Rand) agiclient.Record {
	secs := func(lo, hi float64) int64 { return int64((lo + r.Float64()*(hi-lo)) * recordRate) }
	switch u := r.Float64(); {
	case u < 0.05:
		return agiclient.Record{Reason: "timeout"} // nothing said
	case u < 0.10:
		return agiclient.Record{Reason: "hangup", EndPos: secs(1, 60)}
	case u < 0.40:
		return agiclient.Record{Reason: "timeout", EndPos: secs(5, 180)}
	}
	return agiclient.Record{Reason: "dtmf", Key: '#', EndPos: secs(2, 90)}
}
