package store

import (
	"context"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// RecordingFilter selects recordings for ListRecordings. Zero fields leave
// their filter out; Limit 0 means no limit.
type RecordingFilter struct {
	Account        string    // the caller's account
	Before         time.Time // made before this time
	IncludeDeleted bool
	Limit, Offset  int
}

// AccountRecording is a recording with the account of its caller ("" when the
// caller is unknown or deleted).
type AccountRecording struct {
	ivr.Recording
	Account string
}

// ListRecordings returns the recordings f selects, newest first.
func (db *DB) ListRecordings(ctx context.Context, f RecordingFilter) ([]AccountRecording, error) {
	lim := int32(f.Limit)
	if f.Limit <= 0 {
		lim = 1<<31 - 1
	}
	rows, err := db.q.AdminListRecordings(ctx, sqlcdb.AdminListRecordingsParams{
		Account:        opt(f.Account),
		Before:         opt(f.Before),
		IncludeDeleted: f.IncludeDeleted,
		Lim:            lim,
		Off:            int32(f.Offset),
	})
	if err != nil {
		return nil, mapErr(err)
	}
	rs := make([]AccountRecording, len(rows))
	for i, r := range rows {
		rs[i] = accountRecording(r.Recording, r.Account)
	}
	return rs, nil
}

// AdminRecording returns the recording with id, deleted or not, or
// ivr.ErrNotFound.
func (db *DB) AdminRecording(ctx context.Context, id int64) (AccountRecording, error) {
	r, err := db.q.AdminRecording(ctx, id)
	if err != nil {
		return AccountRecording{}, mapErr(err)
	}
	return accountRecording(r.Recording, r.Account), nil
}

func accountRecording(r sqlcdb.Recording, account string) AccountRecording {
	return AccountRecording{Recording: recordingsFromRows([]sqlcdb.Recording{r})[0], Account: account}
}

// CountPurge counts the recordings PurgeRecordings would go through.
func (db *DB) CountPurge(ctx context.Context, before time.Time, includeDeleted bool) (int64, error) {
	n, err := db.q.AdminCountPurge(ctx, sqlcdb.AdminCountPurgeParams{
		Before: before, IncludeDeleted: includeDeleted,
	})
	return n, mapErr(err)
}

// PurgeRecordings marks up to limit recordings made before before as deleted
// at time at, taking them in id order after afterID, and returns them. With
// includeDeleted it also returns recordings deleted earlier (their deletion
// time is kept), so that their files can be removed too. Call it again with
// the last id returned until it returns fewer than limit.
func (db *DB) PurgeRecordings(ctx context.Context, before, at time.Time, includeDeleted bool, afterID int64, limit int) ([]ivr.Recording, error) {
	rows, err := db.q.AdminPurgeRecordings(ctx, sqlcdb.AdminPurgeRecordingsParams{
		Before:         before,
		At:             at,
		IncludeDeleted: includeDeleted,
		AfterID:        afterID,
		Lim:            int32(limit),
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return recordingsFromRows(rows), nil
}
