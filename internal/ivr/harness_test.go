package ivr_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The fixture every end-to-end test starts from.
const (
	alicePhone   = "+14155550123"
	aliceLocal   = "4155550123" // as the trunk delivers it, read in region US
	aliceAccount = "1001"
	alicePIN     = "583920"
	wrongPIN     = "111999"
)

// world is one test's IVR: a real agi server on loopback running the App,
// over the store on a database of the test's own.
type world struct {
	t      testing.TB
	pool   *pgxpool.Pool // the test's own connections, for fixtures and checks
	db     *store.DB
	cache  *store.CallerCache  // the lookup route's
	menus  *store.CatalogCache // the live menus and surveys
	kr     *ivr.Keyring
	app    *ivr.App
	srv    *agitest.Server
	logs   *syncBuffer
	alice  int64
	mainV  int64 // published version of the main menu
	deptV  int64
	survey int64 // published version of the survey "sat"
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mainMenu is the main menu of the fixture: every action has a key.
func mainMenu() ivr.Menu {
	opt := func(d string, k ivr.ActionKind, target string) ivr.MenuOption {
		return ivr.MenuOption{Digits: d, Action: ivr.Action{Kind: k, Target: target}}
	}
	return ivr.Menu{
		Key: "main", Prompt: "ivr/main-menu", Timeout: 5 * time.Second, MaxDigits: 1, MaxAttempts: 3,
		FailureAction: ivr.Action{Kind: ivr.ActionOperator},
		Options: []ivr.MenuOption{
			opt("1", ivr.ActionRecord, ""),
			opt("2", ivr.ActionSurvey, "sat"),
			opt("3", ivr.ActionPlayMessages, ""),
			opt("4", ivr.ActionChangePIN, ""),
			opt("5", ivr.ActionSubmenu, "dept"),
			opt("0", ivr.ActionOperator, ""),
			opt("*", ivr.ActionRepeat, ""),
			opt("9", ivr.ActionHangup, ""),
			opt("7", ivr.ActionSubmenu, "nosuch"),
		},
	}
}

// newWorld starts an IVR with cfg (and the store opened on storeURL when not
// empty, for tests that put a proxy in between).
func newWorld(t testing.TB, cfg ivr.Config, via func(url string) string) *world {
	t.Helper()
	ctx := context.Background()
	u := testdb.URL(t)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	storeURL := u
	if via != nil {
		storeURL = via(u)
	}
	db, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	w := &world{t: t, pool: pool, db: db, logs: &syncBuffer{}}
	w.kr, err = ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(7)})
	if err != nil {
		t.Fatal(err)
	}
	w.alice = seedCaller(t, pool, w.kr, aliceAccount, "Alice Example", "", alicePIN, alicePhone)
	w.survey = seedSurvey(t, pool, ivr.Survey{Key: "sat", IntroPrompt: "ivr/survey-intro", ThankYouPrompt: "ivr/survey-thanks",
		Questions: []ivr.Question{
			{Key: "score", Prompt: "ivr/q-score", AllowedDigits: "12345", Required: true},
			{Key: "recommend", Prompt: "ivr/q-recommend", Range: &ivr.AnswerRange{Min: 0, Max: 10}},
		}})
	w.deptV = seedMenu(t, pool, ivr.Menu{Key: "dept", Prompt: "ivr/dept-menu", MaxDigits: 1, MaxAttempts: 2,
		Options: []ivr.MenuOption{
			{Digits: "1", Action: ivr.Action{Kind: ivr.ActionTransfer, Target: "sales"}},
			{Digits: "9", Action: ivr.Action{Kind: ivr.ActionSubmenu, Target: "main"}},
		}})
	w.mainV = seedMenu(t, pool, mainMenu())

	// The lookup route answers from the caller cache and the ivr route reads
	// its menus and surveys from the catalog cache, as in ivr serve; both
	// listen before the first call, so every test and benchmark starts with
	// them in use.
	logger := slog.New(slog.NewTextHandler(w.logs, nil))
	w.cache = store.NewCallerCache(db, store.CallerCacheOptions{Logger: logger})
	t.Cleanup(w.cache.Close)
	w.menus = store.NewCatalogCache(db, store.CatalogCacheOptions{Logger: logger})
	t.Cleanup(w.menus.Close)
	w.eventually("the caches listen", func() bool { return w.cache.Stats().Listening && w.menus.Stats().Listening })
	svc := ivr.Services{Callers: db, Lookup: w.cache, Journal: db, PINs: db, Catalog: w.menus, Messages: db, Keyring: w.kr,
		Logger: logger}
	app, err := ivr.New(cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	w.app = app
	w.srv = serve(t, app, w.logs)
	return w
}

// waitWrites waits until the writes of the calls that ended are done: the
// lookup's row is written after the route returns when the database is slow.
func (w *world) waitWrites() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !w.app.WaitWrites(ctx) {
		w.t.Fatalf("the writes of the ended calls were not done within 10s: %+v\n%s", w.app.PendingStats(), w.logs)
	}
}

// eventually polls ok until it holds, and fails the test when that takes
// more than ten seconds.
func (w *world) eventually(what string, ok func() bool) {
	w.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("gave up waiting until %s\n%s", what, w.logs)
		}
	}
}

// serve runs app on an agi server on loopback until t ends. Tests send the
// protocol log at debug level to logs, so they can check that no PIN reaches
// any log line; benchmarks keep it off.
func serve(t testing.TB, app *ivr.App, logs io.Writer) *agitest.Server {
	mux := agi.NewServeMux()
	app.Register(mux)
	srv := agitest.NewUnstartedServer(mux)
	if _, bench := t.(*testing.B); !bench {
		srv.Config.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// call is one finished call: what the caller heard and the dialplan got, and
// the call row.
type call struct {
	tr    *agiclient.Transcript
	row   callRow
	steps []stepRow
}

// run plays c against the IVR and reads back the call's rows.
func (w *world) run(c agiclient.Call) call {
	w.t.Helper()
	tr := w.srv.Run(w.t, c)
	w.waitWrites()
	uid := tr.EnvValue("agi_uniqueid")
	row := callByUniqueID(w.t, w.pool, uid)
	return call{tr: tr, row: row, steps: stepsOf(w.t, w.pool, row.ID)}
}

// fromAlice is a call to the ivr route from Alice's phone.
func fromAlice(keys ...string) agiclient.Call {
	return agiclient.Call{Script: "ivr?menu=main", Env: map[string]string{"agi_callerid": aliceLocal}, Keys: keys}
}

// prompts returns what the caller heard: the GET DATA that collects the
// keys after one typed during a prompt plays nothing.
func (c call) prompts() []string {
	var out []string
	for _, p := range c.tr.Prompts() {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// heard reports whether want appears in order (not necessarily adjacent)
// among the prompts.
func (c call) heard(want ...string) bool {
	got := c.prompts()
	i := 0
	for _, p := range got {
		if i < len(want) && p == want[i] {
			i++
		}
	}
	return i == len(want)
}

func (c call) countPrompt(p string) int {
	n := 0
	for _, q := range c.prompts() {
		if q == p {
			n++
		}
	}
	return n
}

// checkEnd asserts IVR_RESULT and the call row's end reason.
func (w *world) checkEnd(c call, result ivr.Result, reason ivr.EndReason) {
	w.t.Helper()
	if got := c.tr.Variables["IVR_RESULT"]; got != string(result) {
		w.t.Errorf("IVR_RESULT = %q, want %q\n%s", got, result, c.tr)
	}
	if !c.row.Ended || c.row.EndReason == nil || *c.row.EndReason != string(reason) {
		w.t.Errorf("call row end = %v %v, want %s", c.row.Ended, deref(c.row.EndReason), reason)
	}
	w.checkJournal(c, false)
}

// checkJournal asserts the journal's shape: steps numbered 1..n without gaps,
// the secret inputs without digits, at most one hangup step and, when the
// caller hung up, exactly one as the last step (none is allowed with
// lateHangup, a hangup after the call had ended). No PIN in any log line.
func (w *world) checkJournal(c call, lateHangup bool) {
	w.t.Helper()
	hangups := 0
	for i, s := range c.steps {
		if s.Seq != i+1 {
			w.t.Errorf("journal step %d has seq %d", i+1, s.Seq)
		}
		if s.Secret && s.Digits != nil {
			w.t.Errorf("secret step %d stored digits", s.Seq)
		}
		if s.Kind == string(ivr.StepHangup) {
			hangups++
		}
		if s.Digits != nil && (strings.Contains(*s.Digits, alicePIN) || strings.Contains(*s.Digits, wrongPIN)) {
			w.t.Errorf("journal step %d holds a PIN", s.Seq)
		}
	}
	if c.tr.CallerHungUp && !(lateHangup && hangups == 0) {
		if hangups != 1 || c.steps[len(c.steps)-1].Kind != string(ivr.StepHangup) {
			w.t.Errorf("caller hung up: %d hangup steps, last step %+v, want exactly one at the end", hangups, c.steps[len(c.steps)-1])
		}
	} else if hangups != 0 {
		w.t.Errorf("%d hangup steps in a call the caller did not hang up", hangups)
	}
	for _, pin := range []string{alicePIN, wrongPIN} {
		if strings.Contains(w.logs.String(), pin) {
			w.t.Errorf("a PIN reached the log:\n%s", w.logs)
		}
	}
}

// stepKeys returns "kind:key:outcome" of the journal steps, for messages.
func (c call) stepKeys() []string {
	var out []string
	for _, s := range c.steps {
		out = append(out, s.Kind+":"+s.Key+":"+s.Outcome)
	}
	return out
}

// hasStep reports whether the journal has a step of kind with key and outcome.
func (c call) hasStep(kind ivr.StepKind, key string, out ivr.Outcome) bool {
	for _, s := range c.steps {
		if s.Kind == string(kind) && s.Key == key && s.Outcome == string(out) {
			return true
		}
	}
	return false
}

// responses returns "question=answer" of the survey responses of the call,
// in the order they were saved.
func (w *world) responses(t *testing.T, c call) []string {
	t.Helper()
	rows, err := w.pool.Query(context.Background(), `SELECT question_key, answer FROM responses
		WHERE call_id = $1 AND survey_version_id = $2 ORDER BY id`, c.row.ID, w.survey)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var k, a string
		if err := rows.Scan(&k, &a); err != nil {
			t.Fatal(err)
		}
		got = append(got, k+"="+a)
	}
	return got
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// proxy is a TCP proxy to the test database that the test can cut and
// restore, to take the database away in the middle of a call.
type proxy struct {
	l      net.Listener
	target func() (net.Conn, error)
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

// newProxy listens on loopback and forwards to the server of dbURL; it
// returns dbURL rewritten to go through the proxy.
func newProxy(t testing.TB, dbURL string) (*proxy, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	host, port := cfg.Host, cfg.Port
	dial := func() (net.Conn, error) {
		if strings.HasPrefix(host, "/") {
			return net.Dial("unix", host+"/.s.PGSQL."+strconv.Itoa(int(port)))
		}
		return net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: dial}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.cut()
		p.wg.Wait()
	})
	u := url.URL{Scheme: "postgres", Host: l.Addr().String(), Path: "/" + cfg.Database}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	} else {
		u.User = url.User(cfg.User)
	}
	u.RawQuery = "sslmode=disable"
	return p, u.String()
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		s, err := p.target()
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(s, c); s.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, s); c.Close() }()
	}
}

// cut closes every proxied connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore lets connections through again.
func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
