package main

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/pglocal"
	"github.com/ivrhq/ivr/internal/prompts"
	"github.com/ivrhq/ivr/internal/store"
)

// devConfig is the configuration of ivr dev: serve's settings and a data
// directory for the private PostgreSQL and the generated PIN key.
type devConfig struct {
	serveConfig
	dataDir string
	demo    bool
	reset   bool
}

// register adds the dev settings to s: every serve setting, then dev's own.
func (c *devConfig) register(s *cmdFlags) {
	c.serveConfig.register(s)
	s.StringVar(&c.dataDir, "data-dir", ".ivr", "directory kept between runs for the private PostgreSQL (pgdata/) and the generated PIN key (pin.key)")
	s.BoolVar(&c.demo, "demo", true, "load the demo callers, menus, survey, schedules and numbers into a new database (a new data directory, or a DATABASE_URL database without callers); later runs keep what you changed")
	s.BoolVar(&c.reset, "reset", false, "start over: delete the private PostgreSQL's data and load the demo data again (never touches a DATABASE_URL database)")
}

// devSummary is the text of ivr dev -h.
const devSummary = "Run the server on a private local PostgreSQL (kept in -data-dir; or the database of DATABASE_URL) " +
	"with migrations applied and the demo callers, menus, survey, schedules and numbers loaded. Stop with Ctrl-C."

// runDev is the embedded default behind the README's run command: a private
// PostgreSQL (unless DATABASE_URL names one), migrations, demo data, and the
// server, with what to paste into Asterisk printed on stdout.
func runDev(ctx context.Context, e *env, args []string) error {
	var c devConfig
	f := newFlags(e, "dev", "", devSummary)
	c.register(f)
	log, agiLog, err := parseSettings(f, args, &c.serveConfig, false)
	if err != nil {
		return err
	}
	dataDir, err := filepath.Abs(c.dataDir)
	if err != nil {
		return err
	}
	// 0755: when run as root, the PostgreSQL server user must reach pgdata/.
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if c.pinKey == "" {
		if c.pinKey, err = devPINKey(filepath.Join(dataDir, "pin.key")); err != nil {
			return err
		}
	}
	keyring, dsn, err := c.credentials()
	if err != nil {
		return err
	}
	own := dsn == "" // the private PostgreSQL of dataDir
	fresh := false   // a database this run made
	if own {
		pgdata := filepath.Join(dataDir, "pgdata")
		if c.reset {
			if err := os.RemoveAll(pgdata); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
		}
		_, err := os.Stat(filepath.Join(pgdata, "PG_VERSION"))
		fresh = errors.Is(err, os.ErrNotExist)
		pg, url, err := startDevPostgres(ctx, dataDir)
		if err != nil {
			return err
		}
		defer pg.Stop()
		log.Info("postgresql started", "data_dir", pg.DataDir())
		dsn = url
	} else {
		if c.reset {
			return usageError{"dev: --reset starts the private PostgreSQL over and never deletes a DATABASE_URL database: unset DATABASE_URL to use the private one"}
		}
		fmt.Fprintf(e.stderr, "ivr dev: using the database of DATABASE_URL (%s), not a private PostgreSQL: unset DATABASE_URL for the one in %s\n",
			describeDatabase(dsn), dataDir)
	}
	var demo []demoCaller
	seed := func(ctx context.Context, st *store.DB) (err error) {
		if !c.demo {
			return nil
		}
		if !own {
			// A database of the user's: demo data only while it has no callers.
			cs, err := st.ListCallers(ctx, store.CallerFilter{Limit: 1})
			if err != nil {
				return fmt.Errorf("look for callers: %w", err)
			}
			fresh = len(cs) == 0
		}
		if !fresh {
			return nil
		}
		if demo, err = loadDemo(ctx, e, st, dsn, keyring, sampleDirs, filepath.Join(dataDir, "prompts")); err != nil {
			return fmt.Errorf("load the demo data: %w", err)
		}
		return nil
	}
	welcome := func(srv *server) {
		printWelcome(e.stdout, srv.agiLn.Addr(), srv.httpLn, srv.cfg.allowed, demo)
		if own {
			printDatabase(e.stdout, dsn, demo == nil && c.demo)
		}
		fmt.Fprintf(e.stdout, "\nStop with Ctrl-C; the data stays in the data directory for the next run.\n\n")
	}
	return serveStore(ctx, &c.serveConfig, dsn, keyring, log, agiLog, true, seed, welcome)
}

// devPINKey returns the PIN key kept in path, made on the first run.
func devPINKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read the PIN key: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	spec := "dev:" + base64.StdEncoding.EncodeToString(key)
	if err := os.WriteFile(path, []byte(spec+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the PIN key: %w", err)
	}
	return spec, nil
}

// startDevPostgres starts the private PostgreSQL of dataDir/pgdata and creates
// its ivr database. The socket lives in dataDir/run unless that path is too
// long for a unix socket; then in a short temporary directory.
func startDevPostgres(ctx context.Context, dataDir string) (*pglocal.Server, string, error) {
	cfg := pglocal.Config{DataDir: filepath.Join(dataDir, "pgdata"), SocketDir: filepath.Join(dataDir, "run")}
	// sun_path holds 108 bytes, "/.s.PGSQL.5432" and its NUL included.
	if len(cfg.SocketDir) > 90 {
		dir, err := pglocal.TempDir("ivr-dev-")
		if err != nil {
			return nil, "", err
		}
		cfg.SocketDir = dir
	}
	pg, err := pglocal.Start(ctx, cfg)
	if errors.Is(err, pglocal.ErrNotInstalled) {
		return nil, "", fmt.Errorf("%w\n\n"+
			"ivr dev runs a private PostgreSQL from the server binaries (initdb, postgres). Either:\n"+
			"  - install them: apt-get install postgresql (Debian, Ubuntu), dnf install postgresql-server (Fedora),\n"+
			"    brew install postgresql (macOS); no service needs to run;\n"+
			"  - or set DATABASE_URL to a PostgreSQL you have;\n"+
			"  - or run the whole stack with docker compose up (see the README)", err)
	}
	if err != nil && os.Geteuid() == 0 {
		return nil, "", fmt.Errorf("%w\n\nAs root, ivr dev runs PostgreSQL as an unprivileged user, who must be able to enter "+
			"the data directory: run it as a normal user, or give -data-dir a directory every user can enter "+
			"(such as -data-dir /var/tmp/ivr-dev)", err)
	}
	if err != nil {
		return nil, "", err
	}
	url, err := pg.CreateDatabase(ctx, "ivr")
	if err != nil {
		pg.Stop()
		return nil, "", err
	}
	return pg, url, nil
}

// demoCaller is a caller of the demo data, with the PIN printed for the user.
type demoCaller struct {
	account, name, phone, pin string
}

// demoCallers are the callers ivr dev loads. The first one's number is the
// caller ID of the softphone in deploy/asterisk/pjsip.conf; the last one has
// no number, so the IVR asks for the account.
var demoCallers = []demoCaller{
	{account: "1001", name: "Alice Demo", phone: "+15555550100", pin: "7391"},
	{account: "1002", name: "Bob Demo", phone: "+15555550101", pin: "5820"},
	{account: "1003", name: "Carol Demo", pin: "3164"},
}

// sampleDirs are where ivr dev looks for the sample files (menus.yaml,
// surveys.yaml, schedules.yaml, numbers.yaml): the
// working directory (the source tree) and where the container image has them.
var sampleDirs = []string{".", "/usr/share/ivr"}

// loadDemo loads the demo data into st, a new database: the callers with
// their PINs, and the sample survey, menus, schedules and numbers of the
// first of dirs that has them, applied (and the survey and menus published)
// the way the apply commands do it.
func loadDemo(ctx context.Context, e *env, st *store.DB, dsn string, keyring *ivr.Keyring, dirs []string, promptsDir string) ([]demoCaller, error) {
	for _, d := range demoCallers {
		c, err := st.CallerByAccount(ctx, d.account)
		if errors.Is(err, ivr.ErrNotFound) {
			nc := ivr.Caller{Account: d.account, Name: d.name, Language: "en", Status: ivr.CallerActive}
			if d.phone != "" {
				nc.Phones = []string{d.phone}
			}
			c, err = st.CreateCaller(ctx, nc)
		}
		if err != nil {
			return nil, fmt.Errorf("caller %s: %w", d.account, err)
		}
		if err := st.SetPIN(ctx, c.ID, keyring.Hash(c.Account, d.pin)); err != nil {
			return nil, fmt.Errorf("caller %s: %w", d.account, err)
		}
	}
	// The sample prompts written as text are rendered into promptsDir; where
	// the voice is missing they are stored for ivr prompts render to make
	// later, and Asterisk cannot play them meanwhile.
	texts := []string{"--prompts-dir", promptsDir}
	if missing := prompts.MissingTool(); missing != "" {
		fmt.Fprintf(e.stderr, "ivr dev: %s is not installed, so the sample prompts written as text are not rendered and Asterisk "+
			"cannot play them: apt-get install espeak-ng sox, then run ivr prompts render\n", missing)
		texts = append(texts, "--no-render")
	}
	for _, f := range []struct {
		file string
		run  func(context.Context, *env, []string) error
		args []string
	}{
		{"surveys.yaml", runSurveys, append([]string{"--publish"}, texts...)}, // first: the main menu offers a survey
		{"menus.yaml", runMenus, append([]string{"--publish"}, texts...)},
		{"schedules.yaml", runSchedules, nil}, // before the numbers that use them
		{"numbers.yaml", runNumbers, texts},
	} {
		path := findSample(f.file, dirs)
		if path == "" {
			fmt.Fprintf(e.stderr, "ivr dev: no %s in %s: run it from the source tree to load the sample %s\n",
				f.file, strings.Join(dirs, " or "), strings.TrimSuffix(f.file, ".yaml"))
			continue
		}
		var out bytes.Buffer
		// dsn names the database whole: no variable such as DATABASE_URL_FILE
		// may add to it or contradict it.
		quiet := &env{getenv: func(string) string { return "" }, stdin: e.stdin, stdout: &out, stderr: &out}
		if err := f.run(ctx, quiet, append([]string{"apply", "-f", path, "--database-url", dsn}, f.args...)); err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", path, err, out.String())
		}
	}
	return demoCallers, nil
}

// findSample returns the path of the sample file name in the first of dirs
// that has it, or "".
func findSample(name string, dirs []string) string {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// printDatabase tells the user how the operator commands reach the private
// database, and, when kept is set, that it holds the work of earlier runs.
func printDatabase(w io.Writer, dsn string, kept bool) {
	fmt.Fprintf(w, "\nThe operator commands (ivr callers, menus, report ...) reach this database with:\n\n  export DATABASE_URL='%s'\n", dsn)
	if kept {
		fmt.Fprintf(w, "\nThe data of earlier runs is kept, your changes with it (the demo callers' PINs are the ones the first run\n"+
			"printed unless you changed them); -reset starts over with the demo data.\n")
	}
}

// describeDatabase names the server and database of dsn for a message,
// without the password.
func describeDatabase(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "a URL that does not parse"
	}
	host := cfg.Host
	if !strings.HasPrefix(host, "/") {
		host = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return fmt.Sprintf("database %s on %s as user %s", cfg.Database, host, cfg.User)
}

// printWelcome tells the user what runs, how to reach it from Asterisk and how
// to try it now.
func printWelcome(w io.Writer, agiAddr net.Addr, httpLn net.Listener, allowed prefixList, demo []demoCaller) {
	host, port := dialHost(agiAddr)
	hostPort := host
	if port != "4573" {
		hostPort = net.JoinHostPort(host, port)
	}
	callAddr := net.JoinHostPort(loopbackFor(agiAddr), port)
	fmt.Fprintf(w, "\nivr is serving FastAGI on %s", agiAddr)
	if httpLn != nil {
		fmt.Fprintf(w, " and metrics on http://%s/metrics", httpLn.Addr())
	}
	fmt.Fprintf(w, ".\n\nPaste this into Asterisk's extensions.conf (docs/asterisk.md explains it):\n\n")
	fmt.Fprint(w, dialplanFor(hostPort))
	fmt.Fprintf(w, "\nThe sample menus' own prompts are in deploy/asterisk/sounds/en/ivr/: copy them to\n"+
		"<astdatadir>/sounds/en/ivr/ (/var/lib/asterisk/sounds/en/ivr/) on the Asterisk host.\n")
	fmt.Fprintf(w, "\nOnly %s may call (-allow); for an Asterisk on another machine, run again with -allow and its address.\n", allowed.String())
	if len(demo) > 0 {
		fmt.Fprintf(w, "\nDemo callers (account, name, number, PIN):\n\n")
		for _, d := range demo {
			phone := d.phone
			if phone == "" {
				phone = "-"
			}
			fmt.Fprintf(w, "  %s  %-11s %-13s %s\n", d.account, d.name, phone, d.pin)
		}
		d := demo[0]
		fmt.Fprintf(w, "\nTry a call now, without Asterisk: %s logs in with PIN %s, then hangs up at the main menu:\n\n", d.name, d.pin)
		fmt.Fprintf(w, "  go run ./cmd/ivr call -addr %s -route 'ivr?menu=main' -caller %s -press '%s#' -press '!'\n", callAddr, d.phone, d.pin)
	}
}

// dialplan is the dialplan of the README and docs/asterisk.md, word for word,
// with ivr-host where ivr's address goes.
//
//go:embed dialplan.conf
var dialplan string

// dialplanFor returns the dialplan with hostPort (a host, or host:port when the
// port is not 4573) in place of ivr-host.
func dialplanFor(hostPort string) string {
	return strings.ReplaceAll(dialplan, "ivr-host", hostPort)
}

// dialHost returns an address Asterisk on another machine can dial for addr:
// the address itself when it is specific, else this machine's first
// non-loopback IPv4 address (or localhost).
func dialHost(addr net.Addr) (host, port string) {
	host, port, _ = net.SplitHostPort(addr.String())
	ip := net.ParseIP(host)
	if ip != nil && !ip.IsUnspecified() {
		return host, port
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				return n.IP.String(), port
			}
		}
	}
	return "127.0.0.1", port
}

// loopbackFor returns the address to reach addr from this machine.
func loopbackFor(addr net.Addr) string {
	host, _, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return host
	}
	return "127.0.0.1"
}
