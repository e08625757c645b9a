package ivr

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrNotFound is returned by every lookup whose subject does not exist
// (an unknown caller ID, account, menu or survey).
var ErrNotFound = errors.New("not found")

// ErrConflict matches every *ConflictError with errors.Is.
var ErrConflict = errors.New("conflict")

// ErrInvalidValue matches every *InvalidValueError with errors.Is.
var ErrInvalidValue = errors.New("invalid value")

// ErrPublished is returned when a change would alter a published, and therefore
// immutable, menu or survey version.
var ErrPublished = errors.New("published version is immutable")

// ConflictError reports a write refused by a uniqueness or exclusion rule. Constraint
// names the database constraint (for example "caller_phones_e164_key"), so the
// message tells an operator which value clashed without echoing the value itself.
type ConflictError struct {
	Constraint string
}

// Error implements error.
func (e *ConflictError) Error() string { return fmt.Sprintf("conflict: %s", e.Constraint) }

// Is reports whether target is ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// InvalidValueError reports a write the database refused for one of its
// values: a check or not-null rule broken, text that is not valid UTF-8, a
// number out of range, a malformed key. Constraint names the rule when there
// is one (for example "call_steps_kind_format") and Code is the SQLSTATE;
// neither echoes the value, which may be a secret.
type InvalidValueError struct {
	Constraint string
	Code       string
}

// Error implements error.
func (e *InvalidValueError) Error() string {
	if e.Constraint != "" {
		return "invalid value: " + e.Constraint
	}
	return "invalid value: SQLSTATE " + e.Code
}

// Is reports whether target is ErrInvalidValue.
func (e *InvalidValueError) Is(target error) bool { return target == ErrInvalidValue }

// CallerStatus says whether a caller may use the IVR.
type CallerStatus string

// Caller statuses.
const (
	CallerActive   CallerStatus = "active"
	CallerDisabled CallerStatus = "disabled"
)

// PINHash is a keyed hash (HMAC-SHA-256) of a caller's PIN. KeyID names the server
// key that produced Sum, so keys can be rotated, and Version what the HMAC
// covers (PINHashV1, PINHashV2). The PIN itself is never stored. The zero
// value means "no PIN set".
type PINHash struct {
	KeyID   string
	Version int
	Sum     []byte
}

// Versions of PINHash: what its HMAC covers.
const (
	// PINHashV1 covers the PIN alone, so equal PINs have equal hashes. Hashes of
	// this version still verify, and are replaced on the caller's next right PIN.
	PINHashV1 = 1
	// PINHashV2 covers the caller's account and the PIN: Keyring.Hash makes it.
	PINHashV2 = 2
)

// IsZero reports whether no PIN is set.
func (h PINHash) IsZero() bool { return len(h.Sum) == 0 }

// LogValue keeps the hash out of logs.
func (h PINHash) LogValue() slog.Value {
	if h.IsZero() {
		return slog.StringValue("unset")
	}
	return slog.StringValue("[redacted key=" + h.KeyID + "]")
}

// String keeps the hash out of formatted output.
func (h PINHash) String() string { return h.LogValue().String() }

// Caller is a person known to the IVR by account number and phone numbers.
type Caller struct {
	ID          int64
	Account     string // digits only, unique
	Name        string
	Language    string // Asterisk language code such as "en" or "es_MX"; "" = channel default
	Status      CallerStatus
	Phones      []string // E.164, unique across callers
	PIN         PINHash
	PINFailures int       // consecutive failed PIN attempts, across calls
	LockedUntil time.Time // zero when not locked
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Locked reports whether the caller is locked out at time now.
func (c Caller) Locked(now time.Time) bool { return now.Before(c.LockedUntil) }

// EndReason says why a call ended.
type EndReason string

// End reasons of a call.
const (
	EndCompleted   EndReason = "completed"
	EndHangup      EndReason = "hangup" // the caller hung up
	EndAuthFailed  EndReason = "auth_failed"
	EndLockedOut   EndReason = "locked_out"
	EndTransferred EndReason = "transferred"
	EndError       EndReason = "error"
	EndShutdown    EndReason = "shutdown" // the server closed the call while stopping
	EndLost        EndReason = "lost"     // left open by an instance that died; closed by the sweep
)

// Call is one AGI session: one row per connection from Asterisk. A channel
// may run several sessions (the lookup route, then the ivr route, or a route
// entered again), which share its UniqueID; SessionID tells them apart.
type Call struct {
	ID int64
	// SessionID is the key of the session, made by the server when the
	// session starts (NewSessionID): writing a call with the same SessionID
	// again stores it once. Empty means a new session.
	SessionID    string
	UniqueID     string // Asterisk's agi_uniqueid: the channel's, shared by its sessions
	LinkedID     string // CHANNEL(linkedid), joins Asterisk's CDRs; "" until known
	Channel      string
	Route        string // the mux pattern, e.g. "lookup" or "ivr"
	CallerIDRaw  string // agi_callerid as received ("" for unknown)
	CallerIDE164 string // normalised form, "" when anonymous or unparsable
	DNID         string // dialled number
	CallerID     int64  // matched caller, 0 when none
	StartedAt    time.Time
}

// CallEnd is what is known about a call when it is closed.
type CallEnd struct {
	Reason        EndReason
	EndedAt       time.Time
	AnsweredAt    time.Time // zero when never answered
	LinkedID      string
	CallerID      int64 // matched caller, 0 when none
	Authenticated bool
	MenuVersionID int64 // the menu version the caller heard, 0 when none
}

// StepKind classifies a journal step.
type StepKind string

// Journal step kinds.
const (
	StepLookup   StepKind = "lookup"
	StepPrompt   StepKind = "prompt"
	StepInput    StepKind = "input"
	StepAccount  StepKind = "account"
	StepPIN      StepKind = "pin"
	StepMenu     StepKind = "menu"
	StepRecord   StepKind = "record"
	StepSurvey   StepKind = "survey"
	StepPlayback StepKind = "playback"
	StepTransfer StepKind = "transfer"
	StepNumber   StepKind = "number"   // the dialled number the call matched (valid) or did not (invalid)
	StepSchedule StepKind = "schedule" // the state of the number's schedule: schedule:KEY:STATE
	StepHangup   StepKind = "hangup"
	StepError    StepKind = "error"
)

// Outcome is the result of one journal step.
type Outcome string

// Step outcomes.
const (
	OutcomeValid   Outcome = "valid"
	OutcomeInvalid Outcome = "invalid"
	OutcomeTimeout Outcome = "timeout"
	OutcomeHangup  Outcome = "hangup"
	OutcomeError   Outcome = "error"
)

// Step is one journal entry: a prompt played or an input attempt. (CallID, Seq)
// identifies it, so writing the same step twice stores it once.
type Step struct {
	CallID  int64
	Seq     int // 1-based order within the call
	Key     string
	Kind    StepKind
	Digits  string // what the caller pressed; ignored (stored as NULL) when Secret
	Secret  bool   // secret input such as a PIN: digits are never stored
	Outcome Outcome
	Attempt int           // 1-based attempt number for this step key
	Elapsed time.Duration // how long the caller took
	At      time.Time
}

// Response is an answer a caller gave: a menu choice, a survey answer or a
// confirmation, tied to the menu or survey version that asked.
type Response struct {
	CallID          int64
	CallerID        int64 // 0 when the caller is unknown
	MenuVersionID   int64 // set for menu choices
	SurveyVersionID int64 // set for survey answers
	QuestionKey     string
	Answer          string
	At              time.Time
}

// RecordingReason says how a RECORD FILE ended.
type RecordingReason string

// Recording end reasons, as Asterisk reports them.
const (
	RecordDTMF      RecordingReason = "dtmf"
	RecordTimeout   RecordingReason = "timeout" // maximum length or silence
	RecordHangup    RecordingReason = "hangup"
	RecordWritefile RecordingReason = "writefile"
	RecordError     RecordingReason = "error"
)

// RecordingPurpose says why a recording was made.
type RecordingPurpose string

// Recording purposes.
const (
	PurposeMessage RecordingPurpose = "message"
	PurposeSurvey  RecordingPurpose = "survey"
	PurposeName    RecordingPurpose = "name"
)

// Recording is the metadata of one RECORD FILE. Path is where Asterisk wrote the
// file, on the Asterisk host.
type Recording struct {
	ID     int64
	CallID int64
	// CallStartedAt is the StartedAt of call CallID (zero when saving: looked
	// up).
	CallStartedAt time.Time
	CallerID      int64 // 0 when unknown
	Path          string
	Format        string
	EndPos        int64 // samples
	Duration      time.Duration
	Reason        RecordingReason
	Key           string // the key that ended it, "" when none
	Purpose       RecordingPurpose
	CreatedAt     time.Time
	DeletedAt     time.Time // zero while the recording exists
}

// ActionKind is what a menu option does.
type ActionKind string

// Menu actions.
const (
	ActionSubmenu      ActionKind = "submenu"
	ActionRecord       ActionKind = "record"
	ActionSurvey       ActionKind = "survey"
	ActionPlayMessages ActionKind = "play_messages"
	ActionChangePIN    ActionKind = "change_pin"
	ActionTransfer     ActionKind = "transfer"
	ActionOperator     ActionKind = "operator"
	ActionRepeat       ActionKind = "repeat"
	ActionHangup       ActionKind = "hangup"
)

// Action is an action with its target: the submenu or survey key, or the transfer
// destination. Target is empty for actions that need none.
type Action struct {
	Kind   ActionKind
	Target string
}

// MenuOption maps the digits a caller presses to an action.
type MenuOption struct {
	Digits string
	Action Action
	Label  string // for people reading reports; never played
	// Hours, when its Schedule is set, make the option run Action only while
	// the schedule is open, and the closed or holiday branch otherwise.
	Hours OptionHours
}

// OptionHours are the opening hours of a menu option: the key of a schedule
// and where the caller goes while it is closed (Closed, required with a
// schedule) or on holiday (Holiday; zero: as Closed). The zero value is an
// option always open.
type OptionHours struct {
	Schedule        string
	Closed, Holiday Branch
}

// Menu is one version of a menu. A published version (Published true) never changes,
// so a call can name exactly what it heard by VersionID.
type Menu struct {
	VersionID     int64
	Key           string
	Version       int
	Published     bool
	Prompt        string // Asterisk sound name
	InvalidPrompt string
	TimeoutPrompt string
	Timeout       time.Duration
	MaxDigits     int
	MaxAttempts   int
	FailureAction Action // after the last attempt: operator or hangup
	Options       []MenuOption
	CreatedAt     time.Time
}

// AnswerRange is an inclusive numeric range of valid answers.
type AnswerRange struct {
	Min, Max int
}

// Question is one survey question. Valid answers are either single keys
// (AllowedDigits, e.g. "12345") or a numeric range (Range, for multi-digit answers).
type Question struct {
	Position      int // 1-based order
	Key           string
	Prompt        string
	AllowedDigits string
	Range         *AnswerRange
	Required      bool
}

// Survey is one version of a survey; like a Menu, a published version is immutable.
type Survey struct {
	VersionID      int64
	Key            string
	Version        int
	Published      bool
	IntroPrompt    string
	ThankYouPrompt string
	Questions      []Question
	CreatedAt      time.Time
}

// PINEntry is one PIN a caller entered, as the flow judged it against the
// caller's hash: what PINLedger.DecidePIN is asked to decide.
type PINEntry struct {
	CallerID int64 // 0 for an account that does not exist: always refused
	CallID   int64 // 0 when not made on a call
	Right    bool  // the PIN matches the caller's hash
	At       time.Time
	// CallStartedAt is the StartedAt of call CallID (zero: looked up).
	CallStartedAt time.Time
}

// LockPolicy is when failed PINs lock an account, and for how long. The zero
// value never locks.
type LockPolicy struct {
	// After is the number of consecutive failures that locks the account.
	After int
	// Schedule holds the lock durations: Schedule[i] for After+i consecutive
	// failures, the last entry for any more. Empty: never lock.
	Schedule []time.Duration
}

// PINVerdict is the decision on a PINEntry, taken from the caller's failures
// and lock as they were at that moment, and what it left behind.
type PINVerdict struct {
	Accepted    bool      // the caller is authenticated
	Failures    int       // consecutive failures after the attempt
	LockedUntil time.Time // the lock after the attempt; zero when none
}

// Locked reports whether the account is locked at time now after the attempt.
func (v PINVerdict) Locked(now time.Time) bool { return now.Before(v.LockedUntil) }

// PINAttempt is one audited PIN verification.
type PINAttempt struct {
	CallerID int64 // 0 for an account that does not exist
	CallID   int64 // 0 when not made on a call (e.g. an admin test)
	Success  bool
	At       time.Time
}
