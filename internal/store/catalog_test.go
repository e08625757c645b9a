package store_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

func sampleMenu(key string) ivr.Menu {
	return ivr.Menu{
		Key:           key,
		Prompt:        "ivr-main-menu",
		InvalidPrompt: "pm-invalid-option",
		TimeoutPrompt: "please-try-again",
		Timeout:       5 * time.Second,
		MaxDigits:     1,
		MaxAttempts:   3,
		FailureAction: ivr.Action{Kind: ivr.ActionOperator},
		Options: []ivr.MenuOption{
			{Digits: "1", Action: ivr.Action{Kind: ivr.ActionPlayMessages}, Label: "messages"},
			{Digits: "2", Action: ivr.Action{Kind: ivr.ActionSurvey, Target: "csat"}, Label: "survey"},
			{Digits: "0", Action: ivr.Action{Kind: ivr.ActionTransfer, Target: "PJSIP/operator"}, Label: "operator"},
		},
	}
}

// publishedMenu creates and publishes a version of menu key.
func publishedMenu(t testing.TB, db *store.DB, key string) ivr.Menu {
	t.Helper()
	ctx := context.Background()
	m, err := db.CreateMenuVersion(ctx, sampleMenu(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PublishMenu(ctx, m.VersionID); err != nil {
		t.Fatal(err)
	}
	m.Published = true
	return m
}

func TestMenus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)

	_, err := db.PublishedMenu(ctx, "main")
	wantIs(t, err, ivr.ErrNotFound)

	v1, err := db.CreateMenuVersion(ctx, sampleMenu("main"))
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.VersionID == 0 || v1.Published {
		t.Fatalf("first version = %+v", v1)
	}
	// A draft is not live, and may change.
	_, err = db.PublishedMenu(ctx, "main")
	wantIs(t, err, ivr.ErrNotFound)
	v1.Prompt = "ivr-main-menu-2"
	v1.Options = append(v1.Options, ivr.MenuOption{Digits: "*", Action: ivr.Action{Kind: ivr.ActionRepeat}})
	if err := db.UpdateMenuDraft(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if err := db.PublishMenu(ctx, v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if err := db.PublishMenu(ctx, v1.VersionID); err != nil {
		t.Fatalf("publishing again: %v", err)
	}
	live, err := db.PublishedMenu(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	want := v1
	want.Published = true
	want.CreatedAt = live.CreatedAt
	if !reflect.DeepEqual(live, want) {
		t.Errorf("live menu\n got %+v\nwant %+v", live, want)
	}

	// A published version cannot be changed, not even its options.
	changed := live
	changed.Prompt = "something-else"
	wantIs(t, db.UpdateMenuDraft(ctx, changed), ivr.ErrPublished)
	if again, _ := db.PublishedMenu(ctx, "main"); again.Prompt != "ivr-main-menu-2" || len(again.Options) != 4 {
		t.Errorf("published menu changed: %+v", again)
	}

	// A new draft leaves the live version alone until it is published.
	v2, err := db.CreateMenuVersion(ctx, sampleMenu("main"))
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 {
		t.Fatalf("second version numbered %d", v2.Version)
	}
	if live, _ = db.PublishedMenu(ctx, "main"); live.Version != 1 {
		t.Errorf("live version %d, want 1 while 2 is a draft", live.Version)
	}
	if err := db.PublishMenu(ctx, v2.VersionID); err != nil {
		t.Fatal(err)
	}
	if live, _ = db.PublishedMenu(ctx, "main"); live.Version != 2 || len(live.Options) != 3 {
		t.Errorf("live = %+v, want version 2", live)
	}
	if old, err := db.MenuVersion(ctx, "main", 1); err != nil || old.VersionID != v1.VersionID || !old.Published {
		t.Errorf("version 1 = %+v, %v", old, err)
	}
	_, err = db.MenuVersion(ctx, "main", 7)
	wantIs(t, err, ivr.ErrNotFound)
	wantIs(t, db.PublishMenu(ctx, 987654), ivr.ErrNotFound)
	wantIs(t, db.UpdateMenuDraft(ctx, ivr.Menu{VersionID: 987654, Timeout: time.Second, MaxDigits: 1, MaxAttempts: 1}), ivr.ErrNotFound)

	// Two options on the same digits are refused, and nothing is stored.
	dup := sampleMenu("dup")
	dup.Options = append(dup.Options, ivr.MenuOption{Digits: "1", Action: ivr.Action{Kind: ivr.ActionHangup}})
	_, err = db.CreateMenuVersion(ctx, dup)
	wantConflict(t, err, "menu_options_pkey")
	_, err = db.MenuVersion(ctx, "dup", 1)
	wantIs(t, err, ivr.ErrNotFound)
}

func TestSurveys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)

	s := ivr.Survey{
		Key:            "csat",
		IntroPrompt:    "survey-intro",
		ThankYouPrompt: "survey-thanks",
		Questions: []ivr.Question{
			{Key: "satisfied", Prompt: "q-satisfied", AllowedDigits: "12345", Required: true},
			{Key: "age", Prompt: "q-age", Range: &ivr.AnswerRange{Min: 18, Max: 120}},
		},
	}
	v1, err := db.CreateSurveyVersion(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.PublishedSurvey(ctx, "csat")
	wantIs(t, err, ivr.ErrNotFound)
	v1.Questions = append(v1.Questions, ivr.Question{Key: "again", Prompt: "q-again", AllowedDigits: "12"})
	if err := db.UpdateSurveyDraft(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if err := db.PublishSurvey(ctx, v1.VersionID); err != nil {
		t.Fatal(err)
	}
	live, err := db.PublishedSurvey(ctx, "csat")
	if err != nil {
		t.Fatal(err)
	}
	want := v1
	want.Published = true
	want.CreatedAt = live.CreatedAt
	want.Questions[2].Position = 3
	if !reflect.DeepEqual(live, want) {
		t.Errorf("live survey\n got %+v\nwant %+v", live, want)
	}
	wantIs(t, db.UpdateSurveyDraft(ctx, live), ivr.ErrPublished)
	wantIs(t, db.PublishSurvey(ctx, 987654), ivr.ErrNotFound)

	// A question with both a digit set and a range is refused.
	bad := s
	bad.Key = "bad"
	bad.Questions = []ivr.Question{{Key: "x", Prompt: "p", AllowedDigits: "1", Range: &ivr.AnswerRange{Min: 1, Max: 2}}}
	if _, err := db.CreateSurveyVersion(ctx, bad); err == nil {
		t.Error("stored a question with both a digit set and a range")
	}
}

// TestPublishedMenuConcurrent reads live menus from many calls at once: each
// gets its own key's live version or ivr.ErrNotFound, and a version published
// before a read is asked is seen.
func TestPublishedMenuConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	keys := []string{"main", "dept", "none"}
	want := map[string]int64{"main": publishedMenu(t, db, "main").VersionID, "dept": publishedMenu(t, db, "dept").VersionID}
	readAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 90 {
			wg.Go(func() {
				key := keys[i%len(keys)]
				m, err := db.PublishedMenu(ctx, key)
				switch {
				case want[key] == 0 && !errors.Is(err, ivr.ErrNotFound):
					t.Errorf("%s: %+v, %v, want not found", key, m, err)
				case want[key] != 0 && (err != nil || m.VersionID != want[key] || m.Key != key):
					t.Errorf("%s: version %d, %v, want %d", key, m.VersionID, err, want[key])
				}
			})
		}
		wg.Wait()
	}
	readAll()
	want["main"] = publishedMenu(t, db, "main").VersionID
	readAll()
}
