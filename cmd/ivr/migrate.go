package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/pressly/goose/v3"

	"github.com/ivrhq/ivr/db"
)

const migrateSummary = `Apply or roll back the embedded database migrations.

Actions:
  up          apply every pending migration
  up-to N     apply the pending migrations up to version N
  down        roll back the newest applied migration
  down-to N   roll back the migrations newer than version N (0: all)
  redo        roll back the newest applied migration and apply it again
  status      list the migrations and whether each is applied

Migrations hold a PostgreSQL advisory lock while they run, so two processes
migrating the same database take turns.`

// runMigrate applies or rolls back the embedded migrations.
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "ACTION [N]", migrateSummary)
	dbf := fs.database()
	pos, err := fs.parse(args, 0, 2)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fs.fail("no action given")
	}
	action, target, err := migrateAction(pos)
	if err != nil {
		return err
	}
	st, err := dbf.Store(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := db.NewMigrator(st.SQL())
	if err != nil {
		return err
	}

	var results []*goose.MigrationResult
	switch action {
	case "status":
		return printStatus(ctx, e.stdout, p)
	case "up":
		results, err = p.Up(ctx)
	case "up-to":
		results, err = p.UpTo(ctx, target)
	case "down":
		var r *goose.MigrationResult
		r, err = p.Down(ctx)
		results = append(results, r)
	case "down-to":
		results, err = p.DownTo(ctx, target)
	case "redo":
		var down, up *goose.MigrationResult
		if down, err = p.Down(ctx); err == nil {
			results = append(results, down)
			up, err = p.ApplyVersion(ctx, down.Source.Version, true)
			results = append(results, up)
		}
	}
	if errors.Is(err, goose.ErrNoNextVersion) && (action == "down" || action == "redo") {
		fmt.Fprintln(e.stdout, "no migration is applied: nothing to roll back")
		return nil
	}
	printResults(e.stdout, results)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", action, err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", action, err)
	}
	latest, _ := db.LatestVersion()
	fmt.Fprintf(e.stdout, "schema version %d (newest migration %d)\n", current, latest)
	return nil
}

// migrateAction checks the positional arguments of migrate: an action, and
// the version N of up-to and down-to.
func migrateAction(pos []string) (action string, target int64, err error) {
	action = pos[0]
	switch action {
	case "up", "down", "redo", "status":
		if len(pos) != 1 {
			return "", 0, usageError{fmt.Sprintf("migrate %s takes no arguments", action)}
		}
	case "up-to", "down-to":
		if len(pos) != 2 {
			return "", 0, usageError{fmt.Sprintf("migrate %s takes one version number", action)}
		}
		target, err = strconv.ParseInt(pos[1], 10, 64)
		if err != nil || target < 0 {
			return "", 0, usageError{fmt.Sprintf("migrate %s: %q is not a version number", action, pos[1])}
		}
	default:
		return "", 0, usageError{fmt.Sprintf("migrate: unknown action %q (want up, up-to, down, down-to, redo or status)", action)}
	}
	return action, target, nil
}

func printResults(w io.Writer, results []*goose.MigrationResult) {
	if len(results) == 0 {
		fmt.Fprintln(w, "no migrations to apply")
	}
	for _, r := range results {
		if r == nil {
			continue
		}
		state := "OK"
		if r.Error != nil {
			state = "FAILED"
		}
		fmt.Fprintf(w, "%-6s %-4s %s (%s)\n", state, r.Direction, r.Source.Path, r.Duration.Round(100_000))
	}
}

func printStatus(ctx context.Context, w io.Writer, p *goose.Provider) error {
	status, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("migrate status: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tAPPLIED AT\tFILE")
	for _, s := range status {
		applied := "-"
		if !s.AppliedAt.IsZero() {
			applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, applied, s.Source.Path)
	}
	return tw.Flush()
}
