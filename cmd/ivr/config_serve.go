package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/phone"
	"github.com/ivrhq/ivr/internal/store"
)

// serveConfig is the configuration of ivr serve (and of ivr dev, which adds a
// few settings of its own).
type serveConfig struct {
	agiAddr      string
	httpAddr     string
	db           *dbFlags
	pinKey       string
	maxCalls     int
	allowed      prefixList
	drainTimeout time.Duration
	lostAfter    time.Duration
	rollUpEvery  time.Duration
	rollUpGrace  time.Duration
	migrate      bool
	lookupCache  int
	catalogCache bool

	replyTimeout  time.Duration // of the commands Asterisk answers at once
	promptTimeout time.Duration // for playing prompts

	logFormat string
	logLevel  string
	agiDebug  bool

	ivr ivr.Config
}

// register adds the serve settings to s. The defaults are those of the
// production server.
func (c *serveConfig) register(s *cmdFlags) {
	s.StringVar(&c.agiAddr, "agi-addr", ":4573", "address the FastAGI server listens on")
	s.StringVar(&c.httpAddr, "http-addr", ":8080", "address of the HTTP listener for /metrics, /healthz and /readyz; off (or an empty -http-addr) turns it off")
	c.db = s.database()
	s.pinKey(&c.pinKey)
	s.IntVar(&c.maxCalls, "max-calls", 500, "most calls served at once; a call over it is refused at once so the dialplan sees AGISTATUS=FAILURE (0: no limit)")
	c.allowed = loopback()
	s.Var(&c.allowed, "allow", "networks allowed to connect to the FastAGI port, comma-separated (10.0.0.0/8,192.0.2.7); name the Asterisk hosts, or 0.0.0.0/0,::/0 to allow every host; others get FAILURE unserved")
	s.DurationVar(&c.replyTimeout, "reply-timeout", agi.DefaultReplyTimeout, "how long Asterisk may take to answer a command it answers at once (ANSWER, GET and SET VARIABLE, VERBOSE ...); past it the call is closed as timeout")
	s.DurationVar(&c.promptTimeout, "prompt-timeout", agi.DefaultPromptTimeout, "how long playing a prompt may take; commands that wait for keys or record get it on top of their own wait; past it the call is closed as timeout")
	s.DurationVar(&c.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM or SIGINT, how long calls in progress may go on before they are closed as a server shutdown")
	s.DurationVar(&c.lostAfter, "lost-after", defaultLostAfter, "age past which a call row still open was left by an instance that died: a sweep at start-up and every so often closes it as lost (keep it above the longest call)")
	s.DurationVar(&c.rollUpEvery, "rollup-every", defaultRollUpEvery, "how often to roll up the UTC days that became complete into the reports' daily summaries (every instance may: each day is rolled up once); 0 turns it off, leaving it to ivr maintain")
	s.DurationVar(&c.rollUpGrace, "rollup-grace", store.DefaultRollUpGrace, "how long after the end of a UTC day it is complete and rolled up; above -lost-after plus one sweep, so the calls of the day are closed")
	s.BoolVar(&c.migrate, "migrate", false, "apply pending database migrations before serving, instead of refusing to start")
	s.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	s.StringVar(&c.logLevel, "log-level", "info", "lowest log level written: debug, info, warn or error")
	s.BoolVar(&c.agiDebug, "agi-debug", false, "log every FastAGI command and reply at debug level, whatever -log-level says (PINs masked)")

	s.StringVar(&c.ivr.DefaultRegion, "region", "US", "ISO 3166 region for reading caller IDs and dialled numbers without a country code")
	s.DurationVar(&c.ivr.LookupTimeout, "lookup-timeout", 500*time.Millisecond, "how long the lookup route keeps the dialplan waiting; past it IVR_LOOKUP_ERROR=timeout (the call's row is written in the background)")
	s.IntVar(&c.lookupCache, "lookup-cache", store.DefaultCallerCacheSize, "phone numbers the lookup route keeps in memory, kept fresh by LISTEN on its own database connection; 0 turns the cache off (needed behind a pooler in transaction mode, which does not pass notifications on)")
	s.DurationVar(&c.ivr.StoreTimeout, "store-timeout", 5*time.Second, "bound on each database operation of the ivr route")
	s.StringVar(&c.ivr.MenuKey, "menu", "main", "menu the ivr route starts with when the dialplan names none and the dialled number is not in the numbers table")
	s.BoolVar(&c.catalogCache, "catalog-cache", true, "keep the live menus and surveys in memory, kept fresh by LISTEN on their own database connection; false turns the cache off (needed behind a pooler in transaction mode, which does not pass notifications on)")
	s.DurationVar(&c.ivr.InputTimeout, "input-timeout", 6*time.Second, "time to enter each digit of an account number or PIN")
	s.IntVar(&c.ivr.MaxAccountTries, "max-account-tries", 3, "account numbers an unknown caller may try in one call")
	s.IntVar(&c.ivr.MaxPINTries, "max-pin-tries", 3, "PINs a caller may try in one call")
	s.IntVar(&c.ivr.LockAfter, "lock-after", 5, "consecutive failed PINs, across calls, that lock an account")
	s.DurationVar(&c.ivr.LockBase, "lock-base", 5*time.Minute, "first lockout; each further failure doubles it")
	s.DurationVar(&c.ivr.LockMax, "lock-max", 24*time.Hour, "longest lockout")
	s.DurationVar(&c.ivr.RefusalTime, "refusal-time", 250*time.Millisecond,
		"shortest time from a PIN to the prompt refusing it, so a wrong account and a wrong PIN take as long (negative: off)")
	s.StringVar(&c.ivr.RecordingDir, "recording-dir", "/var/spool/asterisk/ivr", "absolute directory on the Asterisk host where recordings are written")
	s.StringVar(&c.ivr.RecordFormat, "record-format", "wav", "Asterisk file format of recordings")
	s.DurationVar(&c.ivr.RecordMaxDuration, "record-max", 3*time.Minute, "longest recording")
	s.DurationVar(&c.ivr.RecordSilence, "record-silence", 5*time.Second, "silence that ends a recording (negative: no silence detection)")
}

// check reports the first setting that cannot work. needDB is false for ivr
// dev, which starts its own database when none is given.
func (c *serveConfig) check(needDB bool) error {
	switch {
	case needDB && !c.db.given():
		_, err := c.db.URL()
		return err
	case c.maxCalls < 0:
		return usageError{"-max-calls must not be negative"}
	case len(c.allowed) == 0:
		return usageError{"-allow is empty: name the networks Asterisk connects from, or 0.0.0.0/0,::/0 to allow every host"}
	case c.replyTimeout <= 0 || c.promptTimeout <= 0:
		return usageError{"-reply-timeout and -prompt-timeout must be positive"}
	case c.drainTimeout < 0:
		return usageError{"-drain-timeout must not be negative"}
	case c.lostAfter <= 0:
		return usageError{"-lost-after must be positive"}
	case c.rollUpEvery < 0:
		return usageError{"-rollup-every must not be negative"}
	case c.rollUpGrace < c.lostAfter+sweepEvery(c.lostAfter):
		return usageError{fmt.Sprintf("-rollup-grace %s must be at least -lost-after plus one sweep (%s), so that a day's calls are closed before it is rolled up",
			c.rollUpGrace, c.lostAfter+sweepEvery(c.lostAfter))}
	case c.lookupCache < 0:
		return usageError{"-lookup-cache must not be negative"}
	case c.logFormat != "text" && c.logFormat != "json":
		return usageError{fmt.Sprintf("-log-format %q: want text or json", c.logFormat)}
	case phone.CheckRegion(c.ivr.DefaultRegion) != nil:
		return usageError{fmt.Sprintf("-region (IVR_REGION): %v", phone.CheckRegion(c.ivr.DefaultRegion))}
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.logLevel)); err != nil {
		return usageError{fmt.Sprintf("-log-level %q: want debug, info, warn or error", c.logLevel)}
	}
	return nil
}

// credentials returns the PIN keyring and the database URL with the password
// of -database-password.
func (c *serveConfig) credentials() (*ivr.Keyring, string, error) {
	k, err := pinKeyring(c.pinKey)
	if err != nil {
		return nil, "", err
	}
	dsn, err := withPassword(c.db.url, c.db.password)
	if err != nil {
		return nil, "", err
	}
	return k, dsn, nil
}

// loggers builds the process logger and the FastAGI server's logger on w. The
// second one lets protocol lines through at debug level when -agi-debug is on.
func (c *serveConfig) loggers(w io.Writer) (logger, agiLogger *slog.Logger) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.logLevel)) // checked by check
	logger = newLogger(w, c.logFormat, level)
	agiLogger = logger
	if c.agiDebug && level > slog.LevelDebug {
		agiLogger = newLogger(w, c.logFormat, slog.LevelDebug)
	}
	return logger, agiLogger.With("component", "agi")
}

// newLogger returns a text or JSON logger on w writing records at level and above.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// httpOn reports whether -http-addr asks for the HTTP listener. "off" turns it
// off where an empty value cannot: an empty environment variable is the same
// as an unset one.
func (c *serveConfig) httpOn() bool {
	return c.httpAddr != "" && !strings.EqualFold(c.httpAddr, "off")
}
