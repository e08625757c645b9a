package ivr_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// lookup runs the lookup route for caller ID cid and returns the variables
// the dialplan got, and whether the caller cache answered.
func (w *world) lookup(cid string) (vars map[string]string, hit bool) {
	w.t.Helper()
	before := w.cache.Stats().Hits
	c := w.run(agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": cid}})
	return c.tr.Variables, w.cache.Stats().Hits > before
}

// operator runs sql as an operator would, on a connection of the test's own,
// and waits until the caller cache has heard of the change.
func (w *world) operator(sql string, args ...any) {
	w.t.Helper()
	before := w.cache.Stats().Invalidations
	if _, err := w.pool.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	w.eventually("the caller cache hears of the change", func() bool { return w.cache.Stats().Invalidations > before })
}

// TestLookupCache calls the lookup route again and again while an operator
// changes callers: the second call for a number is answered from memory, and
// the call after a change reads it.
func TestLookupCache(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	for i, wantHit := range []bool{false, true} {
		v, hit := w.lookup(aliceLocal)
		if hit != wantHit || v["IVR_CALLER_NAME"] != "Alice Example" || v["IVR_CALLER_STATUS"] != "active" {
			t.Errorf("call %d: %v, hit %v, want Alice active, hit %v", i, v, hit, wantHit)
		}
	}

	w.operator("UPDATE callers SET status = 'disabled', name = 'Alice Gone' WHERE id = $1", w.alice)
	if v, hit := w.lookup(aliceLocal); hit || v["IVR_CALLER_NAME"] != "Alice Gone" || v["IVR_CALLER_STATUS"] != "disabled" {
		t.Errorf("after the change: %v, hit %v, want Alice Gone disabled", v, hit)
	}

	const other = "2125550199" // nobody's, until Alice gets it
	for i, wantHit := range []bool{false, true} {
		if v, hit := w.lookup(other); hit != wantHit || v["IVR_CALLER_FOUND"] != "0" {
			t.Errorf("unknown number, call %d: %v, hit %v, want not found, hit %v", i, v, hit, wantHit)
		}
	}
	w.operator("INSERT INTO caller_phones (caller_id, e164) VALUES ($1, '+12125550199')", w.alice)
	if v, hit := w.lookup(other); hit || v["IVR_CALLER_FOUND"] != "1" || v["IVR_CALLER_ID"] != strconv.FormatInt(w.alice, 10) {
		t.Errorf("after the new number: %v, hit %v, want Alice", v, hit)
	}
}

// TestIVRIgnoresLookupCache locks a caller whose lookup is cached: the lock
// is PIN state, which the cache neither keeps nor hears of, and the ivr route
// reads it from the database all the same.
func TestIVRIgnoresLookupCache(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	w.lookup(aliceLocal)
	if _, err := w.pool.Exec(context.Background(), "UPDATE callers SET locked_until = now() + interval '1 hour' WHERE id = $1", w.alice); err != nil {
		t.Fatal(err)
	}
	c := w.run(fromAlice(alicePIN+"#", alicePIN+"#", alicePIN+"#"))
	w.checkEnd(c, ivr.ResultLocked, ivr.EndLockedOut)
	if v, hit := w.lookup(aliceLocal); !hit || v["IVR_CALLER_FOUND"] != "1" {
		t.Errorf("lookup after the lock: %v, hit %v, want Alice from memory", v, hit)
	}
}
