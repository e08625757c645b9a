//go:build asterisk

package livetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ivrBin is the ivr binary built from ./cmd/ivr, and what every command of it
// needs: the PIN key file.
type ivrBin struct {
	path    string
	keyFile string
}

// buildIVR builds ./cmd/ivr of repo into dir and writes a new PIN key there.
func buildIVR(repo, dir string) (*ivrBin, error) {
	bin := &ivrBin{path: filepath.Join(dir, "ivr"), keyFile: filepath.Join(dir, "pin.key")}
	cmd := exec.Command("go", "build", "-o", bin.path, "./cmd/ivr")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/ivr: %w\n%s", err, out)
	}
	key := make([]byte, 32)
	rand.Read(key)
	spec := "live:" + base64.StdEncoding.EncodeToString(key) + "\n"
	if err := os.WriteFile(bin.keyFile, []byte(spec), 0o600); err != nil {
		return nil, err
	}
	return bin, nil
}

// run runs an ivr command, with stdin as its standard input, and returns its
// output.
func (b *ivrBin) run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(b.path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ivr %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// server is one `ivr serve` subprocess.
type server struct {
	cmd     *exec.Cmd
	addr    string // the FastAGI address, host:port
	logPath string
	log     *logBuffer
	exited  chan struct{} // closed when the process has exited
	err     error         // its exit status, valid after exited
}

// serve starts `ivr serve` on a free loopback port with the settings args and
// waits until it listens. Its log goes to logPath.
func (b *ivrBin) serve(logPath, dbURL, recordingDir string, args ...string) (*server, error) {
	s := &server{logPath: logPath, log: &logBuffer{}, exited: make(chan struct{})}
	all := append([]string{"serve",
		"-agi-addr", "127.0.0.1:0", "-http-addr", "",
		"-database-url", dbURL, "-pin-key-file", b.keyFile,
		"-recording-dir", recordingDir, "-agi-debug",
	}, args...)
	s.cmd = exec.Command(b.path, all...)
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout = f
	s.cmd.Stderr = &teeWriter{f: f, buf: s.log}
	if err := s.cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() {
		s.err = s.cmd.Wait()
		f.Close()
		close(s.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningLine.FindStringSubmatch(s.log.String()); m != nil {
			s.addr = m[1]
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("ivr serve exited at start (%v):\n%s", s.err, s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.kill()
	return nil, fmt.Errorf("ivr serve did not listen within 30s:\n%s", s.log.String())
}

var listeningLine = regexp.MustCompile(`msg=listening agi=(\S+)`)

// signal sends SIGTERM to the server.
func (s *server) terminate() error { return s.cmd.Process.Signal(syscall.SIGTERM) }

// waitExit waits up to timeout for the server to exit and returns its status.
func (s *server) waitExit(timeout time.Duration) error {
	select {
	case <-s.exited:
		return s.err
	case <-time.After(timeout):
		return fmt.Errorf("ivr serve still running after %s", timeout)
	}
}

// kill stops the server at once, if it still runs.
func (s *server) kill() {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// logBuffer is a log that is written and read at the same time.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// teeWriter writes to a file and a logBuffer.
type teeWriter struct {
	f   *os.File
	buf *logBuffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.buf.Write(p)
	return t.f.Write(p)
}
