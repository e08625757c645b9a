package db_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ivrhq/ivr/db"
	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestSchemaOfANewDatabase(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := db.NewSchema(stdlib.OpenDBFromPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	latest, _ := db.LatestVersion()

	current, newest, err := s.Versions(ctx)
	if err != nil || current != 0 || newest != latest {
		t.Fatalf("never migrated: versions %d, %d, %v; want 0, %d", current, newest, err, latest)
	}
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	if err := s.Prepare(ctx, false, logger); err == nil || !strings.Contains(err.Error(), "ivr migrate up") {
		t.Errorf("schema behind, no -migrate: err = %v, want advice to run ivr migrate up", err)
	}
	if err := s.Prepare(ctx, true, logger); err != nil {
		t.Fatal(err)
	}
	if current, _, err := s.Versions(ctx); err != nil || current != latest {
		t.Errorf("after -migrate: schema at %d (%v), want %d", current, err, latest)
	}
	if !strings.Contains(log.String(), "msg=migrated") {
		t.Errorf("no log line about the migration:\n%s", log.String())
	}
}
