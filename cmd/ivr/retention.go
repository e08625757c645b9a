package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// minKeep is the fewest months retention keeps: the current one and the one
// before it, whatever --keep says.
const minKeep = 2

// parseKeep reads a retention period in whole months: 13mo, or 2y for 24.
func parseKeep(s string) (int, error) {
	unit, mult := "", 0
	switch {
	case strings.HasSuffix(s, "mo"):
		unit, mult = "mo", 1
	case strings.HasSuffix(s, "y"):
		unit, mult = "y", 12
	default:
		return 0, usageError{fmt.Sprintf("--keep %q: want months like 13mo or years like 2y", s)}
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, unit))
	if err != nil || n < 0 {
		return 0, usageError{fmt.Sprintf("--keep %q: want months like 13mo or years like 2y", s)}
	}
	return n * mult, nil
}

func runRetention(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "retention", "", "Remove whole months of calls older than --keep: first the recording files of their calls "+
		"(with --dir) and the recordings' rows, then the month's partitions of calls, call steps, responses and PIN attempts. "+
		"The current month and the one before it are never removed. Prints what it removes (or, with --dry-run, would remove).")
	db := f.database()
	keepFlag := f.String("keep", "", "how much to keep, counting the current month: months like 13mo or years like 2y (required)")
	dryRun := f.Bool("dry-run", false, "say what would be removed, and change nothing")
	format := f.format()
	files := f.recordingFiles()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if *keepFlag == "" {
		return usageError{"retention: --keep is required, e.g. --keep 13mo"}
	}
	keep, err := parseKeep(*keepFlag)
	if err != nil {
		return err
	}
	if keep < minKeep {
		return usageError{fmt.Sprintf("retention: --keep %s would remove the current or the previous month, which retention never removes; "+
			"keep at least %dmo", *keepFlag, minKeep)}
	}
	if err := files.checkDir(); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	r := retention{st: s, files: files, log: newLogger(e.stderr, "text", 0), dryRun: *dryRun}
	rows, err := r.run(ctx, store.MonthOf(time.Now()).AddDate(0, -(keep-1), 0))
	if werr := write(e, rows, *format); werr != nil && err == nil {
		err = werr
	}
	if err == nil && *dryRun {
		fmt.Fprintln(e.stderr, "dry run: nothing removed")
	}
	return err
}

// retention removes the months of the journal before a limit.
type retention struct {
	st     *store.DB
	files  *recordingFiles
	log    *slog.Logger
	dryRun bool
}

// run removes (or with dryRun only counts) every month with partitions before
// the month of before, oldest first, and never the current or the previous
// month. It returns one row per month: what it removed. A month whose
// recording files could not all be removed is left whole, and the error says
// so after the other months were done.
func (r retention) run(ctx context.Context, before time.Time) (tabular.Rows, error) {
	rows := tabular.Rows{Columns: []string{"month", "calls", "steps", "responses", "pin_attempts", "recordings", "bytes"}}
	limit := store.MonthOf(before)
	if oldest := store.MonthOf(time.Now()).AddDate(0, -(minKeep - 1), 0); limit.After(oldest) {
		limit = oldest
	}
	months, err := r.st.JournalMonths(ctx)
	if err != nil {
		return rows, err
	}
	var failed []error
	for _, m := range months {
		if !m.Before(limit) {
			break
		}
		u, err := r.month(ctx, m)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		rows.Add(m.Format("2006-01"), u.Calls, u.Steps, u.Responses, u.PINAttempts, u.Recordings, u.Bytes)
	}
	return rows, errors.Join(failed...)
}

// month removes one month: its recording files, then its rows. Bytes counts
// the month's partitions on disk and its recording files found under --dir.
func (r retention) month(ctx context.Context, m time.Time) (store.MonthUsage, error) {
	u, err := r.st.MonthUsage(ctx, m)
	if err != nil {
		return u, err
	}
	recs, err := r.st.MonthRecordings(ctx, m)
	if err != nil {
		return u, err
	}
	if r.files.dir == "" && len(recs) > 0 {
		r.log.Warn("recording files not removed: no --dir given", "month", m.Format("2006-01"), "recordings", len(recs))
	}
	removed := 0
	for _, rec := range recs {
		if r.files.dir == "" {
			break
		}
		fi, err := os.Stat(r.files.local(rec))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			u.Bytes += fi.Size()
		}
		if r.dryRun {
			continue
		}
		if _, err := r.files.remove(rec); err != nil {
			return u, fmt.Errorf("month %s left whole: recording %d: %w", m.Format("2006-01"), rec.ID, err)
		}
		removed++
	}
	if r.dryRun {
		return u, nil
	}
	tables, err := r.st.DropMonth(ctx, m)
	if err != nil {
		return u, err
	}
	r.log.Info("retention removed a month of calls", "month", m.Format("2006-01"), "calls", u.Calls, "steps", u.Steps,
		"responses", u.Responses, "pin_attempts", u.PINAttempts, "recordings", u.Recordings, "files", removed,
		"bytes", u.Bytes, "tables", strings.Join(tables, ","))
	return u, nil
}
