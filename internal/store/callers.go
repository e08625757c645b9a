package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// CallerByPhone finds the caller owning an E.164 number; ivr.ErrNotFound when
// no caller has it. It reads the database, never a cached answer.
func (db *DB) CallerByPhone(ctx context.Context, e164 string) (ivr.Caller, error) {
	rows, err := db.q.CallersByPhones(ctx, []string{e164})
	if err == nil && len(rows) == 0 {
		err = ivr.ErrNotFound
	}
	if err != nil {
		return ivr.Caller{}, fmt.Errorf("caller by phone: %w", mapErr(err))
	}
	return callerFromRow(rows[0].Caller, rows[0].Phones), nil
}

// CallerByAccount finds the caller with an account number; ivr.ErrNotFound
// when there is none.
func (db *DB) CallerByAccount(ctx context.Context, account string) (ivr.Caller, error) {
	row, err := db.q.CallerByAccount(ctx, account)
	if err != nil {
		return ivr.Caller{}, fmt.Errorf("caller by account: %w", mapErr(err))
	}
	return callerFromRow(row.Caller, row.Phones), nil
}

// CallerByID returns the caller with id; ivr.ErrNotFound when there is none.
func (db *DB) CallerByID(ctx context.Context, id int64) (ivr.Caller, error) {
	row, err := db.q.CallerByID(ctx, id)
	if err != nil {
		return ivr.Caller{}, fmt.Errorf("caller by id: %w", mapErr(err))
	}
	return callerFromRow(row.Caller, row.Phones), nil
}

// CreateCaller stores a new caller with its phone numbers (E.164) and PIN
// hash, and returns it as stored. ID, PINFailures, LockedUntil and the
// timestamps of c are ignored; an empty Status means active. A taken account
// or phone number is an *ivr.ConflictError naming the constraint
// (callers_account_key, caller_phones_e164_key), and nothing is stored.
func (db *DB) CreateCaller(ctx context.Context, c ivr.Caller) (ivr.Caller, error) {
	if c.Status == "" {
		c.Status = ivr.CallerActive
	}
	keyID, sum, version := pinColumns(c.PIN)
	var created sqlcdb.Caller
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		var err error
		created, err = q.InsertCaller(ctx, sqlcdb.InsertCallerParams{
			Account:    c.Account,
			Name:       c.Name,
			Language:   c.Language,
			Status:     string(c.Status),
			PinKeyID:   keyID,
			PinHash:    sum,
			PinVersion: version,
		})
		if err != nil {
			return err
		}
		for _, e164 := range c.Phones {
			if err := q.InsertPhone(ctx, sqlcdb.InsertPhoneParams{CallerID: created.ID, E164: e164}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ivr.Caller{}, fmt.Errorf("create caller: %w", mapErr(err))
	}
	return callerFromRow(created, append([]string(nil), c.Phones...)), nil
}

// AddPhone gives the caller one more phone number (E.164). A number another
// caller has is an *ivr.ConflictError naming caller_phones_e164_key; an
// unknown caller is ivr.ErrNotFound.
func (db *DB) AddPhone(ctx context.Context, callerID int64, e164 string) error {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		return q.InsertPhone(ctx, sqlcdb.InsertPhoneParams{CallerID: callerID, E164: e164})
	})
	if err != nil {
		return fmt.Errorf("add phone: %w", mapErr(err))
	}
	return nil
}

// pinColumns returns the columns of h: pin_key_id and pin_hash, both NULL for
// the zero hash, and pin_version (the current version when no PIN is set).
func pinColumns(h ivr.PINHash) (keyID *string, sum []byte, version int16) {
	if h.IsZero() {
		return nil, nil, ivr.PINHashV2
	}
	return &h.KeyID, h.Sum, int16(h.Version)
}

func callerFromRow(c sqlcdb.Caller, phones []string) ivr.Caller {
	out := ivr.Caller{
		ID:          c.ID,
		Account:     c.Account,
		Name:        c.Name,
		Language:    c.Language,
		Status:      ivr.CallerStatus(c.Status),
		Phones:      phones,
		PINFailures: int(c.PinFailures),
		LockedUntil: timeOrZero(c.LockedUntil),
		CreatedAt:   c.CreatedAt,
		UpdatedAt:   c.UpdatedAt,
	}
	if c.PinKeyID != nil {
		out.PIN = ivr.PINHash{KeyID: *c.PinKeyID, Version: int(c.PinVersion), Sum: c.PinHash}
	}
	return out
}

// timeOrZero reads a nullable timestamp: NULL is the zero time.
func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// timeOrNil writes a nullable timestamp: the zero time is NULL.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// orNow is t, or the current time when t is zero.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// idOrZero reads a nullable reference: NULL is 0.
func idOrZero(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}
