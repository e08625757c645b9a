package ivr_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/ivr"
)

// The tests write their fixtures with SQL, so they depend on the schema only,
// and read the rows the flows wrote the same way.

// seedCaller adds an active caller with phones and a PIN hashed with kr.
func seedCaller(t testing.TB, pool *pgxpool.Pool, kr *ivr.Keyring, account, name, lang, pin string, phones ...string) int64 {
	t.Helper()
	var h ivr.PINHash
	if pin != "" {
		h = kr.Hash(account, pin)
	}
	return seedCallerHash(t, pool, h, account, name, lang, phones...)
}

// seedCallerHash adds an active caller with phones and the PIN hash h (the
// zero hash: no PIN).
func seedCallerHash(t testing.TB, pool *pgxpool.Pool, h ivr.PINHash, account, name, lang string, phones ...string) int64 {
	t.Helper()
	ctx := context.Background()
	var keyID *string
	if !h.IsZero() {
		keyID = &h.KeyID
	}
	var id int64
	err := pool.QueryRow(ctx, `INSERT INTO callers (account, name, language, pin_key_id, pin_hash, pin_version)
		VALUES ($1, $2, $3, $4, $5, coalesce(nullif($6, 0), 2)) RETURNING id`, account, name, lang, keyID, h.Sum, h.Version).Scan(&id)
	if err != nil {
		t.Fatalf("seed caller: %v", err)
	}
	for _, p := range phones {
		if _, err := pool.Exec(ctx, `INSERT INTO caller_phones (caller_id, e164) VALUES ($1, $2)`, id, p); err != nil {
			t.Fatalf("seed phone: %v", err)
		}
	}
	return id
}

// seedMenu adds and publishes a menu version; options are digits, action,
// target triples.
func seedMenu(t testing.TB, pool *pgxpool.Pool, m ivr.Menu) int64 {
	t.Helper()
	ctx := context.Background()
	var menuID int64
	err := pool.QueryRow(ctx, `INSERT INTO menus (key) VALUES ($1)
		ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id`, m.Key).Scan(&menuID)
	if err != nil {
		t.Fatalf("seed menu: %v", err)
	}
	if m.Timeout == 0 {
		m.Timeout = 5 * time.Second
	}
	m.MaxDigits = max(m.MaxDigits, 1)
	m.MaxAttempts = max(m.MaxAttempts, 1)
	if m.FailureAction.Kind == "" {
		m.FailureAction.Kind = ivr.ActionHangup
	}
	var vid int64
	err = pool.QueryRow(ctx, `INSERT INTO menu_versions (menu_id, version, prompt, invalid_prompt, timeout_prompt,
			timeout_ms, max_digits, max_attempts, failure_action, failure_target)
		VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM menu_versions WHERE menu_id = $1),
			$2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		menuID, m.Prompt, m.InvalidPrompt, m.TimeoutPrompt, m.Timeout.Milliseconds(), m.MaxDigits, m.MaxAttempts,
		string(m.FailureAction.Kind), m.FailureAction.Target).Scan(&vid)
	if err != nil {
		t.Fatalf("seed menu version: %v", err)
	}
	for i, o := range m.Options {
		if _, err := pool.Exec(ctx, `INSERT INTO menu_options (menu_version_id, digits, position, action, target, label)
			VALUES ($1, $2, $3, $4, $5, $6)`, vid, o.Digits, i+1, string(o.Action.Kind), o.Action.Target, o.Label); err != nil {
			t.Fatalf("seed menu option: %v", err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE menu_versions SET published_at = now() WHERE id = $1`, vid); err != nil {
		t.Fatalf("publish menu: %v", err)
	}
	return vid
}

// seedSurvey adds and publishes a survey version.
func seedSurvey(t testing.TB, pool *pgxpool.Pool, s ivr.Survey) int64 {
	t.Helper()
	ctx := context.Background()
	var surveyID, vid int64
	err := pool.QueryRow(ctx, `INSERT INTO surveys (key) VALUES ($1)
		ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id`, s.Key).Scan(&surveyID)
	if err != nil {
		t.Fatalf("seed survey: %v", err)
	}
	err = pool.QueryRow(ctx, `INSERT INTO survey_versions (survey_id, version, intro_prompt, thank_you_prompt)
		VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM survey_versions WHERE survey_id = $1), $2, $3)
		RETURNING id`, surveyID, s.IntroPrompt, s.ThankYouPrompt).Scan(&vid)
	if err != nil {
		t.Fatalf("seed survey version: %v", err)
	}
	for i, q := range s.Questions {
		var lo, hi *int
		if q.Range != nil {
			lo, hi = &q.Range.Min, &q.Range.Max
		}
		if _, err := pool.Exec(ctx, `INSERT INTO survey_questions (survey_version_id, position, key, prompt,
				allowed_digits, range_min, range_max, required) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			vid, i+1, q.Key, q.Prompt, q.AllowedDigits, lo, hi, q.Required); err != nil {
			t.Fatalf("seed question: %v", err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE survey_versions SET published_at = now() WHERE id = $1`, vid); err != nil {
		t.Fatalf("publish survey: %v", err)
	}
	return vid
}

// callRow is the call row as the tests check it.
type callRow struct {
	ID            int64
	Route         string
	LinkedID      string
	CallerID      *int64
	CallerIDE164  string
	Answered      bool
	Ended         bool
	EndReason     *string
	Authenticated bool
	MenuVersionID *int64
}

// callByUniqueID reads the newest session of the channel uniqueID: the one
// that ran last, when the channel ran several.
func callByUniqueID(t testing.TB, pool *pgxpool.Pool, uniqueID string) callRow {
	t.Helper()
	var r callRow
	err := pool.QueryRow(context.Background(), `SELECT id, route, linkedid, caller_id, callerid_e164,
			answered_at IS NOT NULL, ended_at IS NOT NULL, end_reason, authenticated, menu_version_id
		FROM calls WHERE uniqueid = $1 ORDER BY id DESC LIMIT 1`, uniqueID).Scan(&r.ID, &r.Route, &r.LinkedID, &r.CallerID, &r.CallerIDE164,
		&r.Answered, &r.Ended, &r.EndReason, &r.Authenticated, &r.MenuVersionID)
	if err != nil {
		t.Fatalf("call %s: %v", uniqueID, err)
	}
	return r
}

// stepRow is one journal row; Digits is nil for NULL.
type stepRow struct {
	Seq     int
	Key     string
	Kind    string
	Digits  *string
	Secret  bool
	Outcome string
	Attempt int
}

func stepsOf(t testing.TB, pool *pgxpool.Pool, callID int64) []stepRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT seq, key, kind, digits, secret, outcome, attempt
		FROM call_steps WHERE call_id = $1 ORDER BY seq`, callID)
	if err != nil {
		t.Fatalf("steps: %v", err)
	}
	defer rows.Close()
	var out []stepRow
	for rows.Next() {
		var s stepRow
		if err := rows.Scan(&s.Seq, &s.Key, &s.Kind, &s.Digits, &s.Secret, &s.Outcome, &s.Attempt); err != nil {
			t.Fatalf("scan step: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("steps: %v", err)
	}
	return out
}

// count runs a SELECT count(*) ... and returns the number.
func count(t testing.TB, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
