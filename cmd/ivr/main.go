// Command ivr is a FastAGI IVR server for Asterisk backed by PostgreSQL, and the
// tools around it: migrations, the callers and menus as data, reports, a
// simulator that plays Asterisk, and a load generator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ivr:", err)
		os.Exit(exitCode(err))
	}
}

// env is what every subcommand gets from main: the environment and the standard
// streams. Tests build one over buffers.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commands lists the subcommands in the order -h shows them. gen-data has no
// summary: it runs but is not listed.
func commands() []subcommand {
	return []subcommand{
		{"serve", "", "run the FastAGI server and its HTTP endpoints", runServe},
		{"dev", "", "run the server on a private local PostgreSQL with demo data", runDev},
		{"migrate", "", "apply or roll back database migrations (up|down|status|redo)", runMigrate},
		{"callers", "", "manage callers: add|list|show|update|delete|set-pin|unlock|import|export", runCallers},
		{"menus", "", "menus as code: apply|list|show|diff|publish|export", runMenus},
		{"surveys", "", "surveys as code: apply|list|show|diff|publish|export", runSurveys},
		{"schedules", "", "opening hours as code: apply|list|show|diff|export|check", runSchedules},
		{"numbers", "", "dialled numbers as code: apply|list|show|diff|export", runNumbers},
		{"recordings", "", "recordings: list|show|delete|purge|verify", runRecordings},
		{"prompts", "", "prompts written as text: list|render|verify", runPrompts},
		{"maintain", "", "make the journal's coming partitions and roll up the reports' daily summaries", runMaintain},
		{"retention", "", "remove months of calls and their recordings older than --keep", runRetention},
		{"report", "", "run a report over the stored calls", runReport},
		{"call", "", "place a simulated call against a running server", runCall},
		{"bench", "", "load a running server with simulated calls", runBench},
		{"version", "", "print the version and the schema version it needs", runVersion},
		{"gen-data", "", "", runGenData},
	}
}

// run is main without the process: it parses args and runs one subcommand. A
// request for help is not an error.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := dispatch(ctx, e, "ivr", commands(), args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// exitCode maps an error to the process exit status: 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError marks an error in how a command was called.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }
