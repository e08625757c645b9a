package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// pinDecision is the params of a DecidePIN write.
type pinDecision struct {
	callerID, callID int64
	right            bool
	at               time.Time
	lockAfter        int32
	lockMs           []int64 // the lock schedule in milliseconds
}

// DecidePIN records the PIN attempt e and returns its verdict, decided in one
// statement under the caller's row lock from the failures and lock the row has
// at that moment (see ivr.PINLedger), once committed. The attempt goes through
// the group committer like the journal writes, so it costs a call the same
// round trip and the same writes whether the caller exists or not: an unknown
// caller (e.CallerID 0, or a caller deleted meanwhile) is refused, and its
// attempt audited with no caller.
func (db *DB) DecidePIN(ctx context.Context, e ivr.PINEntry, lock ivr.LockPolicy) (ivr.PINVerdict, error) {
	d := pinDecision{callerID: e.CallerID, callID: e.CallID, right: e.Right, at: orNow(e.At), lockAfter: int32(lock.After)}
	for _, l := range lock.Schedule {
		d.lockMs = append(d.lockMs, l.Milliseconds())
	}
	key := e.CallerID
	if key == 0 {
		// Attempts on unknown accounts share a statement like those of distinct
		// callers: a key of their own per call.
		key = -e.CallID
	}
	o := kindOp(kindPINAttempt, d, key, nil)
	if err := db.gc.do(ctx, o); err != nil {
		return ivr.PINVerdict{}, fmt.Errorf("decide pin: %w", mapErr(err))
	}
	r, _ := o.v.(sqlcdb.DecidePINAttemptsRow)
	return ivr.PINVerdict{Accepted: r.Accepted, Failures: int(r.PinFailures), LockedUntil: timeOrZero(r.LockedUntil)}, nil
}

// RehashPIN replaces the caller's PIN hash old by h, another hash of the same
// PIN, leaving failures and lock alone, once committed. When the stored hash
// is no longer old, or the caller is gone, nothing changes and the result is
// nil.
func (db *DB) RehashPIN(ctx context.Context, callerID int64, old, h ivr.PINHash) error {
	_, err := db.jq.RehashPIN(ctx, sqlcdb.RehashPINParams{ID: callerID, OldHash: old.Sum,
		PinKeyID: &h.KeyID, PinHash: h.Sum, PinVersion: int16(h.Version)})
	if err != nil {
		return fmt.Errorf("rehash pin: %w", mapErr(err))
	}
	return nil
}

// SetPIN replaces the caller's PIN hash and resets failures and lock, once
// committed. The zero PINHash removes the PIN. An unknown caller is
// ivr.ErrNotFound.
func (db *DB) SetPIN(ctx context.Context, callerID int64, h ivr.PINHash) error {
	keyID, sum, version := pinColumns(h)
	_, err := db.jq.SetPIN(ctx, sqlcdb.SetPINParams{ID: callerID, PinKeyID: keyID, PinHash: sum, PinVersion: version})
	if err != nil {
		return fmt.Errorf("set pin: %w", mapErr(err))
	}
	return nil
}

// PINAttempts returns the audited PIN attempts of a caller, oldest first.
func (db *DB) PINAttempts(ctx context.Context, callerID int64) ([]ivr.PINAttempt, error) {
	rows, err := db.q.PINAttempts(ctx, callerID)
	if err != nil {
		return nil, fmt.Errorf("pin attempts: %w", mapErr(err))
	}
	out := make([]ivr.PINAttempt, len(rows))
	for i, a := range rows {
		out[i] = ivr.PINAttempt{CallerID: idOrZero(a.CallerID), CallID: idOrZero(a.CallID), Success: a.Success, At: a.At}
	}
	return out, nil
}
