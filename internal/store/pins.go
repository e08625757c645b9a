package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// pinDecision is a DecidePIN write.
type pinDecision struct {
	callerID, callID int64
	callStartedAt    time.Time
	right            bool
	at               time.Time
	lockAfter        int32
	lockMs           []int64 // the lock schedule in milliseconds
}

// DecidePIN records the PIN attempt e and returns its verdict, decided in one
// statement under the caller's row lock from the failures and lock the row has
// at that moment (see ivr.PINLedger), once committed. Attempts of concurrent
// calls share one statement (see batcher), one caller's attempts never, so it
// costs a call the same round trip and the same writes whether the caller
// exists or not: an unknown caller (e.CallerID 0, or a caller deleted
// meanwhile) is refused, and its attempt audited with no caller. An attempt
// on a call (e.CallID) with a zero e.CallStartedAt costs a look-up of the
// call's start first, and an unknown call is ivr.ErrNotFound.
func (db *DB) DecidePIN(ctx context.Context, e ivr.PINEntry, lock ivr.LockPolicy) (ivr.PINVerdict, error) {
	if e.CallID != 0 {
		var err error
		if e.CallStartedAt, err = db.callStart(ctx, e.CallID, e.CallStartedAt); err != nil {
			return ivr.PINVerdict{}, fmt.Errorf("decide pin: %w", err)
		}
	}
	d := pinDecision{callerID: e.CallerID, callID: e.CallID, callStartedAt: e.CallStartedAt, right: e.Right, at: orNow(e.At),
		lockAfter: int32(lock.After)}
	for _, l := range lock.Schedule {
		d.lockMs = append(d.lockMs, l.Milliseconds())
	}
	v, err := db.pins.do(ctx, d)
	if err != nil {
		return ivr.PINVerdict{}, fmt.Errorf("decide pin: %w", mapErr(err))
	}
	return v, nil
}

// decidePINs is the statement of the batcher of DecidePIN: one
// DecidePINAttempts for each lock policy among ds (one, when a single App
// shares the store; several run in one transaction). A caller that does not
// exist gets the zero verdict.
func decidePINs(ctx context.Context, conn *pgxpool.Conn, ds []pinDecision) ([]ivr.PINVerdict, error) {
	var groups []sqlcdb.DecidePINAttemptsParams
	for _, d := range ds {
		i := slices.IndexFunc(groups, func(p sqlcdb.DecidePINAttemptsParams) bool {
			return p.LockAfter == d.lockAfter && slices.Equal(p.LockMs, d.lockMs)
		})
		if i < 0 {
			i = len(groups)
			groups = append(groups, sqlcdb.DecidePINAttemptsParams{LockAfter: d.lockAfter, LockMs: d.lockMs})
		}
		g := &groups[i]
		g.CallerIds = append(g.CallerIds, d.callerID)
		g.CallIds = append(g.CallIds, d.callID)
		g.CallStartedAts = append(g.CallStartedAts, d.callStartedAt)
		g.RightPins = append(g.RightPins, d.right)
		g.Ats = append(g.Ats, d.at)
	}
	verdicts := make(map[int64]ivr.PINVerdict, len(ds))
	decide := func(q *sqlcdb.Queries) error {
		for _, g := range groups {
			rows, err := q.DecidePINAttempts(ctx, g)
			if err != nil {
				return err
			}
			for _, r := range rows {
				verdicts[r.ID] = ivr.PINVerdict{Accepted: r.Accepted, Failures: int(r.PinFailures), LockedUntil: timeOrZero(r.LockedUntil)}
			}
		}
		return nil
	}
	var err error
	if len(groups) == 1 {
		err = decide(sqlcdb.New(conn))
	} else {
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return decide(sqlcdb.New(tx)) })
	}
	if err != nil {
		return nil, err
	}
	out := make([]ivr.PINVerdict, len(ds))
	for i, d := range ds {
		if d.callerID != 0 {
			out[i] = verdicts[d.callerID] // the batcher keeps one attempt of a caller per statement
		}
	}
	return out, nil
}

// RehashPIN replaces the caller's PIN hash old by h, another hash of the same
// PIN, leaving failures and lock alone, once committed. When the stored hash
// is no longer old, or the caller is gone, nothing changes and the result is
// nil.
func (db *DB) RehashPIN(ctx context.Context, callerID int64, old, h ivr.PINHash) error {
	_, err := db.q.RehashPIN(ctx, sqlcdb.RehashPINParams{ID: callerID, OldHash: old.Sum,
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
	_, err := db.q.SetPIN(ctx, sqlcdb.SetPINParams{ID: callerID, PinKeyID: keyID, PinHash: sum, PinVersion: version})
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
