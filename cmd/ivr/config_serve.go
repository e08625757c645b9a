package main

import (
	"errors"
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
	databaseURL  string
	databasePass string
	pinKey       string
	maxCalls     int
	allowed      prefixList
	drainTimeout time.Duration
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
func (c *serveConfig) register(s *settings) {
	s.String(&c.agiAddr, "agi-addr", "IVR_AGI_ADDR", ":4573", "address the FastAGI server listens on")
	s.String(&c.httpAddr, "http-addr", "IVR_HTTP_ADDR", ":8080", "address of the HTTP listener for /metrics, /healthz and /readyz; off (or an empty -http-addr) turns it off")
	s.Secret(&c.databaseURL, "database-url", "DATABASE_URL", "PostgreSQL connection URL (postgres://user@host:5432/ivr?sslmode=... or key=value form); pool settings such as pool_max_conns go here too")
	s.Secret(&c.databasePass, "database-password", "IVR_DATABASE_PASSWORD", "database password, replacing any password in the URL")
	s.Secret(&c.pinKey, "pin-key", "IVR_PIN_KEY", "PIN hashing keys as id:base64key[,id:base64key...], the first one current (at least 16 bytes each)")
	s.Int(&c.maxCalls, "max-calls", "IVR_MAX_CALLS", 500, "most calls served at once; a call over it is refused at once so the dialplan sees AGISTATUS=FAILURE (0: no limit)")
	c.allowed = loopback()
	s.add(&c.allowed, "networks", "allow", "IVR_ALLOW", "networks allowed to connect to the FastAGI port, comma-separated (10.0.0.0/8,192.0.2.7); name the Asterisk hosts, or 0.0.0.0/0,::/0 to allow every host; others get FAILURE unserved")
	s.Duration(&c.replyTimeout, "reply-timeout", "IVR_REPLY_TIMEOUT", agi.DefaultReplyTimeout, "how long Asterisk may take to answer a command it answers at once (ANSWER, GET and SET VARIABLE, VERBOSE ...); past it the call is closed as timeout")
	s.Duration(&c.promptTimeout, "prompt-timeout", "IVR_PROMPT_TIMEOUT", agi.DefaultPromptTimeout, "how long playing a prompt may take; commands that wait for keys or record get it on top of their own wait; past it the call is closed as timeout")
	s.Duration(&c.drainTimeout, "drain-timeout", "IVR_DRAIN_TIMEOUT", 30*time.Second, "on SIGTERM or SIGINT, how long calls in progress may go on before they are closed as a server shutdown")
	s.Bool(&c.migrate, "migrate", "IVR_MIGRATE", false, "apply pending database migrations before serving, instead of refusing to start")
	s.String(&c.logFormat, "log-format", "IVR_LOG_FORMAT", "text", "log format: text or json")
	s.String(&c.logLevel, "log-level", "IVR_LOG_LEVEL", "info", "lowest log level written: debug, info, warn or error")
	s.Bool(&c.agiDebug, "agi-debug", "IVR_AGI_DEBUG", false, "log every FastAGI command and reply at debug level, whatever -log-level says (PINs masked)")

	s.String(&c.ivr.DefaultRegion, "region", "IVR_REGION", "US", "ISO 3166 region for reading caller IDs without a country code")
	s.Duration(&c.ivr.LookupTimeout, "lookup-timeout", "IVR_LOOKUP_TIMEOUT", 500*time.Millisecond, "bound on the database work of the lookup route; past it IVR_LOOKUP_ERROR=timeout")
	s.Int(&c.lookupCache, "lookup-cache", "IVR_LOOKUP_CACHE", store.DefaultCallerCacheSize, "phone numbers the lookup route keeps in memory, kept fresh by LISTEN on its own database connection; 0 turns the cache off (needed behind a pooler in transaction mode, which does not pass notifications on)")
	s.Duration(&c.ivr.StoreTimeout, "store-timeout", "IVR_STORE_TIMEOUT", 5*time.Second, "bound on each database operation of the ivr route")
	s.String(&c.ivr.MenuKey, "menu", "IVR_MENU", "main", "menu the ivr route starts with when the dialplan names none")
	s.Bool(&c.catalogCache, "catalog-cache", "IVR_CATALOG_CACHE", true, "keep the live menus and surveys in memory, kept fresh by LISTEN on their own database connection; false turns the cache off (needed behind a pooler in transaction mode, which does not pass notifications on)")
	s.Duration(&c.ivr.InputTimeout, "input-timeout", "IVR_INPUT_TIMEOUT", 6*time.Second, "time to enter each digit of an account number or PIN")
	s.Int(&c.ivr.MaxAccountTries, "max-account-tries", "IVR_MAX_ACCOUNT_TRIES", 3, "account numbers an unknown caller may try in one call")
	s.Int(&c.ivr.MaxPINTries, "max-pin-tries", "IVR_MAX_PIN_TRIES", 3, "PINs a caller may try in one call")
	s.Int(&c.ivr.LockAfter, "lock-after", "IVR_LOCK_AFTER", 5, "consecutive failed PINs, across calls, that lock an account")
	s.Duration(&c.ivr.LockBase, "lock-base", "IVR_LOCK_BASE", 5*time.Minute, "first lockout; each further failure doubles it")
	s.Duration(&c.ivr.LockMax, "lock-max", "IVR_LOCK_MAX", 24*time.Hour, "longest lockout")
	s.Duration(&c.ivr.RefusalTime, "refusal-time", "IVR_REFUSAL_TIME", 250*time.Millisecond,
		"shortest time from a PIN to the prompt refusing it, so a wrong account and a wrong PIN take as long (negative: off)")
	s.String(&c.ivr.RecordingDir, "recording-dir", "IVR_RECORDING_DIR", "/var/spool/asterisk/ivr", "absolute directory on the Asterisk host where recordings are written")
	s.String(&c.ivr.RecordFormat, "record-format", "IVR_RECORD_FORMAT", "wav", "Asterisk file format of recordings")
	s.Duration(&c.ivr.RecordMaxDuration, "record-max", "IVR_RECORD_MAX", 3*time.Minute, "longest recording")
	s.Duration(&c.ivr.RecordSilence, "record-silence", "IVR_RECORD_SILENCE", 5*time.Second, "silence that ends a recording (negative: no silence detection)")
}

// check reports the first setting that cannot work. needDB is false for ivr
// dev, which starts its own database when none is given.
func (c *serveConfig) check(needDB bool) error {
	switch {
	case needDB && c.databaseURL == "":
		return usageError{"no database: set DATABASE_URL (or -database-url or -database-url-file)"}
	case c.maxCalls < 0:
		return usageError{"-max-calls must not be negative"}
	case len(c.allowed) == 0:
		return usageError{"-allow is empty: name the networks Asterisk connects from, or 0.0.0.0/0,::/0 to allow every host"}
	case c.replyTimeout <= 0 || c.promptTimeout <= 0:
		return usageError{"-reply-timeout and -prompt-timeout must be positive"}
	case c.drainTimeout < 0:
		return usageError{"-drain-timeout must not be negative"}
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
	k, err := c.pinKeyring()
	if err != nil {
		return nil, "", err
	}
	dsn, err := withPassword(c.databaseURL, c.databasePass)
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

// pinKeyring parses -pin-key.
func (c *serveConfig) pinKeyring() (*ivr.Keyring, error) {
	if c.pinKey == "" {
		return nil, usageError{"no PIN key: set IVR_PIN_KEY_FILE (or -pin-key-file) to a file holding id:base64key; make one with: printf 'k1:%s\\n' \"$(head -c 32 /dev/urandom | base64)\""}
	}
	k, err := ivr.ParseKeyring(c.pinKey)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "pin keyring: ") + " (in -pin-key)")
	}
	return k, nil
}

// httpOn reports whether -http-addr asks for the HTTP listener. "off" turns it
// off where an empty value cannot: an empty environment variable is the same
// as an unset one.
func (c *serveConfig) httpOn() bool {
	return c.httpAddr != "" && !strings.EqualFold(c.httpAddr, "off")
}
