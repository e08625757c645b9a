package datagen

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// Tally counts what the callers did and what their side of the calls saw:
// the keys they pressed, the prompts they reached, the results the dialplan
// got. It is what the reports must show for the journal to agree with the
// calls. The zero value is an empty tally.
type Tally struct {
	Lookups int64 // calls of the lookup route
	Found   int64 // lookups that found the caller (IVR_CALLER_FOUND=1)
	Calls   int64 // calls of the ivr route

	// How the ivr calls ended, by IVR_RESULT; Errors counts every other value
	// (error, or none set).
	Completed, Transferred, HungUp, AuthFailed, Locked, Errors int64

	Hangups       int64 // ivr calls in which the caller hung up: HungUp, and hangups during the last prompts
	ReachedPIN    int64 // ivr calls with an answer (keys or silence) to a PIN prompt
	PINs          int64 // PINs typed
	Authenticated int64 // ivr calls that reached the menu
	ChoseOption   int64 // ivr calls with a valid menu choice
	ChoseAndEnded int64 // of those, the ones that ended completed or transferred
	MenuChoices   int64 // valid menu keys pressed
	SurveyAnswers int64 // valid survey answers
	Recordings    int64 // takes kept: not empty, not re-recorded
	RecordedMS    int64 // their length in milliseconds
	CutByHangup   int64 // kept takes the caller hung up on
	Deleted       int64 // messages deleted
	PINChanges    int64 // new PINs entered twice alike
}

// add adds u to t.
func (t *Tally) add(u Tally) {
	for _, f := range []struct{ a, b *int64 }{
		{&t.Lookups, &u.Lookups}, {&t.Found, &u.Found}, {&t.Calls, &u.Calls},
		{&t.Completed, &u.Completed}, {&t.Transferred, &u.Transferred}, {&t.HungUp, &u.HungUp},
		{&t.AuthFailed, &u.AuthFailed}, {&t.Locked, &u.Locked}, {&t.Errors, &u.Errors},
		{&t.Hangups, &u.Hangups}, {&t.ReachedPIN, &u.ReachedPIN}, {&t.PINs, &u.PINs},
		{&t.Authenticated, &u.Authenticated}, {&t.ChoseOption, &u.ChoseOption}, {&t.ChoseAndEnded, &u.ChoseAndEnded},
		{&t.MenuChoices, &u.MenuChoices}, {&t.SurveyAnswers, &u.SurveyAnswers}, {&t.Recordings, &u.Recordings},
		{&t.RecordedMS, &u.RecordedMS}, {&t.CutByHangup, &u.CutByHangup}, {&t.Deleted, &u.Deleted},
		{&t.PINChanges, &u.PINChanges},
	} {
		*f.a += *f.b
	}
}

// clock is the App clock of one lane: the time of the call the lane plays,
// set to the script's start before the call and moved on by the caller's
// side as the call goes. The App reads it from the call's goroutines.
type clock struct{ ns atomic.Int64 }

// Now returns the time of the call.
func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// prompts are the sounds by which the caller tells what the IVR asks for:
// the App's, the menus' and the survey questions'.
type prompts struct {
	flow      ivr.Prompts
	recordDir string
	menus     map[string]*MenuSeed    // by the menu's prompt
	questions map[string]ivr.Question // by the question's prompt
}

// newPrompts returns the prompts of the plan's menus and surveys and of the
// flows configured by cfg.
func newPrompts(p *Plan, cfg ivr.Config) *prompts {
	pr := &prompts{flow: cfg.Prompts, recordDir: cfg.RecordingDir, menus: map[string]*MenuSeed{}, questions: map[string]ivr.Question{}}
	for i := range p.Menus {
		pr.menus[p.Menus[i].Menu.Prompt] = &p.Menus[i]
	}
	for _, s := range p.Surveys {
		for _, q := range s.Survey.Questions {
			pr.questions[q.Prompt] = q
		}
	}
	return pr
}

// caller plays the caller's side of one call from its script: it answers
// every command the App sends as the person would, moves the lane's clock on
// by the time each takes, and keeps the tally of what happened. It is the
// Responder of one agiclient.Call and runs on that call's goroutine.
type caller struct {
	s        *Script
	p        *prompts
	clock    *clock
	pace     *rand.Rand
	pin      *ivr.Secret // the PIN of the account the call is about, changed when the caller changes it; nil for none
	wrong    string      // a PIN that is not the account's
	tally    Tally
	menu     *MenuSeed // the menu version the call hears
	heard    int       // prompts so far
	next     struct{ account, pin, menu, message, take, review, newPIN int }
	asked    map[string]int // survey answers used, per question key
	newPIN   string         // the new PIN typed at the first prompt of a change
	mismatch bool           // the second entry of newPIN will differ
	kept     int64          // the length of the last take kept, in ms, while it can still be re-recorded

	reachedPIN, chose bool
}

// isPrompt reports whether the command name plays to the caller: one more
// prompt heard.
func isPrompt(name string) bool {
	switch name {
	case "STREAM FILE", "GET DATA", "RECORD FILE", "SAY NUMBER":
		return true
	}
	return false
}

// between returns a duration uniformly in [lo, hi).
func (c *caller) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.pace.Int64N(int64(hi-lo)))
}

// respond answers one command.
func (c *caller) respond(cmd agiclient.Command) agiclient.Reply {
	if m := c.p.menus[cmd.Arg(0)]; cmd.Name == "GET DATA" && m != nil {
		c.menu = m // reached, whatever the caller does there
	}
	if isPrompt(cmd.Name) {
		c.heard++
		if c.heard == c.s.HangupAt {
			return c.hangUp()
		}
	}
	switch cmd.Name {
	case "ANSWER":
		c.clock.advance(c.between(100*time.Millisecond, 400*time.Millisecond))
	case "STREAM FILE":
		if strings.HasPrefix(cmd.Arg(0), c.p.recordDir) {
			c.clock.advance(c.between(5*time.Second, 40*time.Second)) // a recording
		} else {
			c.clock.advance(c.between(time.Second, 4*time.Second))
		}
	case "SAY NUMBER":
		c.clock.advance(c.between(500*time.Millisecond, 1500*time.Millisecond))
	case "RECORD FILE":
		c.record()
	case "GET DATA":
		return c.input(cmd)
	default:
		c.clock.advance(c.between(time.Millisecond, 10*time.Millisecond))
	}
	return agiclient.Reply{}
}

// record notes the take agiclient answers RECORD FILE with (the script's
// Takes, in order) and its length.
func (c *caller) record() {
	r := agiclient.Record{Reason: "timeout", EndPos: 16000} // agiclient's answer once Takes run out
	if c.next.take < len(c.s.Takes) {
		r = c.s.Takes[c.next.take]
	}
	c.next.take++
	ms := r.EndPos * 1000 / recordRate
	c.clock.advance(time.Second + time.Duration(ms)*time.Millisecond) // the beep, then the take
	c.kept = 0
	if r.EndPos > 0 && r.Reason != "writefile" {
		c.tally.Recordings++
		c.tally.RecordedMS += ms
		c.kept = ms
		if r.Reason == "hangup" {
			c.tally.CutByHangup++
		}
	}
}

// next returns the next entry of list at *i, and whether there was one.
func next[T any](list []T, i *int) (T, bool) {
	var v T
	if *i >= len(list) {
		return v, false
	}
	v = list[*i]
	*i++
	return v, true
}

// input answers a GET DATA: the keys the script has for the prompt it plays.
func (c *caller) input(cmd agiclient.Command) agiclient.Reply {
	prompt, f := cmd.Arg(0), c.p.flow
	if prompt != "" {
		c.clock.advance(c.between(time.Second, 3*time.Second))
	}
	var keys string
	switch {
	case prompt == f.Login:
		keys, _ = next(c.s.Accounts, &c.next.account)
	case prompt == f.Password:
		c.reachedPIN = true
		try, ok := next(c.s.PINs, &c.next.pin)
		switch {
		case !ok || try == PINNone:
		case try == PINRight && c.pin != nil:
			keys = string(*c.pin)
		default:
			keys = c.wrong
		}
		if keys != "" {
			c.tally.PINs++
		}
	case c.p.menus[prompt] != nil:
		k, ok := next(c.s.Menu, &c.next.menu)
		if !ok {
			return c.hangUp()
		}
		if _, valid := option(c.menu.Menu, k); valid {
			c.tally.MenuChoices++
			c.chose = true
		}
		keys = k
	case c.p.questions[prompt].Key != "":
		q := c.p.questions[prompt]
		i := c.asked[q.Key]
		keys, _ = next(c.s.Answers[q.Key], &i)
		c.asked[q.Key] = i
		if q.Valid(keys) {
			c.tally.SurveyAnswers++
		}
	case len(f.MessageMenu) > 0 && prompt == f.MessageMenu[len(f.MessageMenu)-1]:
		keys, _ = next(c.s.Messages, &c.next.message)
		if keys == "3" {
			c.tally.Deleted++
		}
	case prompt == f.Review:
		keys, _ = next(c.s.Reviews, &c.next.review)
		if keys == "3" && c.kept > 0 {
			c.tally.Recordings--
			c.tally.RecordedMS -= c.kept
		}
		if keys == "1" || keys == "3" {
			c.kept = 0
		}
	case prompt == f.NewPassword:
		c.newPIN, c.mismatch = "", false
		if np, ok := next(c.s.NewPINs, &c.next.newPIN); ok {
			c.newPIN, c.mismatch = c.goodPIN(), np.Mismatch
			if np.Weak {
				c.newPIN = "123456"
			}
		}
		keys = c.newPIN
	case prompt == f.ReenterPassword:
		keys = c.newPIN
		if c.mismatch {
			keys = c.goodPIN()
		}
		if keys != "" && keys == c.newPIN && c.pin != nil {
			*c.pin = ivr.Secret(keys)
			c.tally.PINChanges++
		}
	}
	if keys == "" {
		timeout, _ := strconv.Atoi(cmd.Arg(1))
		c.clock.advance(time.Duration(timeout) * time.Millisecond)
		return agiclient.Reply{Silence: true}
	}
	c.clock.advance(time.Duration(len(keys)) * c.between(300*time.Millisecond, 900*time.Millisecond))
	return agiclient.Reply{Keys: keys + "#"}
}

// hangUp hangs the caller up at the current prompt.
func (c *caller) hangUp() agiclient.Reply {
	c.clock.advance(c.between(200*time.Millisecond, 2*time.Second))
	return agiclient.Reply{Hangup: true}
}

// goodPIN returns a PIN the policy accepts, drawn from the call's pace.
func (c *caller) goodPIN() string { return goodPIN(c.pace) }

// end adds the call's outcome to the tally: route, result and what the
// caller reached, from the transcript.
func (c *caller) end(tr *agiclient.Transcript) {
	t := &c.tally
	if c.s.Route == RouteLookup {
		t.Lookups++
		if tr.Variables["IVR_CALLER_FOUND"] == "1" {
			t.Found++
		}
		return
	}
	t.Calls++
	result := tr.Variables["IVR_RESULT"]
	switch ivr.Result(result) {
	case ivr.ResultCompleted:
		t.Completed++
	case ivr.ResultTransfer:
		t.Transferred++
	case ivr.ResultHangup:
		t.HungUp++
	case ivr.ResultAuthFailed:
		t.AuthFailed++
	case ivr.ResultLocked:
		t.Locked++
	default:
		t.Errors++
	}
	if tr.CallerHungUp {
		t.Hangups++
	}
	if c.reachedPIN {
		t.ReachedPIN++
	}
	if c.menu != nil {
		t.Authenticated++
	}
	if c.chose {
		t.ChoseOption++
		if result == string(ivr.ResultCompleted) || result == string(ivr.ResultTransfer) {
			t.ChoseAndEnded++
		}
	}
}
