package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/testdb"
)

// propagationBound is how soon after an operator's change every instance must
// answer with it: the caches drop what a change notification names, and the
// notification reaches each instance's listening connection at the commit.
const propagationBound = time.Second

// seenLimit is how long watchChange waits for a change before it gives up: long
// enough to measure a delay over propagationBound.
const seenLimit = 10 * propagationBound

// pollEvery is the pause between two probes of an instance waiting for a
// change.
const pollEvery = 10 * time.Millisecond

// callIDs hands out the agi_uniqueid of each call, one width for all.
type callIDs struct{ n atomic.Int64 }

func (c *callIDs) next() string { return fmt.Sprintf("1700001000.%04d", c.n.Add(1)) }

// lookupFrom is lookupCall for the caller whose number is phone.
func lookupFrom(phone, uniqueid string) *agiclient.Call {
	c := lookupCall(uniqueid)
	c.Env["agi_callerid"] = phone
	return c
}

// menuCall is a call to the ivr route's main menu from d's number, which
// types d's PIN and then keys.
func menuCall(d demoCaller, uniqueid string, keys ...string) *agiclient.Call {
	c := ivrCall(uniqueid)
	c.Env["agi_callerid"] = d.phone
	c.Keys = append([]string{d.pin + "#"}, keys...)
	return c
}

// reachedMenu reports whether the call heard the prompt of the main menu, in
// any of its versions.
func reachedMenu(tr *agiclient.Transcript) bool {
	return heardWords(tr.Prompts(), "To leave")
}

// watchChange probes each instance at once, every pollEvery, from now until
// probe reports a change there or seenLimit passes. wait waits for the probes
// and returns, for each instance, when the first probe that saw the change
// ended; an instance that did not see it fails t. Probing starts before the
// change is made, so the first probe to see it ends at most a probe and a
// pause after the instance could first answer with it. The probes stop when
// t ends.
func watchChange(t *testing.T, ps []*ivrProcess, probe func(ctx context.Context, p *ivrProcess) (bool, error)) (wait func() []time.Time) {
	ctx, cancel := context.WithTimeout(t.Context(), seenLimit)
	seen := make([]time.Time, len(ps))
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	for i, p := range ps {
		wg.Go(func() {
			for ctx.Err() == nil {
				ok, err := probe(ctx, p)
				if ok {
					seen[i] = time.Now()
					return
				}
				if err != nil && ctx.Err() == nil {
					t.Errorf("probe of %s: %v", p.agiAddr, err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(pollEvery):
				}
			}
		})
	}
	return func() []time.Time {
		t.Helper()
		wg.Wait()
		for i, at := range seen {
			if at.IsZero() {
				t.Fatalf("the instance at %s did not answer with the change within %v\nits log:\n%s", ps[i].agiAddr, seenLimit, ps[i].stderr.String())
			}
		}
		return seen
	}
}

// changedAt returns when the operator's command that ran from start to end
// made its change: the time its transaction started (PostgreSQL's now(),
// which query reads back), a moment before it committed and notified. The
// result is kept within [start, end], so that the clock of a database on
// another host cannot put it outside the command.
func changedAt(t *testing.T, db *pgx.Conn, start, end time.Time, query string, args ...any) time.Time {
	t.Helper()
	var at time.Time
	if err := db.QueryRow(t.Context(), query, args...).Scan(&at); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	switch {
	case at.Before(start):
		return start
	case at.After(end):
		return end
	}
	return at
}

// checkPropagation fails t when an instance answered with the change later
// than propagationBound after it was made, and logs the delays.
func checkPropagation(t *testing.T, what string, changed time.Time, seen []time.Time, names ...string) {
	t.Helper()
	var parts []string
	for i, at := range seen {
		d := at.Sub(changed)
		parts = append(parts, fmt.Sprintf("%s %v", instanceNames[i], d.Round(time.Millisecond)))
		if d > propagationBound {
			t.Errorf("%s: instance %s answered with the change %v after it was made, over %v", what, instanceNames[i], d, propagationBound)
		}
	}
	t.Logf("%s: first call answering with the change, after the change's transaction started: %s", what, strings.Join(parts, ", "))
}

// dialFirst plays c on the first of addrs that accepts a connection, as
// Asterisk does with the targets of a hagi:// SRV lookup: it moves on only
// when connecting fails. It returns the address that took the call.
func dialFirst(ctx context.Context, c *agiclient.Call, addrs ...string) (string, *agiclient.Transcript, error) {
	var errs []error
	for _, addr := range addrs {
		conn, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tr, err := c.RunConn(ctx, conn, addr)
		return addr, tr, err
	}
	return "", &agiclient.Transcript{}, errors.Join(errs...)
}

// TestSeveralInstances runs two ivr serve on one database, as the two targets
// of a hagi:// SRV record: an operator's change to a caller or a menu reaches
// the calls of both within a second, a lockout earned through one holds on
// the other, and one drains while the other takes the calls. The steps share
// the two servers, in order.
func TestSeveralInstances(t *testing.T) {
	bin := buildIVR(t)
	url := testdb.URL(t)
	seedDemo(t, url)
	db, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	x := &twoInstances{
		t:        t,
		a:        startIVR(t, bin, ".", serveEnv(url), "serve", "-drain-timeout", "10m"),
		b:        startIVR(t, bin, ".", serveEnv(url), "serve"),
		url:      url,
		db:       db,
		operator: map[string]string{"DATABASE_URL": url, "IVR_PIN_KEY": servePINKey, "IVR_PROMPTS_DIR": promptsDir(t)},
	}
	for _, p := range x.both() {
		p.waitMetric(1, "ivr_caller_cache_listening")
		p.waitMetric(1, "ivr_catalog_cache_listening")
	}
	x.callerChanged()
	x.menuPublished()
	x.lockoutHolds()
	x.oneDrains()
}

// twoInstances are the two servers of TestSeveralInstances, A and B, on the
// database at url, and what the steps share.
type twoInstances struct {
	t        *testing.T
	a, b     *ivrProcess
	url      string
	db       *pgx.Conn         // for the times of the operator's changes
	operator map[string]string // the environment of the operator's commands
	ids      callIDs
}

func (x *twoInstances) both() []*ivrProcess { return []*ivrProcess{x.a, x.b} }

// instanceNames are the names of both() in the test's messages.
var instanceNames = []string{"A", "B"}

// callerChanged: each instance answers the first demo caller's lookups from
// its cache; the operator renames the caller, and each answers with the new
// name within propagationBound.
func (x *twoInstances) callerChanged() {
	t, alice := x.t, demoCallers[0]
	for i, p := range x.both() {
		for range 2 {
			tr, err := lookupFrom(alice.phone, x.ids.next()).Run(t.Context(), p.agiAddr)
			if err != nil || tr.Variables["IVR_CALLER_NAME"] != alice.name {
				t.Fatalf("lookup on %s: %v\n%s", instanceNames[i], err, tr)
			}
		}
		// The old name would stay in the cache but for the notification.
		if got := p.metric("ivr_caller_cache_hits_total"); got < 1 {
			t.Fatalf("instance %s answered no lookup from its cache (hits %v)", instanceNames[i], got)
		}
	}
	renamed := "Alice Lovelace"
	wait := watchChange(t, x.both(), func(ctx context.Context, p *ivrProcess) (bool, error) {
		tr, err := lookupFrom(alice.phone, x.ids.next()).Run(ctx, p.agiAddr)
		return err == nil && tr.Variables["IVR_CALLER_NAME"] == renamed, err
	})
	start := time.Now()
	if _, errOut, code := runArgs(x.operator, "callers", "update", alice.account, "--name", renamed); code != 0 {
		t.Fatalf("callers update: exit status %d: %s", code, errOut)
	}
	changed := changedAt(t, x.db, start, time.Now(), "SELECT updated_at FROM callers WHERE account = $1", alice.account)
	checkPropagation(t, "caller renamed", changed, wait(), instanceNames...)
	for i, p := range x.both() {
		if got := p.metric("ivr_caller_cache_invalidations_total"); got < 1 {
			t.Errorf("instance %s saw the change without a notification (invalidations %v)", instanceNames[i], got)
		}
	}
}

// menuPublished: each instance plays the main menu from its cache; the
// operator publishes a new version, and each plays it within
// propagationBound.
func (x *twoInstances) menuPublished() {
	t, alice := x.t, demoCallers[0]
	for i, p := range x.both() {
		for range 2 {
			tr, err := menuCall(alice, x.ids.next(), agiclient.Hangup).Run(t.Context(), p.agiAddr)
			if err != nil || !heardWords(tr.Prompts(), mainMenuWords) {
				t.Fatalf("call on %s never reached the main menu: %v\n%s", instanceNames[i], err, tr)
			}
		}
		if got := p.metric("ivr_catalog_cache_hits_total"); got < 1 {
			t.Fatalf("instance %s read no menu from its cache (hits %v)", instanceNames[i], got)
		}
	}
	data, err := os.ReadFile("../../menus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "menus.yaml")
	v2 := strings.Replace(string(data), mainMenuWords, "To leave us a message, press 1.", 1)
	if err := os.WriteFile(file, []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	wait := watchChange(t, x.both(), func(ctx context.Context, p *ivrProcess) (bool, error) {
		tr, err := menuCall(alice, x.ids.next(), agiclient.Hangup).Run(ctx, p.agiAddr)
		return err == nil && heardWords(tr.Prompts(), "To leave us a message"), err
	})
	start := time.Now()
	if _, errOut, code := runArgs(x.operator, "menus", "apply", "-f", file, "--publish"); code != 0 {
		t.Fatalf("menus apply: exit status %d: %s", code, errOut)
	}
	published := changedAt(t, x.db, start, time.Now(), `SELECT v.published_at FROM menu_versions v JOIN menus m ON m.id = v.menu_id
		WHERE m.key = 'main' AND v.published_at IS NOT NULL ORDER BY v.version DESC LIMIT 1`)
	checkPropagation(t, "menu published", published, wait(), instanceNames...)
}

// lockoutHolds: wrong PINs through A lock the second demo caller, and B then
// refuses the right PIN, which it took before.
func (x *twoInstances) lockoutHolds() {
	t, bob := x.t, demoCallers[1]
	tr, err := menuCall(bob, x.ids.next(), agiclient.Hangup).Run(t.Context(), x.b.agiAddr)
	if err != nil || !reachedMenu(tr) {
		t.Fatalf("before the lockout, the right PIN on B did not reach the menu: %v\n%s", err, tr)
	}
	// Three PINs a call, and five wrong ones lock the account (the defaults).
	for _, want := range []ivr.Result{ivr.ResultAuthFailed, ivr.ResultLocked} {
		c := ivrCall(x.ids.next())
		c.Env["agi_callerid"], c.Keys = bob.phone, []string{"0000#", "0000#", "0000#"}
		tr, err := c.Run(t.Context(), x.a.agiAddr)
		if got := tr.Variables["IVR_RESULT"]; err != nil || got != string(want) {
			t.Fatalf("wrong PINs on A: IVR_RESULT %q, want %q (%v)\n%s", got, want, err, tr)
		}
	}
	c := ivrCall(x.ids.next())
	c.Env["agi_callerid"], c.Keys = bob.phone, []string{bob.pin + "#", bob.pin + "#", bob.pin + "#"}
	tr, err = c.Run(t.Context(), x.b.agiAddr)
	if got := tr.Variables["IVR_RESULT"]; err != nil || got != string(ivr.ResultLocked) || reachedMenu(tr) {
		t.Errorf("the right PIN on B after the lockout on A: IVR_RESULT %q, want %q without the menu (%v)\n%s", got, ivr.ResultLocked, err, tr)
	}
}

// oneDrains: A is told to stop with a call in progress. It refuses new
// connections at once, so calls that try it first, as an SRV order may say,
// go to B and run to their end there; A's call ends as it would have, A
// exits, and B goes on.
func (x *twoInstances) oneDrains() {
	t, a, b, alice := x.t, x.a, x.b, demoCallers[0]
	held := menuCall(alice, x.ids.next(), "0")
	release, heldDone := holdCall(t, a, held, "GET DATA")
	a.signal(syscall.SIGTERM)
	a.waitStderr("shutting down")

	// Refused at the kernel: Asterisk moves on to the next SRV target only
	// when connecting fails.
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := lookupFrom(alice.phone, x.ids.next()).Run(t.Context(), a.agiAddr)
		if errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A still accepts calls during its drain: %v", err)
		}
		time.Sleep(pollEvery)
	}
	if code, _ := a.get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("A's /readyz = %d during its drain, want 503", code)
	}
	if code, body := b.get("/readyz"); code != http.StatusOK {
		t.Errorf("B's /readyz = %d %q while A drains", code, body)
	}
	for range 3 {
		addr, tr, err := dialFirst(t.Context(), lookupFrom(alice.phone, x.ids.next()), a.agiAddr, b.agiAddr)
		if err != nil || addr != b.agiAddr || tr.Variables["IVR_CALLER_FOUND"] != "1" {
			t.Errorf("lookup during A's drain: served by %s, %v\n%s", addr, err, tr)
		}
		addr, tr, err = dialFirst(t.Context(), menuCall(alice, x.ids.next(), "0"), a.agiAddr, b.agiAddr)
		if err != nil || addr != b.agiAddr || tr.Variables["IVR_RESULT"] != string(ivr.ResultTransfer) ||
			tr.Variables["IVR_TRANSFER_TO"] != "operator" {
			t.Errorf("call during A's drain: served by %s, %v\n%s", addr, err, tr)
		}
	}

	if tr := a.endDrain(release, heldDone); tr.Variables["IVR_RESULT"] != string(ivr.ResultTransfer) {
		t.Errorf("the call in progress on A did not finish normally:\n%s", tr)
	}
	if got := callEndReason(t, x.url, held.Env["agi_uniqueid"]); got != string(ivr.EndTransferred) {
		t.Errorf("the call drained on A ended as %q, want %q", got, ivr.EndTransferred)
	}
	addr, tr, err := dialFirst(t.Context(), menuCall(alice, x.ids.next(), "0"), a.agiAddr, b.agiAddr)
	if err != nil || addr != b.agiAddr || tr.Variables["IVR_RESULT"] != string(ivr.ResultTransfer) {
		t.Errorf("call after A stopped: served by %s, %v\n%s", addr, err, tr)
	}
	stopOnSIGTERM(t, b)
}
