//go:build asterisk

package livetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The ivr servers of the suite, by the tag that prefixes their contexts.
const (
	tagMain   = "main"   // most calls
	tagDrain  = "drain"  // SIGTERM with a call that ends within the drain timeout
	tagCut    = "cut"    // SIGTERM with a call that outlasts the drain timeout
	tagDBDown = "dbdown" // its own PostgreSQL, stopped and started again
	tagKilled = "killed" // SIGKILL with calls in progress
	tagDead   = "dead"   // an address where nothing listens
)

// cutDrainTimeout is the drain timeout of the server the cut tests stop.
const cutDrainTimeout = 3 * time.Second

// callTimeout bounds one call, from originate to hangup.
const callTimeout = 3 * time.Minute

// suite is what every test uses: the servers, Asterisk, AMI and the
// databases. It is set up once by TestMain.
type suite struct {
	repo, work string
	bin        *ivrBin
	db, dbDown *database
	rows       rows // the main database
	downRows   rows // the database of the dbdown server (read while it runs)
	kit        *kit
	ami        *ami
	recDir     string
	servers    map[string]*server
	run        string // prefix of the uniqueids of this run
	seq        atomic.Int64
}

var s *suite

func TestMain(m *testing.M) {
	os.Exit(mainRun(m))
}

func mainRun(m *testing.M) int {
	start := time.Now()
	var err error
	s, err = setUp()
	if err != nil {
		fmt.Fprintln(os.Stderr, "livetest: set-up failed:", err)
		if s != nil {
			s.tearDown()
			fmt.Fprintln(os.Stderr, "livetest: logs kept in", s.work)
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "livetest: set up in %s (Asterisk in %s, logs in %s)\n", time.Since(start).Round(time.Millisecond), s.kit.dir, s.work)
	code := m.Run()
	s.tearDown()
	if code == 0 {
		os.RemoveAll(s.work)
		os.RemoveAll(s.kit.dir)
	} else {
		fmt.Fprintf(os.Stderr, "livetest: logs kept: ivr in %s, Asterisk in %s/log/full\n", s.work, s.kit.dir)
	}
	return code
}

// setUp builds ivr, starts the databases, Asterisk and the servers, loads the
// sample data and the callers, and writes the documented dialplans.
func setUp() (*suite, error) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	home, err := kitHome(repo)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "ivr-livetest-")
	if err != nil {
		return nil, err
	}
	// The PostgreSQL server user must be able to enter its data directory.
	if err := os.Chmod(work, 0o755); err != nil {
		return nil, err
	}
	st := &suite{repo: repo, work: work, servers: map[string]*server{},
		run: "lt" + strconv.FormatInt(time.Now().Unix()%1e6, 36)}

	ctx := context.Background()
	var wg sync.WaitGroup
	var buildErr, dbErr, downErr, kitErr error
	wg.Go(func() { st.bin, buildErr = buildIVR(repo, work) })
	wg.Go(func() { st.db, dbErr = startDatabase(ctx, filepath.Join(work, "db")) })
	wg.Go(func() { st.dbDown, downErr = startDatabase(ctx, filepath.Join(work, "dbdown")) })
	wg.Go(func() { st.kit, kitErr = startKit(home, work, st.run) })
	wg.Wait()
	if err := errors.Join(buildErr, dbErr, downErr, kitErr); err != nil {
		return st, err
	}

	for _, d := range []*database{st.db, st.dbDown} {
		if err := d.load(st.bin, repo); err != nil {
			return st, err
		}
	}
	if err := addCallers(st); err != nil {
		return st, err
	}
	for _, r := range []*rows{&st.rows, &st.downRows} {
		d := st.db
		if r == &st.downRows {
			d = st.dbDown
		}
		pool, err := pgxpool.New(ctx, d.url)
		if err != nil {
			return st, err
		}
		r.pool = pool
	}

	st.recDir = filepath.Join(st.kit.dir, "recordings")
	if err := os.MkdirAll(st.recDir, 0o755); err != nil {
		return st, err
	}
	for tag, args := range map[string][]string{
		tagMain:   nil,
		tagDrain:  {"-drain-timeout", "60s"},
		tagCut:    {"-drain-timeout", cutDrainTimeout.String()},
		tagDBDown: nil,
		tagKilled: nil,
	} {
		d := st.db
		if tag == tagDBDown {
			d = st.dbDown
		}
		srv, err := st.bin.serve(filepath.Join(work, "ivr-"+tag+".log"), d.url, st.recDir, args...)
		if err != nil {
			return st, fmt.Errorf("%s server: %w", tag, err)
		}
		st.servers[tag] = srv
	}
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return st, err
	}
	deadAddr := dead.Addr().String()
	dead.Close()

	if err := st.kit.installPrompts(repo); err != nil {
		return st, err
	}
	conf, err := st.dialplan(deadAddr)
	if err != nil {
		return st, err
	}
	if err := st.kit.loadDialplan(conf); err != nil {
		return st, err
	}
	if st.ami, err = dialAMI(st.kit.amiPort); err != nil {
		return st, err
	}
	return st, nil
}

// dialplan returns the documented dialplans, one copy per document and
// server, each context prefixed with the server's tag and the document's name.
func (st *suite) dialplan(deadAddr string) (string, error) {
	addrs := map[string]string{tagDead: deadAddr}
	for tag, srv := range st.servers {
		addrs[tag] = srv.addr
	}
	var b strings.Builder
	for _, src := range dialplanSources {
		secs, err := readDialplan(st.repo, src)
		if err != nil {
			return "", err
		}
		for _, tag := range []string{tagMain, tagDrain, tagCut, tagDBDown, tagKilled, tagDead} {
			b.WriteString(dialplanFor(secs, tag+"-"+src.name+"-", addrs[tag]))
		}
	}
	return b.String(), nil
}

// tearDown stops everything setUp started.
func (st *suite) tearDown() {
	if st.ami != nil {
		st.ami.close()
	}
	for _, srv := range st.servers {
		srv.terminate()
		if srv.waitExit(15*time.Second) != nil {
			srv.kill()
		}
	}
	for _, r := range []rows{st.rows, st.downRows} {
		if r.pool != nil {
			r.pool.Close()
		}
	}
	if st.kit != nil {
		if err := st.kit.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "livetest:", err)
		}
	}
	for _, d := range []*database{st.db, st.dbDown} {
		if d != nil {
			d.stop()
		}
	}
}

// entry is where a call enters the dialplan: exten in context, a context of
// the copy of a document whose contexts all start with prefix.
type entry struct{ prefix, context, exten string }

// at returns the entry of a documented context: the context ctx of the
// document src in the copy for the server tag.
func at(tag, src, ctx, exten string) entry {
	prefix := tag + "-" + src + "-"
	return entry{prefix: prefix, context: prefix + ctx, exten: exten}
}

// sibling returns the name of the document's context ctx ([transfers]) in the
// copy e belongs to.
func (e entry) sibling(ctx string) string { return e.prefix + ctx }

// The documented entries, for a server tag.
func deployIVR(tag string) entry    { return at(tag, "deploy", "from-softphone", "100") }
func deployLookup(tag string) entry { return at(tag, "deploy", "from-softphone", "101") }
func readmeIVR(tag string) entry    { return at(tag, "readme", "from-phones", "500") }
func astmdIVR(tag string) entry     { return at(tag, "astmd", "from-phones", "500") }
func astmdSetname(tag string) entry { return at(tag, "astmd", "reception", "200") }
func ivrmdIVR(tag string) entry     { return at(tag, "ivrmd", "from-phones", "500") }

// placed is a call in progress.
type placed struct {
	id    string
	entry entry
	done  chan struct{}
	log   calllog
	err   error
}

// originate places a call: the caller leg leg (see the kit's README: k7391#-0
// waits 2 s after answer, then presses 7391#, waits 2 s and presses 0) with
// the caller ID callerID calls e. The call runs in the background.
func originate(t *testing.T, e entry, leg, callerID string) *placed {
	t.Helper()
	// Asterisk 22 refuses a ChannelId that is the start of the uniqueid of a
	// channel still up ("Channel Unique ID 'x-1' already in use by" the
	// channel x-12): the ids have one width, and a letter no generated
	// uniqueid (<systemname>-<epoch>.<n>) has after the prefix.
	p := &placed{id: fmt.Sprintf("%s-c%04d", s.run, s.seq.Add(1)), entry: e, done: make(chan struct{})}
	if err := s.ami.originate(p.id, leg, e.context, e.exten, callerID); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		p.log, p.err = s.ami.wait(p.id, callTimeout)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			<-p.done
			t.Logf("call %s (%s,%s, leg %s), what the dialplan did:\n%s", p.id, e.context, e.exten, leg, p.log)
		}
	})
	return p
}

// wait waits for the call to end and returns what its dialplan did.
func (p *placed) wait(t *testing.T) calllog {
	t.Helper()
	<-p.done
	if p.err != nil {
		t.Fatalf("call %s: %v", p.id, p.err)
	}
	return p.log
}

// call places a call and waits for it to end.
func call(t *testing.T, e entry, leg, callerID string) calllog {
	t.Helper()
	return originate(t, e, leg, callerID).wait(t)
}

// waitCommand waits until the call has sent an AGI command containing
// fragment (GET DATA ivr/main-menu ...), or fails the test after timeout.
func (p *placed) waitCommand(t *testing.T, fragment string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, c := range s.ami.events(p.id).agiCommands() {
			if strings.Contains(c, fragment) {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("call %s ended before the command %q", p.id, fragment)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("call %s: no command %q within %s", p.id, fragment, timeout)
}
