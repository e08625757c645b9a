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
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ivr:", err)
		}
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

// command is one subcommand of ivr.
type command struct {
	name    string
	summary string
	hidden  bool
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands in the order -h shows them.
func commands() []command {
	return []command{
		{name: "serve", summary: "run the FastAGI server and its HTTP endpoints", run: runServe},
		{name: "dev", summary: "run the server on a private local PostgreSQL with demo data", run: runDev},
		{name: "migrate", summary: "apply or roll back database migrations (up|down|status|redo)", run: runMigrate},
		{name: "callers", summary: "manage callers: add|list|show|update|delete|set-pin|unlock|import|export", run: runCallers},
		{name: "menus", summary: "menus as code: apply|list|show|diff|publish|export", run: runMenus},
		{name: "surveys", summary: "surveys as code: apply|list|show|diff|publish|export", run: runSurveys},
		{name: "recordings", summary: "recordings: list|show|delete|purge|verify", run: runRecordings},
		{name: "report", summary: "run a report over the stored calls", run: runReport},
		{name: "call", summary: "place a simulated call against a running server", run: runCall},
		{name: "bench", summary: "load a running server with simulated calls", run: runBench},
		{name: "version", summary: "print the version and the schema version it needs", run: runVersion},
		{name: "gen-data", summary: "fill an empty database with generated calls for measuring reports", hidden: true, run: runGenData},
	}
}

// run is main without the process: it parses args and runs one subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ivr <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ivr <command> -h' for the flags of a command.")
}

// exitCode maps an error to the process exit status: 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// usageError marks an error in how a command was called.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }
