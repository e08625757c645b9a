package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// RecordPINFailure audits a failed attempt (callID 0: not on a call),
// increments the caller's consecutive failures and returns the new count, once
// committed. An unknown caller is ivr.ErrNotFound.
func (db *DB) RecordPINFailure(ctx context.Context, callerID, callID int64, at time.Time) (int, error) {
	p := sqlcdb.RecordPINFailureParams{CallerID: callerID, CallID: callID, At: orNow(at)}
	o := kindOp(kindPINAttempt, p, callerID, func(q *sqlcdb.Queries) error {
		_, err := q.RecordPINFailure(ctx, p)
		return err
	})
	if err := db.gc.do(ctx, o); err != nil {
		return 0, fmt.Errorf("record pin failure: %w", mapErr(err))
	}
	return int(o.n), nil
}

// RecordPINSuccess audits a successful attempt and resets the failure count,
// once committed. An unknown caller is ivr.ErrNotFound.
func (db *DB) RecordPINSuccess(ctx context.Context, callerID, callID int64, at time.Time) error {
	p := sqlcdb.RecordPINSuccessParams{CallerID: callerID, CallID: callID, At: orNow(at)}
	o := kindOp(kindPINAttempt, p, callerID, func(q *sqlcdb.Queries) error {
		_, err := q.RecordPINSuccess(ctx, p)
		return err
	})
	if err := db.gc.do(ctx, o); err != nil {
		return fmt.Errorf("record pin success: %w", mapErr(err))
	}
	return nil
}

// LockCaller sets the caller's locked-until time (the zero time unlocks),
// once committed. An unknown caller is ivr.ErrNotFound.
func (db *DB) LockCaller(ctx context.Context, callerID int64, until time.Time) error {
	_, err := db.jq.LockCaller(ctx, sqlcdb.LockCallerParams{ID: callerID, LockedUntil: timeOrNil(until)})
	if err != nil {
		return fmt.Errorf("lock caller: %w", mapErr(err))
	}
	return nil
}

// SetPIN replaces the caller's PIN hash and resets failures and lock, once
// committed. The zero PINHash removes the PIN. An unknown caller is
// ivr.ErrNotFound.
func (db *DB) SetPIN(ctx context.Context, callerID int64, h ivr.PINHash) error {
	var keyID *string
	if !h.IsZero() {
		keyID = &h.KeyID
	}
	_, err := db.jq.SetPIN(ctx, sqlcdb.SetPINParams{ID: callerID, PinKeyID: keyID, PinHash: pinSum(h)})
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
		out[i] = ivr.PINAttempt{CallerID: a.CallerID, CallID: idOrZero(a.CallID), Success: a.Success, At: a.At}
	}
	return out, nil
}
