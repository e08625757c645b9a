//go:build asterisk

package livetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/pglocal"
)

// database is a private PostgreSQL with one database, ivr, that can be
// stopped and started again at the same address.
type database struct {
	cfg pglocal.Config
	srv *pglocal.Server
	url string
}

// startDatabase starts a private PostgreSQL under dir (its socket in a short
// temporary directory) and creates the database ivr.
func startDatabase(ctx context.Context, dir string) (*database, error) {
	sock, err := pglocal.TempDir("ivr-live-")
	if err != nil {
		return nil, err
	}
	d := &database{cfg: pglocal.Config{DataDir: filepath.Join(dir, "pgdata"), SocketDir: sock, NoFsync: true}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if d.srv, err = pglocal.Start(ctx, d.cfg); err != nil {
		return nil, err
	}
	if d.url, err = d.srv.CreateDatabase(ctx, "ivr"); err != nil {
		d.srv.Stop()
		return nil, err
	}
	return d, nil
}

// stop stops the server; its data stays for start.
func (d *database) stop() error {
	if d.srv == nil {
		return nil
	}
	err := d.srv.Stop()
	d.srv = nil
	return err
}

// start starts the stopped server again, at the same address.
func (d *database) start(ctx context.Context) error {
	srv, err := pglocal.Start(ctx, d.cfg)
	if err != nil {
		return err
	}
	d.srv = srv
	return nil
}

// load migrates the database and loads the sample survey, menus, schedules
// and numbers the way an operator does, with the ivr binary; the schedules
// and numbers with those of the suite's own (liveSchedules, liveNumbers)
// added.
func (d *database) load(bin *ivrBin, repo string) error {
	dir := filepath.Dir(d.cfg.DataDir)
	schedules, err := withItems(repo, dir, "schedules.yaml", liveSchedules(time.Now()))
	if err != nil {
		return err
	}
	numbers, err := withItems(repo, dir, "numbers.yaml", liveNumbers)
	if err != nil {
		return err
	}
	// The text prompts are rendered where the suite's Asterisk, on this
	// machine, reads them under the same name.
	prompts := filepath.Join(dir, "prompts")
	for _, args := range [][]string{
		{"migrate", "--database-url", d.url, "up"},
		{"surveys", "apply", "-f", filepath.Join(repo, "surveys.yaml"), "--publish", "--database-url", d.url, "--prompts-dir", prompts},
		{"menus", "apply", "-f", filepath.Join(repo, "menus.yaml"), "--publish", "--database-url", d.url, "--prompts-dir", prompts},
		{"schedules", "apply", "-f", schedules, "--database-url", d.url},
		{"numbers", "apply", "-f", numbers, "--database-url", d.url, "--prompts-dir", prompts},
	} {
		if _, err := bin.run("", args...); err != nil {
			return err
		}
	}
	return nil
}

// withItems writes the sample file name of repo with items, more entries of
// its top-level list, added at its end, into dir, and returns its path.
func withItems(repo, dir, name, items string) (string, error) {
	data, err := os.ReadFile(filepath.Join(repo, name))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, append(data, items...), 0o644)
}

// caller is a caller the suite adds with `ivr callers add`.
type caller struct {
	account, name, phone, pin string
}

// addCaller adds c with its PIN, as an operator does.
func (d *database) addCaller(bin *ivrBin, c caller) error {
	args := []string{"callers", "add", c.account, "--name", c.name, "--language", "en",
		"--pin-stdin", "--pin-key-file", bin.keyFile, "--database-url", d.url}
	if c.phone != "" {
		args = append(args, "--numbers", c.phone)
	}
	_, err := bin.run(c.pin+"\n", args...)
	return err
}

// callRow is a row of calls.
type callRow struct {
	ID            int64
	Route         string
	CallerIDRaw   string
	CallerIDE164  string
	CallerID      *int64
	Authenticated bool
	EndReason     *string
	Answered      bool
	LinkedID      string
}

// rows reads what the journal holds; every query is bounded by 10 seconds.
type rows struct{ pool *pgxpool.Pool }

func (r rows) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// query runs sql and scans each row with scan.
func query[T any](r rows, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	rs, err := r.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rs, scan)
}

// menuPrompt returns the prompt of the live version of menu key: for the
// sample menus, the sound name of their text prompt.
func (r rows) menuPrompt(key string) (string, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	var prompt string
	err := r.pool.QueryRow(ctx, `SELECT v.prompt FROM menu_versions v JOIN menus m ON m.id = v.menu_id
		WHERE m.key = $1 AND v.published_at IS NOT NULL ORDER BY v.version DESC LIMIT 1`, key).Scan(&prompt)
	return prompt, err
}

// call returns the row of the call uniqueid made by route (lookup or ivr).
func (r rows) call(uniqueid, route string) (callRow, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	var c callRow
	err := r.pool.QueryRow(ctx, `
		SELECT id, route, callerid_raw, callerid_e164, caller_id, authenticated, end_reason,
		       answered_at IS NOT NULL, linkedid
		FROM calls WHERE uniqueid = $1 AND route = $2`, uniqueid, route).
		Scan(&c.ID, &c.Route, &c.CallerIDRaw, &c.CallerIDE164, &c.CallerID, &c.Authenticated, &c.EndReason, &c.Answered, &c.LinkedID)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("no %s row in calls for uniqueid %s", route, uniqueid)
	}
	return c, err
}

// callCount returns how many rows calls holds for uniqueid.
func (r rows) callCount(uniqueid string) (int, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	var n int
	err := r.pool.QueryRow(ctx, `SELECT count(*) FROM calls WHERE uniqueid = $1`, uniqueid).Scan(&n)
	return n, err
}

// step is a row of call_steps.
type step struct {
	Key, Kind, Outcome string
	Digits             *string
	Secret             bool
}

func (s step) String() string {
	d := "-"
	if s.Digits != nil {
		d = *s.Digits
	}
	return fmt.Sprintf("%s/%s=%s(%s)", s.Kind, s.Key, s.Outcome, d)
}

// steps returns the journal of a call in order.
func (r rows) steps(callID int64) ([]step, error) {
	return query(r, func(row pgx.CollectableRow) (step, error) {
		var s step
		err := row.Scan(&s.Key, &s.Kind, &s.Outcome, &s.Digits, &s.Secret)
		return s, err
	}, `SELECT key, kind, outcome, digits, secret FROM call_steps WHERE call_id = $1 ORDER BY seq`, callID)
}

// pinAttempts returns the success of each PIN attempt of a call, in order.
func (r rows) pinAttempts(callID int64) ([]bool, error) {
	return query(r, pgx.RowTo[bool], `SELECT success FROM pin_attempts WHERE call_id = $1 ORDER BY id`, callID)
}

// responses returns "question=answer" for each response of a call, in order.
func (r rows) responses(callID int64) ([]string, error) {
	return query(r, pgx.RowTo[string], `SELECT question_key || '=' || answer FROM responses WHERE call_id = $1 ORDER BY id`, callID)
}

// recording is a row of recordings.
type recording struct {
	ID        int64
	Path      string
	Format    string
	EndPos    int64
	EndReason string
	EndKey    string
	Deleted   bool
}

// recordings returns the recordings of a call in order.
func (r rows) recordings(callID int64) ([]recording, error) {
	return query(r, func(row pgx.CollectableRow) (recording, error) {
		var x recording
		err := row.Scan(&x.ID, &x.Path, &x.Format, &x.EndPos, &x.EndReason, &x.EndKey, &x.Deleted)
		return x, err
	}, `SELECT id, path, format, endpos, end_reason, end_key, deleted_at IS NOT NULL
		FROM recordings WHERE call_id = $1 ORDER BY id`, callID)
}

// recordingDeleted reports whether the recording id is marked deleted.
func (r rows) recordingDeleted(id int64) (bool, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	var del bool
	err := r.pool.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM recordings WHERE id = $1`, id).Scan(&del)
	return del, err
}

// lockState returns a caller's consecutive PIN failures and whether the
// account is locked now.
func (r rows) lockState(account string) (failures int, locked bool, err error) {
	ctx, cancel := r.ctx()
	defer cancel()
	err = r.pool.QueryRow(ctx, `SELECT pin_failures, coalesce(locked_until > now(), false) FROM callers WHERE account = $1`, account).
		Scan(&failures, &locked)
	return failures, locked, err
}

// callerID returns the id of the caller with the account.
func (r rows) callerID(account string) (int64, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	var id int64
	err := r.pool.QueryRow(ctx, `SELECT id FROM callers WHERE account = $1`, account).Scan(&id)
	return id, err
}
