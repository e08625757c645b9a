package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// PublishedMenu returns the live version of menu key: its newest published
// version. ivr.ErrNotFound when none is published.
func (db *DB) PublishedMenu(ctx context.Context, key string) (ivr.Menu, error) {
	return readVersion(ctx, "menu", key, 0, func(ctx context.Context, p sqlcdb.MenuVersionParams) (sqlcdb.MenuVersionRow, error) {
		return db.q.MenuVersion(ctx, p)
	}, menuFromRow)
}

// MenuVersion returns version of menu key, draft or published; version 0 means
// the live version. ivr.ErrNotFound when there is no such version.
func (db *DB) MenuVersion(ctx context.Context, key string, version int) (ivr.Menu, error) {
	return readVersion(ctx, "menu", key, version, func(ctx context.Context, p sqlcdb.MenuVersionParams) (sqlcdb.MenuVersionRow, error) {
		return db.q.MenuVersion(ctx, p)
	}, menuFromRow)
}

// readVersion reads version of the menu or survey key with read and converts
// the row with conv.
func readVersion[P ~struct {
	Key     string
	Version int32
}, R, T any](ctx context.Context, what, key string, version int, read func(context.Context, P) (R, error), conv func(R) (T, error)) (T, error) {
	row, err := read(ctx, P{Key: validText(key), Version: int32(version)}) // a key from the dialplan may carry any byte
	if err != nil {
		err = mapErr(err)
	} else if t, err := conv(row); err == nil {
		return t, nil
	}
	var zero T
	return zero, fmt.Errorf("%s %s version %d: %w", what, key, version, err)
}

// CreateMenuVersion stores m as the next version of menu m.Key (creating the
// key on its first version), as a draft, and returns it with VersionID,
// Version and CreatedAt set. m.VersionID, m.Version and m.Published are
// ignored.
func (db *DB) CreateMenuVersion(ctx context.Context, m ivr.Menu) (ivr.Menu, error) {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		var err error
		m, err = insertMenuVersion(ctx, q, m)
		return err
	})
	if err != nil {
		return ivr.Menu{}, fmt.Errorf("create menu version: %w", mapErr(err))
	}
	return m, nil
}

// insertMenuVersion stores m as the next draft version of m.Key with its
// options, creating the key on its first version, and returns m with
// VersionID, Version and CreatedAt set and Published false.
func insertMenuVersion(ctx context.Context, q *sqlcdb.Queries, m ivr.Menu) (ivr.Menu, error) {
	menuID, err := q.EnsureMenu(ctx, m.Key)
	if err != nil {
		return m, err
	}
	v, err := q.InsertMenuVersion(ctx, sqlcdb.InsertMenuVersionParams{
		MenuID:        menuID,
		Prompt:        m.Prompt,
		InvalidPrompt: m.InvalidPrompt,
		TimeoutPrompt: m.TimeoutPrompt,
		TimeoutMs:     millis(m.Timeout),
		MaxDigits:     int32(m.MaxDigits),
		MaxAttempts:   int32(m.MaxAttempts),
		FailureAction: string(failureAction(m.FailureAction)),
		FailureTarget: m.FailureAction.Target,
	})
	if err != nil {
		return m, err
	}
	m.VersionID, m.Version, m.CreatedAt, m.Published = v.ID, int(v.Version), v.CreatedAt, false
	return m, q.InsertMenuOptions(ctx, menuOptionsParams(v.ID, m.Options))
}

// UpdateMenuDraft replaces the settings and options of the draft version
// m.VersionID with those of m. A published version is ivr.ErrPublished, an
// unknown one ivr.ErrNotFound.
func (db *DB) UpdateMenuDraft(ctx context.Context, m ivr.Menu) error {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		_, err := q.UpdateMenuVersion(ctx, sqlcdb.UpdateMenuVersionParams{
			ID:            m.VersionID,
			Prompt:        m.Prompt,
			InvalidPrompt: m.InvalidPrompt,
			TimeoutPrompt: m.TimeoutPrompt,
			TimeoutMs:     millis(m.Timeout),
			MaxDigits:     int32(m.MaxDigits),
			MaxAttempts:   int32(m.MaxAttempts),
			FailureAction: string(failureAction(m.FailureAction)),
			FailureTarget: m.FailureAction.Target,
		})
		if err != nil {
			return err
		}
		if err := q.DeleteMenuOptions(ctx, m.VersionID); err != nil {
			return err
		}
		return q.InsertMenuOptions(ctx, menuOptionsParams(m.VersionID, m.Options))
	})
	if err != nil {
		return fmt.Errorf("update menu draft: %w", mapErr(err))
	}
	return nil
}

// PublishMenu publishes the menu version versionID, which makes it the live
// version of its key (unless a newer one is published) and immutable.
// Publishing a published version changes nothing; an unknown one is
// ivr.ErrNotFound.
func (db *DB) PublishMenu(ctx context.Context, versionID int64) error {
	err := db.publish(ctx, versionID, (*sqlcdb.Queries).PublishMenuVersion, (*sqlcdb.Queries).MenuVersionPublished)
	if err != nil {
		return fmt.Errorf("publish menu: %w", mapErr(err))
	}
	return nil
}

// publish runs the publish query of a menu or survey version and, when it
// changed no row, tells an already published version (fine) from an unknown
// one (pgx.ErrNoRows).
func (db *DB) publish(ctx context.Context, id int64,
	publish func(*sqlcdb.Queries, context.Context, int64) (int64, error),
	published func(*sqlcdb.Queries, context.Context, int64) (bool, error),
) error {
	return db.tx(ctx, func(q *sqlcdb.Queries) error {
		_, err := publish(q, ctx, id)
		if err == nil || !errors.Is(mapErr(err), ivr.ErrNotFound) {
			return err
		}
		_, err = published(q, ctx, id)
		return err
	})
}

// failureAction is the action after a menu's last attempt: hang up when unset.
func failureAction(a ivr.Action) ivr.ActionKind {
	if a.Kind == "" {
		return ivr.ActionHangup
	}
	return a.Kind
}

func menuOptionsParams(versionID int64, opts []ivr.MenuOption) sqlcdb.InsertMenuOptionsParams {
	p := sqlcdb.InsertMenuOptionsParams{MenuVersionID: versionID}
	for i, o := range opts {
		p.Digits = append(p.Digits, o.Digits)
		p.Positions = append(p.Positions, int32(i+1))
		p.Actions = append(p.Actions, string(o.Action.Kind))
		p.Targets = append(p.Targets, o.Action.Target)
		p.Labels = append(p.Labels, o.Label)
		p.Schedules = append(p.Schedules, o.Hours.Schedule)
		p.Closeds = append(p.Closeds, string(branchJSON(o.Hours.Closed)))
		p.Holidays = append(p.Holidays, string(branchJSON(o.Hours.Holiday)))
	}
	return p
}

func menuFromRow(row sqlcdb.MenuVersionRow) (ivr.Menu, error) {
	v := row.MenuVersion
	m := ivr.Menu{
		VersionID:     v.ID,
		Key:           row.Key,
		Version:       int(v.Version),
		Published:     v.PublishedAt != nil,
		Prompt:        v.Prompt,
		InvalidPrompt: v.InvalidPrompt,
		TimeoutPrompt: v.TimeoutPrompt,
		Timeout:       time.Duration(v.TimeoutMs) * time.Millisecond,
		MaxDigits:     int(v.MaxDigits),
		MaxAttempts:   int(v.MaxAttempts),
		FailureAction: ivr.Action{Kind: ivr.ActionKind(v.FailureAction), Target: v.FailureTarget},
		CreatedAt:     v.CreatedAt,
	}
	var opts []struct {
		Digits   string          `json:"digits"`
		Action   string          `json:"action"`
		Target   string          `json:"target"`
		Label    string          `json:"label"`
		Schedule *string         `json:"schedule"`
		Closed   json.RawMessage `json:"closed"`
		Holiday  json.RawMessage `json:"holiday"`
	}
	if err := json.Unmarshal(row.Options, &opts); err != nil {
		return ivr.Menu{}, fmt.Errorf("read options: %w", err)
	}
	for _, o := range opts {
		mo := ivr.MenuOption{
			Digits: o.Digits,
			Action: ivr.Action{Kind: ivr.ActionKind(o.Action), Target: o.Target},
			Label:  o.Label,
		}
		if o.Schedule != nil {
			mo.Hours.Schedule = *o.Schedule
			var err error
			if mo.Hours.Closed, err = branchFromJSON(o.Closed); err != nil {
				return ivr.Menu{}, fmt.Errorf("read option %s closed: %w", o.Digits, err)
			}
			if mo.Hours.Holiday, err = branchFromJSON(o.Holiday); err != nil {
				return ivr.Menu{}, fmt.Errorf("read option %s holiday: %w", o.Digits, err)
			}
		}
		m.Options = append(m.Options, mo)
	}
	return m, nil
}

// PublishedSurvey returns the live version of survey key: its newest
// published version. ivr.ErrNotFound when none is published.
func (db *DB) PublishedSurvey(ctx context.Context, key string) (ivr.Survey, error) {
	return readVersion(ctx, "survey", key, 0, func(ctx context.Context, p sqlcdb.SurveyVersionParams) (sqlcdb.SurveyVersionRow, error) {
		return db.q.SurveyVersion(ctx, p)
	}, surveyFromRow)
}

// SurveyVersion returns version of survey key, draft or published; version 0
// means the live version. ivr.ErrNotFound when there is no such version.
func (db *DB) SurveyVersion(ctx context.Context, key string, version int) (ivr.Survey, error) {
	return readVersion(ctx, "survey", key, version, func(ctx context.Context, p sqlcdb.SurveyVersionParams) (sqlcdb.SurveyVersionRow, error) {
		return db.q.SurveyVersion(ctx, p)
	}, surveyFromRow)
}

// CreateSurveyVersion stores s as the next version of survey s.Key (creating
// the key on its first version), as a draft, and returns it with VersionID,
// Version and CreatedAt set. Questions are stored in the order given and
// numbered from 1; their Position is ignored.
func (db *DB) CreateSurveyVersion(ctx context.Context, s ivr.Survey) (ivr.Survey, error) {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		var err error
		s, err = insertSurveyVersion(ctx, q, s)
		return err
	})
	if err != nil {
		return ivr.Survey{}, fmt.Errorf("create survey version: %w", mapErr(err))
	}
	return s, nil
}

// insertSurveyVersion stores s as the next draft version of s.Key with its
// questions numbered in order, creating the key on its first version, and
// returns s with VersionID, Version and CreatedAt set and Published false.
func insertSurveyVersion(ctx context.Context, q *sqlcdb.Queries, s ivr.Survey) (ivr.Survey, error) {
	surveyID, err := q.EnsureSurvey(ctx, s.Key)
	if err != nil {
		return s, err
	}
	v, err := q.InsertSurveyVersion(ctx, sqlcdb.InsertSurveyVersionParams{
		SurveyID:       surveyID,
		IntroPrompt:    s.IntroPrompt,
		ThankYouPrompt: s.ThankYouPrompt,
	})
	if err != nil {
		return s, err
	}
	s.VersionID, s.Version, s.CreatedAt, s.Published = v.ID, int(v.Version), v.CreatedAt, false
	s.Questions = numbered(s.Questions)
	return s, q.InsertSurveyQuestions(ctx, questionsParams(v.ID, s.Questions))
}

// UpdateSurveyDraft replaces the prompts and questions of the draft version
// s.VersionID with those of s. A published version is ivr.ErrPublished, an
// unknown one ivr.ErrNotFound.
func (db *DB) UpdateSurveyDraft(ctx context.Context, s ivr.Survey) error {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		_, err := q.UpdateSurveyVersion(ctx, sqlcdb.UpdateSurveyVersionParams{
			ID:             s.VersionID,
			IntroPrompt:    s.IntroPrompt,
			ThankYouPrompt: s.ThankYouPrompt,
		})
		if err != nil {
			return err
		}
		if err := q.DeleteSurveyQuestions(ctx, s.VersionID); err != nil {
			return err
		}
		return q.InsertSurveyQuestions(ctx, questionsParams(s.VersionID, numbered(s.Questions)))
	})
	if err != nil {
		return fmt.Errorf("update survey draft: %w", mapErr(err))
	}
	return nil
}

// PublishSurvey publishes the survey version versionID, as PublishMenu does
// for menus.
func (db *DB) PublishSurvey(ctx context.Context, versionID int64) error {
	err := db.publish(ctx, versionID, (*sqlcdb.Queries).PublishSurveyVersion, (*sqlcdb.Queries).SurveyVersionPublished)
	if err != nil {
		return fmt.Errorf("publish survey: %w", mapErr(err))
	}
	return nil
}

// numbered returns a copy of qs with Position set to 1, 2, 3 ...
func numbered(qs []ivr.Question) []ivr.Question {
	out := append([]ivr.Question(nil), qs...)
	for i := range out {
		out[i].Position = i + 1
	}
	return out
}

func questionsParams(versionID int64, qs []ivr.Question) sqlcdb.InsertSurveyQuestionsParams {
	p := sqlcdb.InsertSurveyQuestionsParams{SurveyVersionID: versionID}
	for _, q := range qs {
		p.Positions = append(p.Positions, int32(q.Position))
		p.Keys = append(p.Keys, q.Key)
		p.Prompts = append(p.Prompts, q.Prompt)
		p.AllowedDigits = append(p.AllowedDigits, q.AllowedDigits)
		p.HasRange = append(p.HasRange, q.Range != nil)
		var lo, hi int32
		if q.Range != nil {
			lo, hi = int32(q.Range.Min), int32(q.Range.Max)
		}
		p.RangeMins = append(p.RangeMins, lo)
		p.RangeMaxes = append(p.RangeMaxes, hi)
		p.Required = append(p.Required, q.Required)
	}
	return p
}

func surveyFromRow(row sqlcdb.SurveyVersionRow) (ivr.Survey, error) {
	v := row.SurveyVersion
	s := ivr.Survey{
		VersionID:      v.ID,
		Key:            row.Key,
		Version:        int(v.Version),
		Published:      v.PublishedAt != nil,
		IntroPrompt:    v.IntroPrompt,
		ThankYouPrompt: v.ThankYouPrompt,
		CreatedAt:      v.CreatedAt,
	}
	var qs []struct {
		Position      int    `json:"position"`
		Key           string `json:"key"`
		Prompt        string `json:"prompt"`
		AllowedDigits string `json:"allowed_digits"`
		RangeMin      *int   `json:"range_min"`
		RangeMax      *int   `json:"range_max"`
		Required      bool   `json:"required"`
	}
	if err := json.Unmarshal(row.Questions, &qs); err != nil {
		return ivr.Survey{}, fmt.Errorf("read questions: %w", err)
	}
	for _, q := range qs {
		out := ivr.Question{
			Position:      q.Position,
			Key:           q.Key,
			Prompt:        q.Prompt,
			AllowedDigits: q.AllowedDigits,
			Required:      q.Required,
		}
		if q.RangeMin != nil && q.RangeMax != nil {
			out.Range = &ivr.AnswerRange{Min: *q.RangeMin, Max: *q.RangeMax}
		}
		s.Questions = append(s.Questions, out)
	}
	return s, nil
}
