package ivr

import (
	"context"
	"time"
)

// CallerDirectory finds callers. Both methods return ErrNotFound for an unknown
// phone number or account.
type CallerDirectory interface {
	// CallerByPhone finds the caller owning an E.164 number.
	CallerByPhone(ctx context.Context, e164 string) (Caller, error)
	// CallerByAccount finds the caller with an account number.
	CallerByAccount(ctx context.Context, account string) (Caller, error)
}

// CallerLookup finds the caller owning an E.164 number for the lookup route,
// which reads a caller's ID, Account, Name, Language and Status and nothing
// else. Unlike CallerDirectory it may answer from a cache that learns of
// changes asynchronously, so an answer may lag a change by as long as that
// takes, and it need not carry the PIN state. It returns ErrNotFound for an
// unknown number.
type CallerLookup interface {
	LookupCaller(ctx context.Context, e164 string) (Caller, error)
}

// directoryLookup is the CallerLookup of a CallerDirectory: every lookup asks
// the directory.
type directoryLookup struct{ d CallerDirectory }

func (l directoryLookup) LookupCaller(ctx context.Context, e164 string) (Caller, error) {
	return l.d.CallerByPhone(ctx, e164)
}

// Journal keeps the durable record of calls. Every method returns only once the
// write is committed, so a flow never moves on before its step is durable; the
// implementation may share one commit among many concurrent calls.
type Journal interface {
	// StartCall opens the call row of a session and returns its ID. A second
	// StartCall with the same SessionID stores nothing and returns the same ID;
	// sessions with the same UniqueID (one channel) get rows of their own.
	StartCall(ctx context.Context, c Call) (int64, error)
	// Write stores the writes of one step of a call together (see Entry).
	// Writing the same step (CallID, Seq) again stores it once, and closing
	// an already closed call changes nothing. An unknown call is ErrNotFound.
	Write(ctx context.Context, e Entry) error
	// RecordCall writes a whole short call (open, steps, closed) in one go; the
	// caller-lookup route uses it. Like StartCall, writing a SessionID again
	// stores it once and returns the same ID.
	RecordCall(ctx context.Context, c Call, end CallEnd, steps []Step) (int64, error)
	// SaveRecording stores a recording's metadata and returns its ID.
	SaveRecording(ctx context.Context, r Recording) (int64, error)
}

// Entry is what one step of a call adds to the journal, stored in one
// commit: the journal steps (prompts played and the input), the caller's
// answer when the step took one, and the closing of the call row when End is
// set. Its steps and its response belong to call CallID whatever their own
// CallID says. CallStartedAt is that call's StartedAt: the store keeps a
// call's rows by the month it started, and a zero CallStartedAt makes it look
// the start up (slower).
type Entry struct {
	CallID        int64
	CallStartedAt time.Time
	Steps         []Step
	Response      *Response
	End           *CallEnd
}

// empty reports whether e writes nothing.
func (e Entry) empty() bool { return len(e.Steps) == 0 && e.Response == nil && e.End == nil }

// PINLedger decides PIN attempts, audits them and keeps the per-account
// failure count behind lockouts.
type PINLedger interface {
	// DecidePIN records the attempt e and returns its verdict, decided from the
	// caller's failures and lock as they are at that moment and atomically with
	// recording it: the attempt is accepted only when e.Right, the caller is
	// active and not locked at e.At. An accepted attempt resets the failures;
	// any other counts one more failure and, from lock.After failures on,
	// locks the caller as lock.Schedule says. Attempts for one caller made at
	// the same time are decided one after the other, so none is accepted once
	// a lock has engaged and no more than lock.After failures pass before it
	// does. An unknown caller (e.CallerID 0, or a caller deleted meanwhile)
	// gets a refusal after the same work as a real one: its attempt is
	// audited with no caller.
	DecidePIN(ctx context.Context, e PINEntry, lock LockPolicy) (PINVerdict, error)
	// RehashPIN replaces the caller's PIN hash old by h, a hash of the same PIN
	// made with the current key and version, leaving failures and lock alone.
	// When the hash is no longer old (the PIN was changed meanwhile) nothing
	// changes and the result is nil.
	RehashPIN(ctx context.Context, callerID int64, old, h PINHash) error
	// SetPIN replaces the caller's PIN hash and resets failures and lock.
	SetPIN(ctx context.Context, callerID int64, h PINHash) error
}

// Catalog serves the live (published) menus and surveys, and the dialled
// numbers. PublishedMenu and PublishedSurvey return ErrNotFound when no
// published version of the key exists.
type Catalog interface {
	PublishedMenu(ctx context.Context, key string) (Menu, error)
	PublishedSurvey(ctx context.Context, key string) (Survey, error)
	// Number returns the entry of a dialled number (as DialledNumber writes
	// it) with its schedule; ErrNotFound for a number not in the table.
	Number(ctx context.Context, number string) (Number, error)
	// Schedule returns the schedule key, which menu options name;
	// ErrNotFound for an unknown key.
	Schedule(ctx context.Context, key string) (Schedule, error)
}

// MessageBox gives callers access to their recorded messages.
type MessageBox interface {
	// CallerMessages lists the caller's message recordings that are not deleted,
	// newest first.
	CallerMessages(ctx context.Context, callerID int64) ([]Recording, error)
	// DeleteRecording marks a recording deleted at time at; ErrNotFound if it does
	// not exist or is already deleted.
	DeleteRecording(ctx context.Context, id int64, at time.Time) error
}
