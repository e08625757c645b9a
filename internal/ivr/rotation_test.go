package ivr_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agitest"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// instanceOf is one IVR instance of a test: its app and its agi server.
type instanceOf struct {
	app *ivr.App
	srv *agitest.Server
}

// instance starts another IVR over the world's database with the keyring
// given as a key file holds it (ids of testKey(7) and testKey(8): "k1" and
// "k2", the first current), as a restarted `ivr serve` would.
func (w *world) instance(ids string) instanceOf {
	w.t.Helper()
	material := map[string]byte{"k1": 7, "k2": 8}
	var spec []string
	for id := range strings.SplitSeq(ids, ",") {
		spec = append(spec, id+":"+base64.StdEncoding.EncodeToString(testKey(material[id])))
	}
	kr, err := ivr.ParseKeyring(strings.Join(spec, "\n"))
	if err != nil {
		w.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(w.logs, nil))
	lookup := store.NewCallerCache(w.db, store.CallerCacheOptions{Logger: logger})
	w.t.Cleanup(lookup.Close)
	app, err := ivr.New(ivr.Config{}, ivr.Services{Callers: w.db, Lookup: lookup, Journal: w.db, PINs: w.db,
		Catalog: w.menus, Messages: w.db, Keyring: kr, Logger: logger})
	if err != nil {
		w.t.Fatal(err)
	}
	return instanceOf{app: app, srv: serve(w.t, app, w.logs)}
}

// aliceKeyID returns the id of the key Alice's PIN hash is made with.
func (w *world) aliceKeyID() string {
	w.t.Helper()
	var id string
	if err := w.pool.QueryRow(context.Background(), "SELECT pin_key_id FROM callers WHERE id = $1", w.alice).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// TestKeyRotationAcrossInstances rotates the PIN key of two instances over
// one database the documented way, restarting them one at a time: at every
// step Alice's right PIN is accepted by both, a key added second never makes
// a hash, and at the end her hash is made with the new key, so the old one
// can go.
func TestKeyRotationAcrossInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	steps := []struct {
		name string
		a, b string // the key ids of each instance's key file, the first current
		want string // the key of Alice's hash after she called both
	}{
		{"before", "k1", "k1", "k1"},
		{"(a) new key second on the first instance", "k1,k2", "k1", "k1"},
		{"(a) new key second everywhere", "k1,k2", "k1,k2", "k1"},
		{"(b) new key first on the first instance", "k2,k1", "k1,k2", ""},
		{"(b) new key first everywhere", "k2,k1", "k2,k1", "k2"},
		{"(c) old key removed", "k2", "k2", "k2"},
	}
	for _, s := range steps {
		if s.name == "(c) old key removed" {
			ks, err := w.db.PINKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(ks) != 1 || ks[0].KeyID != "k2" {
				t.Fatalf("PIN hashes per key before removing k1: %+v, want only k2", ks)
			}
		}
		a, b := w.instance(s.a), w.instance(s.b)
		for i, in := range []instanceOf{a, b, a} {
			tr := in.srv.Run(t, fromAlice(alicePIN+"#", "9"))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			done := in.app.WaitWrites(ctx)
			cancel()
			if !done {
				t.Fatalf("%s: the writes of the call were not done within 10s", s.name)
			}
			row := callByUniqueID(t, w.pool, tr.EnvValue("agi_uniqueid"))
			if !row.Authenticated {
				t.Fatalf("%s: instance %d refused Alice's right PIN\n%s", s.name, i%2+1, tr)
			}
		}
		if got := w.aliceKeyID(); s.want != "" && got != s.want {
			t.Errorf("%s: Alice's PIN hash is made with %s, want %s", s.name, got, s.want)
		}
	}
	if strings.Contains(w.logs.String(), alicePIN) {
		t.Error("a PIN reached the log")
	}
}
