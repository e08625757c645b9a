package ivr

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"
)

// Config holds the settings of the call flows. The zero value of every field
// means its default, so Config{} is a working configuration for a US number plan
// with the stock English Asterisk sounds.
type Config struct {
	// DefaultRegion is the ISO 3166 region ("US", "NL") used to read caller IDs
	// without a country code. Default "US".
	DefaultRegion string
	// LookupTimeout bounds how long the lookup route keeps the dialplan
	// waiting; a caller not found by then gives IVR_LOOKUP_ERROR=timeout, and
	// the call's row is written in the background. Default 500ms.
	LookupTimeout time.Duration
	// RecordingDir is the directory on the Asterisk host where RECORD FILE
	// writes recordings (Asterisk writes it, as the Asterisk user). It must be
	// absolute. Default "/var/spool/asterisk/ivr".
	RecordingDir string
	// RecordFormat is the Asterisk file format of recordings. Default "wav".
	RecordFormat string
	// RecordMaxDuration is the longest recording. Default 3 minutes.
	RecordMaxDuration time.Duration
	// RecordSilence ends a recording after this much silence; negative turns
	// silence detection off. Default 5s.
	RecordSilence time.Duration
	// StoreTimeout bounds each database operation of the ivr route; a store that
	// does not answer in time counts as down for that call. Default 5s.
	StoreTimeout time.Duration
	// InputTimeout is the GET DATA timeout for account numbers and PINs (first
	// digit and between digits). Default 6s.
	InputTimeout time.Duration
	// MaxAccountTries is how often an unknown caller may enter an account
	// number in one call. Default 3.
	MaxAccountTries int
	// MaxPINTries is how many PINs a caller may try in one call. Default 3.
	MaxPINTries int
	// LockAfter is the number of consecutive failed PINs, counted across calls,
	// that locks the account. Default 5.
	LockAfter int
	// LockBase is the first lockout; each further failure doubles it, up to
	// LockMax. Default 5 minutes.
	LockBase time.Duration
	// LockMax caps the lockout. Default 24 hours.
	LockMax time.Duration
	// RefusalTime is the shortest time from a PIN to the prompt that refuses
	// it, so a refusal takes the same time whatever the database did to decide
	// it (a wrong PIN, an unknown, locked or disabled account) as long as that
	// took less. Negative: refuse as soon as decided. Default 250ms.
	RefusalTime time.Duration
	// MenuKey is the menu the ivr route starts with when the request names
	// none. Default "main".
	MenuKey string
	// Prompts are the sounds the flows play outside menus and surveys.
	// Empty fields take the defaults of DefaultPrompts.
	Prompts Prompts
}

// Prompts names the Asterisk sounds the flows play outside menus and surveys
// (menus and surveys carry their own prompts in the database). A value is a
// sound name without extension, as STREAM FILE and GET DATA take it, one per
// command; a prompt of several sounds is a list.
type Prompts struct {
	Login           string   // ask for the account number
	Password        string   // ask for the PIN
	Incorrect       string   // wrong account or PIN, and locked accounts (no oracle)
	NewPassword     string   // ask for a new PIN
	ReenterPassword string   // ask for the new PIN again
	Mismatch        string   // the two new PINs differ
	WeakPIN         string   // the new PIN breaks the policy
	PassChanged     string   // the new PIN is saved
	RecordIntro     string   // before a recording
	Review          string   // listen (1), accept (2), re-record (3)
	Saved           string   // a recording is saved
	NoMessage       string   // an empty recording: offered again
	YouHave         string   // "you have"
	Messages        string   // "messages"
	MessageMenu     []string // replay (1), next (2), delete (3), back (#): played in order
	Deleted         string   // a message is deleted
	NoMore          string   // no more messages
	Invalid         string   // an invalid key
	TryAgain        string   // no key pressed in time
	SomethingWrong  string   // the apology when the service fails
	Transfer        string   // before handing over to the dialplan for a transfer
	Goodbye         string   // the last words
}

// DefaultPrompts returns the stock English Asterisk sounds
// (asterisk-core-sounds-en) used for every empty field of Config.Prompts.
func DefaultPrompts() Prompts {
	return Prompts{
		Login:           "vm-login",
		Password:        "vm-password",
		Incorrect:       "vm-incorrect",
		NewPassword:     "vm-newpassword",
		ReenterPassword: "vm-reenterpassword",
		Mismatch:        "vm-mismatch",
		WeakPIN:         "vm-pls-try-again",
		PassChanged:     "vm-passchanged",
		RecordIntro:     "vm-rec-name",
		Review:          "vm-review",
		Saved:           "vm-msgsaved",
		NoMessage:       "vm-pls-try-again",
		YouHave:         "vm-youhave",
		Messages:        "vm-messages",
		MessageMenu:     []string{"vm-repeat", "vm-next", "vm-delete"},
		Deleted:         "vm-deleted",
		NoMore:          "vm-nomore",
		Invalid:         "pm-invalid-option",
		TryAgain:        "please-try-again",
		SomethingWrong:  "tt-somethingwrong",
		Transfer:        "pls-hold-while-try",
		Goodbye:         "vm-goodbye",
	}
}

// withDefaults fills every empty field of p from d.
func (p Prompts) withDefaults(d Prompts) Prompts {
	for _, f := range []struct {
		v *string
		d string
	}{
		{&p.Login, d.Login}, {&p.Password, d.Password}, {&p.Incorrect, d.Incorrect},
		{&p.NewPassword, d.NewPassword}, {&p.ReenterPassword, d.ReenterPassword},
		{&p.Mismatch, d.Mismatch}, {&p.WeakPIN, d.WeakPIN}, {&p.PassChanged, d.PassChanged},
		{&p.RecordIntro, d.RecordIntro}, {&p.Review, d.Review}, {&p.Saved, d.Saved},
		{&p.NoMessage, d.NoMessage}, {&p.YouHave, d.YouHave}, {&p.Messages, d.Messages},
		{&p.Deleted, d.Deleted}, {&p.NoMore, d.NoMore},
		{&p.Invalid, d.Invalid}, {&p.TryAgain, d.TryAgain}, {&p.SomethingWrong, d.SomethingWrong},
		{&p.Transfer, d.Transfer}, {&p.Goodbye, d.Goodbye},
	} {
		if *f.v == "" {
			*f.v = f.d
		}
	}
	if len(p.MessageMenu) == 0 {
		p.MessageMenu = d.MessageMenu
	}
	return p
}

// withDefaults returns c with every zero field set to its default, or an error
// naming the first invalid setting.
func (c Config) withDefaults() (Config, error) {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defStr := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	defStr(&c.DefaultRegion, "US")
	def(&c.LookupTimeout, 500*time.Millisecond)
	defStr(&c.RecordingDir, "/var/spool/asterisk/ivr")
	defStr(&c.RecordFormat, "wav")
	def(&c.RecordMaxDuration, 3*time.Minute)
	def(&c.RecordSilence, 5*time.Second)
	def(&c.StoreTimeout, 5*time.Second)
	def(&c.InputTimeout, 6*time.Second)
	defInt(&c.MaxAccountTries, 3)
	defInt(&c.MaxPINTries, 3)
	defInt(&c.LockAfter, 5)
	def(&c.LockBase, 5*time.Minute)
	def(&c.LockMax, 24*time.Hour)
	def(&c.RefusalTime, 250*time.Millisecond)
	defStr(&c.MenuKey, "main")
	c.Prompts = c.Prompts.withDefaults(DefaultPrompts())
	switch {
	case !path.IsAbs(c.RecordingDir):
		return c, fmt.Errorf("recording directory %q is not absolute", c.RecordingDir)
	case c.LookupTimeout < 0, c.StoreTimeout < 0, c.RecordMaxDuration < 0, c.InputTimeout < 0, c.LockBase < 0, c.LockMax < c.LockBase:
		return c, errors.New("negative duration, or lock max below lock base")
	case c.MaxAccountTries < 0, c.MaxPINTries < 0, c.LockAfter < 0:
		return c, errors.New("negative try count")
	}
	for _, p := range c.Prompts.MessageMenu {
		if p == "" || strings.Contains(p, "&") {
			return c, fmt.Errorf("message menu prompt %q: want one sound per entry of the list", p)
		}
	}
	return c, nil
}

// Services are the collaborators of the call flows. Every interface field but
// Lookup is required; the store's *store.DB implements them, and its
// *store.CallerCache implements Lookup.
type Services struct {
	Callers  CallerDirectory
	Journal  Journal
	PINs     PINLedger
	Catalog  Catalog
	Messages MessageBox
	// Lookup answers the lookup route. Nil means Callers.CallerByPhone. The
	// ivr route always asks Callers, which reads current rows (it needs the
	// PIN state).
	Lookup CallerLookup
	// Keyring verifies and makes PIN hashes. Required.
	Keyring *Keyring
	// Logger receives one line per call that went wrong. Nil discards.
	Logger *slog.Logger
	// Now is the clock of the journal: the times written (a call's start,
	// answer and end, each step, response, recording and PIN attempt), the
	// time a caller took at an input, and the time PIN lockouts are decided
	// and counted at. Timeouts, the refusal time and retries run on real
	// time whatever it says. Nil means time.Now; a generator of test traffic
	// sets it to play calls at times of its choosing.
	Now func() time.Time
}

// lockFor returns how long an account with this many consecutive failures is
// locked: zero below LockAfter, then LockBase doubling with each further failure,
// capped at LockMax.
func (c Config) lockFor(failures int) time.Duration {
	if c.LockAfter <= 0 || failures < c.LockAfter {
		return 0
	}
	d := c.LockBase
	for i := c.LockAfter; i < failures && d < c.LockMax; i++ {
		d *= 2
	}
	return min(d, c.LockMax)
}

// maxLockSteps bounds the lock schedule: LockBase doubles at most this often
// before LockMax caps it.
const maxLockSteps = 64

// lockPolicy returns the lock policy of c for the store: LockAfter, and
// lockFor of each failure count from LockAfter on until the lock stops
// growing.
func (c Config) lockPolicy() LockPolicy {
	if c.LockAfter <= 0 {
		return LockPolicy{}
	}
	p := LockPolicy{After: c.LockAfter}
	for n := c.LockAfter; len(p.Schedule) < maxLockSteps; n++ {
		d := c.lockFor(n)
		p.Schedule = append(p.Schedule, d)
		if d >= c.LockMax || d <= 0 {
			break
		}
	}
	return p
}
