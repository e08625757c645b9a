package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// purgeBatch is how many recordings one purge statement marks deleted.
const purgeBatch = 1000

func runRecordings(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "recordings", []subcommand{
		{"list", "", "list recordings, newest first", recordingsList},
		{"show", "ID", "show one recording", recordingsShow},
		{"delete", "ID", "delete a recording (and its file with --dir)", recordingsDelete},
		{"purge", "", "delete every recording older than --older-than (and the files with --dir)", recordingsPurge},
		{"verify", "", "report recordings whose file is missing or empty under --dir", recordingsVerify},
	}, args)
}

// recordingFiles maps a recording's path on the Asterisk host to a file under
// a local mount of the recordings directory.
type recordingFiles struct {
	dir       string // local mount; "" when not mounted
	remoteDir string // the recordings directory on the Asterisk host
}

func (f *cmdFlags) recordingFiles() *recordingFiles {
	r := &recordingFiles{}
	f.StringVar(&r.dir, "dir", "", "local mount of the recordings directory, to check or remove the files")
	f.StringVar(&r.remoteDir, "recording-dir", "/var/spool/asterisk/ivr",
		"the recordings directory on the Asterisk host, as the server is configured")
	return r
}

// local returns the local file of rec: its path relative to the recordings
// directory, under dir, with the format as extension.
func (r *recordingFiles) local(rec ivr.Recording) string {
	rel, err := filepath.Rel(r.remoteDir, rec.Path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		rel = filepath.Base(rec.Path)
	}
	return filepath.Join(r.dir, rel) + "." + rec.Format
}

// check returns "" when the file of rec is there and not empty, or what is
// wrong with it.
func (r *recordingFiles) check(rec ivr.Recording) string {
	fi, err := os.Stat(r.local(rec))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return "not a regular file"
	case fi.Size() == 0:
		return "empty"
	}
	return ""
}

// remove deletes the file of rec and reports whether there was one; a file
// already gone is not an error.
func (r *recordingFiles) remove(rec ivr.Recording) (bool, error) {
	err := os.Remove(r.local(rec))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// exists reports whether the file of rec is there.
func (r *recordingFiles) exists(rec ivr.Recording) bool {
	_, err := os.Lstat(r.local(rec))
	return err == nil
}

// checkDir refuses a --dir that is not a directory: a mount that is missing
// would make every recording look missing.
func (r *recordingFiles) checkDir() error {
	if r.dir == "" {
		return nil
	}
	if fi, err := os.Stat(r.dir); err != nil || !fi.IsDir() {
		return usageError{fmt.Sprintf("--dir %s is not a directory (is the recordings directory mounted?)", r.dir)}
	}
	return nil
}

// plural returns "n word" or "n words".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func recordingRows(rs []store.AccountRecording, files *recordingFiles) tabular.Rows {
	rows := tabular.Rows{Columns: []string{"id", "created_at", "account", "purpose", "duration", "reason", "call_id", "path", "deleted_at"}}
	if files != nil && files.dir != "" {
		rows.Columns = append(rows.Columns, "file")
	}
	for _, r := range rs {
		deleted := ""
		if !r.DeletedAt.IsZero() {
			deleted = r.DeletedAt.Format(time.RFC3339)
		}
		cells := []any{r.ID, r.CreatedAt.Format(time.RFC3339), r.Account, r.Purpose, r.Duration.Round(100 * time.Millisecond),
			r.Reason, r.CallID, r.Path + "." + r.Format, deleted}
		if files != nil && files.dir != "" {
			state := files.check(r.Recording)
			if state == "" {
				state = "ok"
			}
			cells = append(cells, state)
		}
		rows.Add(cells...)
	}
	return rows
}

func recordingsList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "recordings list", "", "List recordings, newest first.")
	db := f.database()
	format := f.format()
	var filter store.RecordingFilter
	f.StringVar(&filter.Account, "account", "", "only the recordings of this caller")
	olderThan := f.String("older-than", "", "only recordings older than this, e.g. 90d or 36h")
	f.BoolVar(&filter.IncludeDeleted, "deleted", false, "include deleted recordings")
	f.IntVar(&filter.Limit, "limit", 100, "at most this many recordings")
	f.IntVar(&filter.Offset, "offset", 0, "skip this many recordings first")
	files := f.recordingFiles()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if *olderThan != "" {
		age, err := parseAge(*olderThan)
		if err != nil {
			return err
		}
		filter.Before = time.Now().Add(-age)
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rs, err := s.ListRecordings(ctx, filter)
	if err != nil {
		return fmt.Errorf("list recordings: %w", err)
	}
	return write(e, recordingRows(rs, files), *format)
}

// parseAge reads an age such as 90d, 12h or 1h30m.
func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Sprintf("age %q must be a positive number of days (90d) or a duration (36h)", s)}
	}
	return d, nil
}

// recordingID reads the ID argument.
func recordingID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("recording id %q must be a positive number", s)}
	}
	return id, nil
}

// openRecording parses the one ID argument, opens the store and loads that
// recording, deleted or not. The caller closes the store.
func openRecording(ctx context.Context, f *cmdFlags, db *dbFlags, args []string) (*store.DB, store.AccountRecording, error) {
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return nil, store.AccountRecording{}, err
	}
	id, err := recordingID(pos[0])
	if err != nil {
		return nil, store.AccountRecording{}, err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return nil, store.AccountRecording{}, err
	}
	r, err := s.AdminRecording(ctx, id)
	if errors.Is(err, ivr.ErrNotFound) {
		err = fmt.Errorf("no recording %d", id)
	}
	if err != nil {
		s.Close()
		return nil, store.AccountRecording{}, err
	}
	return s, r, nil
}

func recordingsShow(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "recordings show", "ID", "Show one recording, deleted or not.")
	db := f.database()
	format := f.format()
	files := f.recordingFiles()
	s, r, err := openRecording(ctx, f, db, args)
	if err != nil {
		return err
	}
	defer s.Close()
	return write(e, recordingRows([]store.AccountRecording{r}, files), *format)
}

func recordingsDelete(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "recordings delete", "ID", "Mark a recording deleted (callers no longer hear it; reports still count it). With --dir the file is removed too.")
	db := f.database()
	files := f.recordingFiles()
	s, r, err := openRecording(ctx, f, db, args)
	if err != nil {
		return err
	}
	if err := files.checkDir(); err != nil {
		s.Close()
		return err
	}
	defer s.Close()
	if r.DeletedAt.IsZero() {
		if err := s.DeleteRecording(ctx, r.ID, time.Now()); err != nil && !errors.Is(err, ivr.ErrNotFound) {
			return fmt.Errorf("delete recording %d: %w", r.ID, err)
		}
	}
	if files.dir != "" {
		if _, err := files.remove(r.Recording); err != nil {
			return fmt.Errorf("recording %d is deleted but its file is not: %w", r.ID, err)
		}
	}
	fmt.Fprintf(e.stdout, "deleted recording %d\n", r.ID)
	return nil
}

func recordingsPurge(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "recordings purge", "", "Mark every recording older than --older-than deleted. With --dir their files are removed "+
		"too, including the files of recordings deleted earlier.")
	db := f.database()
	olderThan := f.String("older-than", "", "age of the recordings to purge, e.g. 90d (required)")
	dryRun := f.Bool("dry-run", false, "say what would be purged and removed, and change nothing")
	files := f.recordingFiles()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if *olderThan == "" {
		return usageError{"recordings purge: --older-than is required, e.g. --older-than 90d"}
	}
	age, err := parseAge(*olderThan)
	if err != nil {
		return err
	}
	if err := files.checkDir(); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now().Truncate(time.Microsecond) // as PostgreSQL stores it
	before, withFiles := now.Add(-age), files.dir != ""
	if *dryRun {
		return purgeDryRun(ctx, e, s, files, before)
	}
	total, err := s.CountPurge(ctx, before, withFiles)
	if err != nil {
		return err
	}
	bar := tabular.NewProgress(e.stderr, "purge", total)
	var purged, removed int
	var failed []string
	for after := int64(0); ; {
		rs, err := s.PurgeRecordings(ctx, before, now, withFiles, after, purgeBatch)
		if err != nil {
			bar.Finish()
			return fmt.Errorf("purge recordings: %w", err)
		}
		for _, r := range rs {
			after = max(after, r.ID)
			if r.DeletedAt.Equal(now) {
				purged++
			}
			if withFiles {
				gone, err := files.remove(r)
				if err != nil {
					failed = append(failed, fmt.Sprintf("recording %d: %v", r.ID, err))
				} else if gone {
					removed++
				}
			}
		}
		bar.Add(int64(len(rs)))
		if len(rs) < purgeBatch {
			break
		}
	}
	bar.Finish()
	for _, msg := range failed {
		fmt.Fprintln(e.stderr, msg)
	}
	fmt.Fprintf(e.stdout, "purged %s made before %s", plural(purged, "recording"), before.Format(time.RFC3339))
	if withFiles {
		fmt.Fprintf(e.stdout, ", removed %s", plural(removed, "file"))
	}
	fmt.Fprintln(e.stdout)
	if len(failed) > 0 {
		return fmt.Errorf("%d files could not be removed", len(failed))
	}
	return nil
}

// purgeDryRun says what a purge of the recordings made before before would
// do, changing nothing.
func purgeDryRun(ctx context.Context, e *env, s *store.DB, files *recordingFiles, before time.Time) error {
	var purge, remove int
	err := eachRecording(ctx, s, store.RecordingFilter{Before: before, IncludeDeleted: files.dir != ""}, func(r store.AccountRecording) {
		if r.DeletedAt.IsZero() {
			purge++
		}
		if files.dir != "" && files.exists(r.Recording) {
			remove++
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "would purge %s made before %s", plural(purge, "recording"), before.Format(time.RFC3339))
	if files.dir != "" {
		fmt.Fprintf(e.stdout, ", would remove %s", plural(remove, "file"))
	}
	fmt.Fprintln(e.stdout, " (dry run: nothing changed)")
	return nil
}

// eachRecording calls f for every recording filter selects, in pages.
func eachRecording(ctx context.Context, s *store.DB, filter store.RecordingFilter, f func(store.AccountRecording)) error {
	const page = 5000
	filter.Limit = page
	for filter.Offset = 0; ; filter.Offset += page {
		rs, err := s.ListRecordings(ctx, filter)
		if err != nil {
			return fmt.Errorf("list recordings: %w", err)
		}
		for _, r := range rs {
			f(r)
		}
		if len(rs) < page {
			return nil
		}
	}
}

func recordingsVerify(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "recordings verify", "", "Check that every recording not deleted has a non-empty file under --dir, and that every file under --dir "+
		"belongs to a recording; lists the recordings without a usable file and the files no recording knows.")
	db := f.reportsDatabase()
	format := f.format()
	files := f.recordingFiles()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if files.dir == "" {
		return usageError{"recordings verify: --dir is required (the local mount of the recordings directory)"}
	}
	if err := files.checkDir(); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rows := tabular.Rows{Columns: []string{"id", "created_at", "account", "file", "problem"}}
	checked, bad := 0, 0
	known := map[string]bool{} // the files of every recording, deleted or not
	err = eachRecording(ctx, s, store.RecordingFilter{IncludeDeleted: true}, func(r store.AccountRecording) {
		known[filepath.Clean(files.local(r.Recording))] = true
		if !r.DeletedAt.IsZero() {
			return
		}
		checked++
		if problem := files.check(r.Recording); problem != "" {
			bad++
			rows.Add(r.ID, r.CreatedAt.Format(time.RFC3339), r.Account, files.local(r.Recording), problem)
		}
	})
	if err != nil {
		return err
	}
	var unknown []string
	err = filepath.WalkDir(files.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !known[filepath.Clean(path)] {
			unknown = append(unknown, path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", files.dir, err)
	}
	for _, path := range unknown {
		rows.Add(nil, nil, nil, path, "no recording")
	}
	if err := write(e, rows, *format); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%s checked, %d with a problem; %s that no recording knows\n",
		plural(checked, "recording"), bad, plural(len(unknown), "file"))
	if bad > 0 || len(unknown) > 0 {
		return fmt.Errorf("%s without a usable file, %s without a recording", plural(bad, "recording"), plural(len(unknown), "file"))
	}
	return nil
}
