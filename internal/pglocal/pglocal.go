// Package pglocal runs a private PostgreSQL server from the binaries installed
// on the machine (initdb and postgres, found on PATH or under
// /usr/lib/postgresql/*/bin). The test harness starts one per test binary and
// `ivr dev` one per developer; neither needs a system service.
//
// The server listens on a unix socket in a directory of its own and, unless a
// port is given, on no TCP address at all, so several can run side by side.
// PostgreSQL refuses to run as root: when the process is root, initdb and
// postgres run as an unprivileged system user ("postgres" when it exists,
// otherwise "nobody") that owns the data and socket directories.
//
// A server can also be copied into a streaming replica (StartStandby) that
// answers read-only queries; CatchUp waits until it has replayed the primary.
//
//	srv, err := pglocal.Start(ctx, pglocal.Config{DataDir: dir + "/data", SocketDir: dir})
//	if err != nil {
//		return err
//	}
//	defer srv.Stop()
//	url, err := srv.CreateDatabase(ctx, "ivr")
package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotInstalled is returned (wrapped, with what to do) when no PostgreSQL
// server binaries can be found.
var ErrNotInstalled = errors.New("no PostgreSQL server binaries (initdb, postgres) found")

// Superuser is the database superuser that initdb creates. Connections over the
// unix socket are trusted, so it needs no password.
const Superuser = "postgres"

// defaultPort names the unix socket (.s.PGSQL.5432) when Config.Port is zero.
const defaultPort = 5432

// Config says where and how to run the server. DataDir is required; every other
// zero value has a working default.
type Config struct {
	// DataDir is the cluster directory. It is created and initialised with
	// initdb when it holds no cluster yet, and reused when it does.
	DataDir string
	// SocketDir is the directory of the unix socket. Default: DataDir. Unix
	// socket paths are short (about 100 bytes), so keep it near the root.
	SocketDir string
	// Port is the TCP port on 127.0.0.1. Zero means no TCP at all (the socket
	// is then named after port 5432).
	Port int
	// NoFsync turns fsync and synchronous commit off: fast and fine for tests,
	// but a crash of the machine can lose the data.
	NoFsync bool
	// BinDir holds initdb and postgres. Default: found by FindBinDir.
	BinDir string
	// StartTimeout bounds how long Start waits for the server to accept
	// connections. Default 60s.
	StartTimeout time.Duration
	// Settings are extra server settings (name -> value) passed as -c options.
	Settings map[string]string
}

// Server is a running PostgreSQL. Stop it with Stop; the server also receives
// SIGTERM if the process that started it dies (on Linux).
type Server struct {
	cfg  Config
	port int
	cmd  *exec.Cmd
	cred *credential
	done chan struct{} // closed when the postgres process has exited
	err  error         // the exit status, valid after done is closed
	log  *lockedWriter
}

// FindBinDir returns the directory holding initdb and postgres: the one of
// initdb on PATH if there is one, otherwise the newest
// /usr/lib/postgresql/<version>/bin. The error wraps ErrNotInstalled and tells
// how to get PostgreSQL.
func FindBinDir() (string, error) {
	return findBinDir("/usr/lib/postgresql/*/bin")
}

// findBinDir is FindBinDir with the pattern of the versioned directories.
func findBinDir(pattern string) (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(pattern)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w on PATH or under /usr/lib/postgresql/*/bin: "+
		"install them (Debian/Ubuntu: apt-get install postgresql), "+
		"or point TEST_DATABASE_URL (tests) or DATABASE_URL at a running server, "+
		"or start one with docker compose", ErrNotInstalled)
}

// versionOf reads the major version from /usr/lib/postgresql/<version>/bin.
func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start initialises DataDir if needed, starts postgres and waits until it
// accepts connections or ctx ends. The caller owns the returned Server and must
// Stop it.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	if err := s.start(ctx); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	return s, nil
}

// prepare fills in the defaults of cfg, picks the server user and makes the
// data and socket directories: a Server ready for initdb (or a base backup)
// and start.
func prepare(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("pglocal: DataDir is required")
	}
	var err error
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	if cfg.SocketDir == "" {
		cfg.SocketDir = cfg.DataDir
	}
	if cfg.SocketDir, err = filepath.Abs(cfg.SocketDir); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	if cfg.BinDir == "" {
		if cfg.BinDir, err = FindBinDir(); err != nil {
			return nil, fmt.Errorf("pglocal: %w", err)
		}
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	s := &Server{cfg: cfg, port: cfg.Port, done: make(chan struct{}), log: &lockedWriter{w: new(bytes.Buffer)}}
	if s.port == 0 {
		s.port = defaultPort
	}
	if s.cred, err = serverUser(); err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	for _, dir := range []string{cfg.DataDir, cfg.SocketDir} {
		if err := s.makeDir(dir); err != nil {
			return nil, fmt.Errorf("pglocal: %w", err)
		}
		if err := reachable(filepath.Dir(dir), s.cred); err != nil {
			return nil, fmt.Errorf("pglocal: %w", err)
		}
	}
	return s, nil
}

// serverUser returns the credential to run initdb and postgres with: nil when
// the process is not root, otherwise an unprivileged system user.
func serverUser() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and neither a postgres nor a nobody user exists to run the server as")
}

// reachable checks that the server user cred (nil: this process, which made
// the directories) may enter dir and every directory above it, so that a run
// as root fails with a clear error instead of initdb's "permission denied".
func reachable(dir string, cred *credential) error {
	if cred == nil {
		return nil
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		uid, gid, ok := owner(fi)
		if !ok {
			return nil
		}
		perm := fi.Mode().Perm()
		var x bool
		switch {
		case uid == cred.Uid:
			x = perm&0o100 != 0
		case gid == cred.Gid:
			x = perm&0o010 != 0
		default:
			x = perm&0o001 != 0
		}
		if !x {
			return fmt.Errorf("the server runs as uid %d (PostgreSQL refuses root), which cannot enter %s: "+
				"put the data and socket directories where it can (pglocal.TempDir makes one)", cred.Uid, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// makeDir creates dir (mode 0700, as postgres wants its data directory) and,
// when running as root, hands it to the server user.
func (s *Server) makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if s.cred == nil {
		return nil
	}
	if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// command builds a command of the server's binaries, run as the server user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.cfg.BinDir, name), args...)
	cmd.Dir = s.cfg.DataDir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC", "PGTZ=UTC")
	cmd.SysProcAttr = sysProcAttr(s.cred)
	return cmd
}

func (s *Server) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.cfg.DataDir, "PG_VERSION")); err == nil {
		return nil
	}
	cmd := s.command(ctx, "initdb", "-D", s.cfg.DataDir, "-U", Superuser,
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = s.cfg.SocketDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", s.cfg.DataDir, err, out)
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	listen := ""
	if s.cfg.Port != 0 {
		listen = "127.0.0.1"
	}
	settings := map[string]string{
		"listen_addresses":        listen,
		"port":                    strconv.Itoa(s.port),
		"unix_socket_directories": s.cfg.SocketDir,
		"max_connections":         "200",
		"shared_buffers":          "128MB",
		"logging_collector":       "off",
		"log_min_messages":        "warning",
	}
	if s.cfg.NoFsync {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range s.cfg.Settings {
		settings[k] = v
	}
	args := []string{"-D", s.cfg.DataDir}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	// The server outlives ctx: ctx only bounds the wait for it to be ready.
	s.cmd = s.command(context.Background(), "postgres", args...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()

	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	for {
		conn, err := pgconn.Connect(ctx, s.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited while starting: %v\n%s", s.err, s.Log())
		case <-ctx.Done():
			_ = s.Stop()
			return fmt.Errorf("postgres not ready: %w (last error: %v)\n%s", ctx.Err(), err, s.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL returns the connection URL of database on this server, as the
// superuser over the unix socket.
func (s *Server) URL(database string) string {
	q := url.Values{}
	q.Set("host", s.cfg.SocketDir)
	q.Set("port", strconv.Itoa(s.port))
	q.Set("sslmode", "disable")
	u := url.URL{Scheme: "postgres", User: url.User(Superuser), Path: "/" + database, RawQuery: q.Encode()}
	return u.String()
}

// CreateDatabase creates database name unless it exists and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pglocal: create database: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == pgerrcode.DuplicateDatabase) {
		return "", fmt.Errorf("pglocal: create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// Log returns what the server printed so far (warnings and errors).
func (s *Server) Log() string {
	return s.log.String()
}

// Stop shuts the server down (a fast shutdown: open sessions are ended) and
// waits for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("pglocal: postgres did not stop; killed it")
	}
}

// TempDir creates a new directory under the system's temporary directory for
// a throwaway server and returns its path; the caller removes it. Unlike
// testing.T.TempDir it is short (unix socket paths are limited) and searchable
// by the server user when this process is root.
func TempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", fmt.Errorf("pglocal: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("pglocal: %w", err)
	}
	return dir, nil
}

// DataDir returns the cluster directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// SocketDir returns the directory of the unix socket.
func (s *Server) SocketDir() string { return s.cfg.SocketDir }

// Port returns the TCP port, or the port the socket is named after when the
// server has no TCP address.
func (s *Server) Port() int { return s.port }

// lockedWriter is a bytes.Buffer safe for the process's writes and Log's reads.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Clone(l.w.String())
}
