package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// CallerMessages lists the caller's message recordings that are not deleted,
// newest first.
func (db *DB) CallerMessages(ctx context.Context, callerID int64) ([]ivr.Recording, error) {
	rows, err := db.q.CallerMessages(ctx, callerID)
	if err != nil {
		return nil, fmt.Errorf("caller messages: %w", mapErr(err))
	}
	return recordingsFromRows(rows), nil
}

// DeleteRecording marks a recording deleted at time at (zero: now), once
// committed; ivr.ErrNotFound if it does not exist or is already deleted.
func (db *DB) DeleteRecording(ctx context.Context, id int64, at time.Time) error {
	_, err := db.q.DeleteRecording(ctx, sqlcdb.DeleteRecordingParams{ID: id, DeletedAt: timeOrNil(orNow(at))})
	if err != nil {
		return fmt.Errorf("delete recording: %w", mapErr(err))
	}
	return nil
}
