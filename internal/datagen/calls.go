package datagen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
)

// Rates of the things callers do, per call or per input. They are rough figures
// of a consumer IVR and only need to make every report show something.
const (
	shareLookup     = 0.40 // calls of the lookup route
	shareKnownPhone = 0.70 // ivr calls from a number a caller owns
	shareWithheld   = 0.10 // ivr calls with no caller ID
	rateHangup      = 0.02 // a caller hangs up during any one prompt
	rateTimeout     = 0.05 // a caller presses nothing
	rateInvalid     = 0.05 // a caller presses a key the menu does not know
	rateWrongPIN    = 0.10 // a caller types the wrong PIN
	rateUnknownAcct = 0.12 // an account number that does not exist
	lockAfter       = 5    // consecutive PIN failures that lock an account
	maxPINTries     = 3
	maxAttempts     = 3
)

// lockBase is the first lockout; each further failure doubles it.
const lockBase = 5 * time.Minute

// call is the builder of one generated call: it keeps the clock, the step
// numbering and the prompts queued for the next input, as the flows do.
type call struct {
	g        *generator
	rec      *CallRecord
	t        time.Time
	attempts map[string]int
	queued   []string
	caller   int // caller index, -1 when none, -2 for an unknown account
}

// next generates the call starting at start with uniqueid number n.
func (g *generator) next(start time.Time, n int64) CallRecord {
	var rec CallRecord
	rec.Call = ivr.Call{
		UniqueID:  fmt.Sprintf("%d.%d", start.Unix(), n),
		Channel:   fmt.Sprintf("PJSIP/trunk-%08x", n),
		DNID:      "5000",
		StartedAt: start,
	}
	rec.Call.LinkedID = rec.Call.UniqueID
	c := &call{g: g, rec: &rec, t: start, attempts: make(map[string]int), caller: -1}
	if g.chance(shareLookup) {
		c.lookup()
		return rec
	}
	c.ivrCall()
	return rec
}

// callerFor picks who calls: a few callers call often, most rarely.
func (g *generator) callerFor() int {
	// The square of a uniform number favours low indexes.
	u := g.rng.Float64()
	return int(u * u * float64(len(g.callers)))
}

func (c *call) lookup() {
	g := c.g
	c.rec.Call.Route = "lookup"
	st := ivr.Step{Seq: 1, Key: "lookup", Kind: ivr.StepLookup, Attempt: 1, Outcome: ivr.OutcomeInvalid}
	switch {
	case g.chance(0.05):
		c.rec.Call.CallerIDRaw = ""
	case g.chance(0.8):
		i := g.callerFor()
		c.rec.Call.CallerIDRaw = g.callers[i].Phone[2:]
		c.rec.Call.CallerIDE164 = g.callers[i].Phone
		c.rec.Call.CallerID = int64(i + 1)
		st.Outcome = ivr.OutcomeValid
	default:
		c.rec.Call.CallerIDRaw = fmt.Sprintf("555%07d", g.rng.IntN(10_000_000))
		c.rec.Call.CallerIDE164 = "+1" + c.rec.Call.CallerIDRaw
	}
	c.t = c.t.Add(g.between(2*time.Millisecond, 20*time.Millisecond))
	st.Elapsed = c.t.Sub(c.rec.Call.StartedAt)
	st.At = c.t
	c.rec.Steps = append(c.rec.Steps, st)
	c.rec.End = ivr.CallEnd{Reason: ivr.EndCompleted, EndedAt: c.t, CallerID: c.rec.Call.CallerID}
}

// hungUp is the panic value that ends a generated call where the caller hung
// up; ivrCall recovers it, so it never leaves the package.
type hungUp struct{}

func (c *call) ivrCall() {
	g := c.g
	c.rec.Call.Route = "ivr"
	byPhone := false
	switch u := g.rng.Float64(); {
	case u < shareKnownPhone:
		c.caller = g.callerFor()
		byPhone = true
		c.rec.Call.CallerIDRaw = g.callers[c.caller].Phone[2:]
		c.rec.Call.CallerIDE164 = g.callers[c.caller].Phone
		c.rec.Call.CallerID = int64(c.caller + 1)
	case u < shareKnownPhone+shareWithheld:
	default:
		c.rec.Call.CallerIDRaw = fmt.Sprintf("555%07d", g.rng.IntN(10_000_000))
		c.rec.Call.CallerIDE164 = "+1" + c.rec.Call.CallerIDRaw
	}
	c.t = c.t.Add(g.between(100*time.Millisecond, 400*time.Millisecond))
	c.rec.End.AnsweredAt = c.t
	c.rec.End.LinkedID = c.rec.Call.LinkedID
	c.rec.End.CallerID = c.rec.Call.CallerID
	// Every generated IVR call is routed by the number it dialled, which the
	// numbers table knows (docs/ivr.md, An IVR per dialled number).
	c.step(ivr.StepNumber, "number:"+c.rec.Call.DNID, "", ivr.OutcomeValid, false, 0)

	reason := func() (reason ivr.EndReason) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(hungUp); !ok {
					panic(r)
				}
				reason = ivr.EndHangup
			}
		}()
		reason = c.authenticate(byPhone)
		if reason == "" {
			reason = c.menus()
		}
		c.flush() // the last prompts, such as goodbye
		return reason
	}()
	if reason == ivr.EndHangup {
		c.step(ivr.StepHangup, "hangup", "", ivr.OutcomeHangup, false, 0)
	}
	c.rec.End.Reason = reason
	c.rec.End.EndedAt = c.t.Add(50 * time.Millisecond)
}

// step journals one step at the current time.
func (c *call) step(kind ivr.StepKind, key, digits string, out ivr.Outcome, secret bool, elapsed time.Duration) {
	c.attempts[key]++
	c.rec.Steps = append(c.rec.Steps, ivr.Step{
		Seq: len(c.rec.Steps) + 1, Key: key, Kind: kind, Digits: digits, Secret: secret,
		Outcome: out, Attempt: c.attempts[key], Elapsed: elapsed, At: c.t,
	})
}

// play plays prompts at once (STREAM FILE), queued ones first.
func (c *call) play(prompts ...string) {
	c.queued = append(c.queued, prompts...)
	c.flush()
}

func (c *call) flush() {
	for _, p := range c.queued {
		if c.g.chance(rateHangup / 2) {
			c.t = c.t.Add(c.g.between(200*time.Millisecond, 2*time.Second))
			c.step(ivr.StepPrompt, p, "", ivr.OutcomeHangup, false, 0)
			c.queued = nil
			panic(hungUp{})
		}
		c.t = c.t.Add(c.g.between(time.Second, 4*time.Second))
		c.step(ivr.StepPrompt, p, "", ivr.OutcomeValid, false, 0)
	}
	c.queued = nil
}

// say queues a prompt for the next input.
func (c *call) say(p string) { c.queued = append(c.queued, p) }

// ask plays the queued prompts and prompt with GET DATA and returns what the
// caller pressed: digits from press, "" for no input. It journals the prompts;
// the caller of ask journals the input with input(). A hangup during the
// prompt ends the call.
func (c *call) ask(prompt string, press func() string) (digits string, elapsed time.Duration) {
	var prompts []string
	for _, p := range append(c.queued, prompt) {
		prompts = append(prompts, strings.Split(p, "&")...)
	}
	c.queued = nil
	if c.g.chance(rateHangup) {
		for _, p := range prompts {
			c.t = c.t.Add(c.g.between(200*time.Millisecond, 2*time.Second))
			c.step(ivr.StepPrompt, p, "", ivr.OutcomeHangup, false, 0)
		}
		panic(hungUp{})
	}
	start := c.t
	c.t = c.t.Add(time.Duration(len(prompts)) * c.g.between(time.Second, 3*time.Second))
	digits = press()
	if digits == "" {
		c.t = c.t.Add(6 * time.Second)
	} else {
		c.t = c.t.Add(time.Duration(len(digits)) * c.g.between(300*time.Millisecond, 900*time.Millisecond))
	}
	for _, p := range prompts {
		c.step(ivr.StepPrompt, p, "", ivr.OutcomeValid, false, 0)
	}
	return digits, c.t.Sub(start)
}

// input journals an input step after ask.
func (c *call) input(kind ivr.StepKind, key, digits string, valid, secret bool, elapsed time.Duration) {
	out := ivr.OutcomeValid
	switch {
	case digits == "":
		out = ivr.OutcomeTimeout
	case !valid:
		out = ivr.OutcomeInvalid
	}
	if secret {
		digits = ""
	}
	c.step(kind, key, digits, out, secret, elapsed)
	c.t = c.t.Add(c.g.between(2*time.Millisecond, 15*time.Millisecond))
}

// keys returns a press function: "" with rateTimeout, bad with rateInvalid,
// else good().
func (c *call) keys(bad string, good func() string) func() string {
	return func() string {
		switch u := c.g.rng.Float64(); {
		case u < rateTimeout:
			return ""
		case u < rateTimeout+rateInvalid && bad != "":
			return bad
		}
		return good()
	}
}

// authenticate runs identification and PIN as the ivr route does and returns
// the end reason when the call ends there, "" once the caller is in.
func (c *call) authenticate(byPhone bool) ivr.EndReason {
	g := c.g
	accountTries, tries := 0, 0
	locked := false
	for tries < maxPINTries {
		if c.caller == -1 {
			if accountTries >= maxAttempts {
				break
			}
			accountTries++
			acct, el := c.ask("vm-login", c.keys("", func() string {
				if g.chance(rateUnknownAcct) {
					return strconv.Itoa(900000 + g.rng.IntN(99999))
				}
				return g.callers[g.callerFor()].Account
			}))
			if acct == "" {
				c.input(ivr.StepAccount, "account", acct, false, false, el)
				c.say("please-try-again")
				continue
			}
			c.caller = -2
			if n, _ := strconv.Atoi(acct); n >= 100000 && n < 100000+len(g.callers) {
				c.caller = n - 100000
			}
			c.input(ivr.StepAccount, "account", acct, c.caller >= 0, false, el)
		}
		tries++
		// Some callers never remember their PIN: they are the lockouts.
		wrongRate := rateWrongPIN
		if c.caller >= 0 && c.caller%97 == 13 {
			wrongRate = 0.7
		}
		right := true
		pin, el := c.ask("vm-password", func() string {
			if g.chance(rateTimeout / 2) {
				return ""
			}
			right = !g.chance(wrongRate)
			return "4711"
		})
		if pin == "" {
			c.input(ivr.StepPIN, "pin", "", false, true, el)
			c.say("please-try-again")
			continue
		}
		isLocked := c.caller >= 0 && c.t.Before(g.locked[c.caller])
		ok := right && !isLocked && c.caller >= 0
		if c.caller >= 0 {
			c.rec.PINAttempts = append(c.rec.PINAttempts, ivr.PINAttempt{
				CallerID: int64(c.caller + 1), Success: ok, At: c.t,
			})
			if ok {
				g.failures[c.caller] = 0
			} else {
				g.failures[c.caller]++
				if f := g.failures[c.caller]; f >= lockAfter {
					d := min(lockBase<<(f-lockAfter), 24*time.Hour)
					g.locked[c.caller] = c.t.Add(d)
				}
			}
			if isLocked || c.t.Before(g.locked[c.caller]) {
				locked = true
			}
		}
		c.input(ivr.StepPIN, "pin", pin, ok, true, el)
		if ok {
			c.rec.End.Authenticated = true
			c.rec.End.CallerID = int64(c.caller + 1)
			return ""
		}
		c.say("vm-incorrect")
		if !byPhone {
			c.caller = -1
		}
	}
	c.say("vm-goodbye")
	if locked {
		return ivr.EndLockedOut
	}
	return ivr.EndAuthFailed
}

// liveAt returns the newest of versions (in order of going live) that is live
// at t, the first when none is yet.
func liveAt[V any](versions []V, live func(*V) time.Time, t time.Time) *V {
	v := &versions[0]
	for i := range versions {
		if !live(&versions[i]).After(t) {
			v = &versions[i]
		}
	}
	return v
}

// menus runs the main menu until an action ends the call.
func (c *call) menus() ivr.EndReason {
	g := c.g
	m := liveAt(g.menus, func(m *MenuSeed) time.Time { return m.Live }, c.rec.Call.StartedAt)
	c.rec.End.MenuVersionID = int64(m.Version)
	cum := cumulative(m.Weights)
	for range 4 {
		act := ivr.Action{Kind: ivr.ActionOperator, Target: "operator"}
		for range maxAttempts {
			digits, el := c.ask(m.Prompt, c.keys("7", func() string { return m.Options[g.pick(cum)].Digits }))
			var opt *ivr.MenuOption
			for i := range m.Options {
				if m.Options[i].Digits == digits {
					opt = &m.Options[i]
				}
			}
			if opt != nil {
				c.rec.Responses = append(c.rec.Responses, ivr.Response{
					CallerID: c.rec.End.CallerID, MenuVersionID: int64(m.Version),
					QuestionKey: m.Key, Answer: digits, At: c.t,
				})
			}
			c.input(ivr.StepMenu, "menu:"+m.Key, digits, opt != nil, false, el)
			if opt != nil {
				act = opt.Action
				break
			}
			if digits == "" {
				c.say("please-try-again")
			} else {
				c.say("pm-invalid-option")
			}
		}
		switch act.Kind {
		case ivr.ActionOperator, ivr.ActionTransfer:
			c.play("pls-hold-while-try")
			c.step(ivr.StepTransfer, string(act.Kind)+":"+act.Target, "", ivr.OutcomeValid, false, 0)
			return ivr.EndTransferred
		case ivr.ActionHangup:
			c.say("vm-goodbye")
			return ivr.EndCompleted
		case ivr.ActionPlayMessages:
			c.messages()
			if g.chance(0.5) {
				continue
			}
		case ivr.ActionSurvey:
			c.survey()
		case ivr.ActionRecord:
			c.record()
		case ivr.ActionChangePIN:
			c.changePIN()
		}
		break
	}
	c.say("vm-goodbye")
	return ivr.EndCompleted
}

func (c *call) messages() {
	g := c.g
	c.play("vm-youhave")
	n := g.rng.IntN(4)
	c.step(ivr.StepPrompt, "number:"+strconv.Itoa(n), "", ivr.OutcomeValid, false, 0)
	if n == 0 {
		c.say("vm-nomore")
		return
	}
	c.say("vm-messages")
	for i := range n {
		c.flush()
		c.t = c.t.Add(g.between(5*time.Second, 40*time.Second))
		c.step(ivr.StepPlayback, "message:"+strconv.Itoa(int(c.rec.Call.StartedAt.Unix()%100000)*10+i), "", ivr.OutcomeValid, false, 0)
		key, el := c.ask("vm-repeat&vm-next&vm-delete", c.keys("5", func() string { return []string{"2", "2", "3", "#"}[g.rng.IntN(4)] }))
		c.input(ivr.StepInput, "messages", key, key != "5", false, el)
		if key == "#" {
			return
		}
		if key == "3" {
			c.say("vm-deleted")
		}
	}
}

func (c *call) survey() {
	g := c.g
	sv := liveAt(g.surveys, func(s *SurveySeed) time.Time { return s.Live }, c.rec.Call.StartedAt)
	c.say("survey-intro")
	for _, q := range sv.Questions {
		key := "survey:" + sv.Key + ":" + q.Key
		for range maxAttempts {
			ans, el := c.ask(q.Prompt, c.keys("9", func() string {
				if q.Range != nil {
					// Mostly happy callers: 7 to 10, some detractors.
					if g.chance(0.7) {
						return strconv.Itoa(7 + g.rng.IntN(4))
					}
					return strconv.Itoa(g.rng.IntN(7))
				}
				d := q.AllowedDigits
				// Earlier digits are the happier answers: weight them up.
				i := min(g.rng.IntN(len(d)), g.rng.IntN(len(d)+1))
				return d[i : i+1]
			}))
			ok := ans != "" && q.Valid(ans)
			if ok {
				c.rec.Responses = append(c.rec.Responses, ivr.Response{
					CallerID: c.rec.End.CallerID, SurveyVersionID: int64(sv.Version),
					QuestionKey: q.Key, Answer: ans, At: c.t,
				})
			}
			c.input(ivr.StepSurvey, key, ans, ok, false, el)
			if ok || (ans == "" && !q.Required) {
				break
			}
			if ans == "" {
				c.say("please-try-again")
			} else {
				c.say("pm-invalid-option")
			}
		}
	}
	c.say("survey-thanks")
}

func (c *call) record() {
	g := c.g
	for take := 1; take <= 2; take++ {
		c.play("vm-rec-name")
		rec := ivr.Recording{
			CallerID: c.rec.End.CallerID,
			Path:     fmt.Sprintf("/var/spool/asterisk/ivr/%s-%d-%d", c.rec.Call.UniqueID, len(c.rec.Steps)+1, take),
			Format:   "wav",
			Purpose:  ivr.PurposeMessage,
			Reason:   ivr.RecordDTMF,
			Key:      "#",
		}
		switch u := g.rng.Float64(); {
		case u < 0.05:
			rec.Reason, rec.Key = ivr.RecordTimeout, ""
		case u < 0.10:
			rec.Reason, rec.Key = ivr.RecordHangup, ""
		case u < 0.40:
			rec.Reason, rec.Key = ivr.RecordTimeout, ""
			rec.Duration = g.between(5*time.Second, 3*time.Minute)
		default:
			rec.Duration = g.between(2*time.Second, 90*time.Second)
		}
		rec.Duration = rec.Duration.Truncate(time.Second / 8000)
		rec.EndPos = int64(rec.Duration / (time.Second / 8000))
		c.t = c.t.Add(rec.Duration + time.Second)
		out := ivr.OutcomeValid
		switch {
		case rec.Reason == ivr.RecordHangup:
			out = ivr.OutcomeHangup
		case rec.EndPos == 0:
			out = ivr.OutcomeTimeout
		}
		c.step(ivr.StepRecord, "record", rec.Key, out, false, rec.Duration)
		rec.CreatedAt = c.t
		if rec.Reason == ivr.RecordHangup {
			if rec.EndPos > 0 {
				c.rec.Recordings = append(c.rec.Recordings, rec)
			}
			panic(hungUp{})
		}
		if rec.EndPos == 0 {
			c.say("vm-pls-try-again")
			continue
		}
		ans, el := c.ask("vm-review", c.keys("", func() string { return "2" }))
		c.input(ivr.StepInput, "review", ans, ans == "2", false, el)
		c.rec.Recordings = append(c.rec.Recordings, rec)
		c.say("vm-msgsaved")
		return
	}
}

func (c *call) changePIN() {
	g := c.g
	for range 2 {
		_, el := c.ask("vm-newpassword", func() string { return "8642" })
		weak := g.chance(0.15)
		c.input(ivr.StepPIN, "new_pin", "8642", !weak, true, el)
		if weak {
			c.say("vm-pls-try-again")
			continue
		}
		_, el = c.ask("vm-reenterpassword", func() string { return "8642" })
		match := !g.chance(0.1)
		c.input(ivr.StepPIN, "new_pin_again", "8642", match, true, el)
		if !match {
			c.say("vm-mismatch")
			continue
		}
		c.say("vm-passchanged")
		return
	}
}
