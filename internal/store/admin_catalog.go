package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// CatalogEntry sums up the versions of one menu or survey key.
type CatalogEntry struct {
	Key       string
	Latest    int // newest version
	Live      int // newest published version, 0 when none
	Versions  int
	ChangedAt time.Time // when the newest version was stored
}

// CatalogVersion is one stored version of a menu or survey key.
type CatalogVersion struct {
	ID        int64
	Version   int
	Published bool
	CreatedAt time.Time
}

// PublishedMenuKeys returns the keys of the menus that have a published version.
func (db *DB) PublishedMenuKeys(ctx context.Context) (map[string]bool, error) {
	return keySet(db.q.AdminPublishedMenuKeys(ctx))
}

// PublishedSurveyKeys returns the keys of the surveys that have a published version.
func (db *DB) PublishedSurveyKeys(ctx context.Context) (map[string]bool, error) {
	return keySet(db.q.AdminPublishedSurveyKeys(ctx))
}

func keySet(keys []string, err error) (map[string]bool, error) {
	if err != nil {
		return nil, mapErr(err)
	}
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m, nil
}

// MenuEntries sums up every menu key, in key order.
func (db *DB) MenuEntries(ctx context.Context) ([]CatalogEntry, error) {
	rows, err := db.q.AdminMenuSummaries(ctx)
	es := make([]CatalogEntry, len(rows))
	for i, r := range rows {
		es[i] = CatalogEntry{Key: r.Key, Latest: int(r.Latest), Live: int(r.Live), Versions: int(r.Versions), ChangedAt: r.ChangedAt}
	}
	return es, mapErr(err)
}

// SurveyEntries sums up every survey key, in key order.
func (db *DB) SurveyEntries(ctx context.Context) ([]CatalogEntry, error) {
	rows, err := db.q.AdminSurveySummaries(ctx)
	es := make([]CatalogEntry, len(rows))
	for i, r := range rows {
		es[i] = CatalogEntry{Key: r.Key, Latest: int(r.Latest), Live: int(r.Live), Versions: int(r.Versions), ChangedAt: r.ChangedAt}
	}
	return es, mapErr(err)
}

// LatestMenuVersion returns the newest version number of menu key, draft or
// published; ivr.ErrNotFound when the key has none.
func (db *DB) LatestMenuVersion(ctx context.Context, key string) (int, error) {
	n, err := db.q.AdminLatestMenuVersion(ctx, key)
	return int(n), mapErr(err)
}

// LatestSurveyVersion is LatestMenuVersion for surveys.
func (db *DB) LatestSurveyVersion(ctx context.Context, key string) (int, error) {
	n, err := db.q.AdminLatestSurveyVersion(ctx, key)
	return int(n), mapErr(err)
}

// MenuVersions lists the versions of menu key, oldest first; none when the
// key is unknown.
func (db *DB) MenuVersions(ctx context.Context, key string) ([]CatalogVersion, error) {
	rows, err := db.q.AdminMenuVersions(ctx, key)
	vs := make([]CatalogVersion, len(rows))
	for i, r := range rows {
		vs[i] = CatalogVersion{ID: r.ID, Version: int(r.Version), Published: r.PublishedAt != nil, CreatedAt: r.CreatedAt}
	}
	return vs, mapErr(err)
}

// SurveyVersions is MenuVersions for surveys.
func (db *DB) SurveyVersions(ctx context.Context, key string) ([]CatalogVersion, error) {
	rows, err := db.q.AdminSurveyVersions(ctx, key)
	vs := make([]CatalogVersion, len(rows))
	for i, r := range rows {
		vs[i] = CatalogVersion{ID: r.ID, Version: int(r.Version), Published: r.PublishedAt != nil, CreatedAt: r.CreatedAt}
	}
	return vs, mapErr(err)
}

// SaveMenus stores each of menus as the next version of its key (creating the
// key when new), publishes those new versions when publish is set, and
// publishes the existing versions whose ids are in alsoPublish, all in one
// transaction: a file of menus that refer to each other goes live at once or
// not at all. It returns menus with VersionID, Version, Published and CreatedAt
// set.
func (db *DB) SaveMenus(ctx context.Context, menus []ivr.Menu, publish bool, alsoPublish []int64) ([]ivr.Menu, error) {
	saved := make([]ivr.Menu, len(menus))
	refused := "" // the key whose version the database refused
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		ids := slices.Clone(alsoPublish)
		for i, m := range menus {
			m, err := insertMenuVersion(ctx, q, m)
			if err != nil {
				refused = m.Key
				return err
			}
			m.Published = publish
			saved[i] = m
			if publish {
				ids = append(ids, m.VersionID)
			}
		}
		return publishAll(ids, func(id int64) (int64, error) { return q.PublishMenuVersion(ctx, id) })
	})
	if err != nil {
		return nil, keyErr(refused, mapErr(err))
	}
	return saved, nil
}

// SaveSurveys is SaveMenus for surveys.
func (db *DB) SaveSurveys(ctx context.Context, surveys []ivr.Survey, publish bool, alsoPublish []int64) ([]ivr.Survey, error) {
	saved := make([]ivr.Survey, len(surveys))
	refused := "" // the key whose version the database refused
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		ids := slices.Clone(alsoPublish)
		for i, s := range surveys {
			s, err := insertSurveyVersion(ctx, q, s)
			if err != nil {
				refused = s.Key
				return err
			}
			s.Published = publish
			saved[i] = s
			if publish {
				ids = append(ids, s.VersionID)
			}
		}
		return publishAll(ids, func(id int64) (int64, error) { return q.PublishSurveyVersion(ctx, id) })
	})
	if err != nil {
		return nil, keyErr(refused, mapErr(err))
	}
	return saved, nil
}

// KeyError reports the menu or survey, by its key, whose version SaveMenus or
// SaveSurveys could not store; Err says why (an *ivr.InvalidValueError, an
// *ivr.ConflictError ...), and errors.As and errors.Is see through to it.
type KeyError struct {
	Key string
	Err error
}

// Error implements error.
func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *KeyError) Unwrap() error { return e.Err }

// keyErr returns err as a *KeyError of key, or err itself when key is empty.
func keyErr(key string, err error) error {
	if key == "" {
		return err
	}
	return &KeyError{Key: key, Err: err}
}

// publishAll publishes each version id; one already published is no error.
func publishAll(ids []int64, publish func(id int64) (int64, error)) error {
	for _, id := range ids {
		if _, err := publish(id); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	return nil
}
