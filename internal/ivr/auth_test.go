package ivr_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// TestLockHoldsForCallsInProgress holds calls at the PIN prompt, locks the
// account with wrong PINs from other calls meanwhile, then lets the held calls
// answer with the right PIN: none of them gets in, and the lock engaged after
// exactly LockAfter failures. It does not run in parallel with the other
// tests: its many calls would slow the ones bound by short timeouts
// (TestLookupTimeout's 150ms).
func TestLockHoldsForCallsInProgress(t *testing.T) {
	const held, lockAfter = 50, 5
	w := newWorld(t, ivr.Config{MaxPINTries: 1, LockAfter: lockAfter, LockBase: time.Hour}, nil)
	// The held calls come from an unknown number and type Alice's account:
	// the journal step of the account shows when they have read her row.
	byAccount := agiclient.Call{Script: "ivr?menu=main", Keys: []string{aliceAccount + "#", alicePIN + "#", "9"}}
	first := w.run(byAccount)
	w.checkEnd(first, ivr.ResultCompleted, ivr.EndCompleted)
	pinStep, prompts := 0, 0 // the command of the PIN prompt: the second GET DATA
	for i, cmd := range first.tr.Commands() {
		if cmd == "GET DATA" {
			if prompts++; prompts == 2 {
				pinStep = i + 1
				break
			}
		}
	}

	ctx := context.Background()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		uid []string
	)
	for range held {
		wg.Go(func() {
			c := byAccount
			c.Faults = []agiclient.Fault{{Step: pinStep, Kind: agiclient.SlowReply, Delay: 10 * time.Second}}
			tr, err := c.Run(ctx, w.srv.Addr)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			uid = append(uid, tr.EnvValue("agi_uniqueid"))
			mu.Unlock()
		})
	}
	// Every held call has read Alice's row, unlocked, and waits at the PIN
	// prompt.
	open := `SELECT count(*) FROM call_steps s JOIN calls c ON c.id = s.call_id
		WHERE s.kind = 'account' AND s.outcome = 'valid' AND c.ended_at IS NULL`
	w.eventually("the held calls are at the PIN prompt", func() bool { return count(t, w.pool, open) == held })
	for i := 1; i <= lockAfter+1; i++ {
		c := w.run(fromAlice(wrongPIN + "#"))
		if i < lockAfter {
			w.checkEnd(c, ivr.ResultAuthFailed, ivr.EndAuthFailed)
		} else {
			w.checkEnd(c, ivr.ResultLocked, ivr.EndLockedOut)
		}
	}
	if n := count(t, w.pool, open); n != held {
		t.Fatalf("%d calls still at the PIN prompt after the lock, want %d: make the delay longer", n, held)
	}
	wg.Wait()

	for _, u := range uid {
		row := callByUniqueID(t, w.pool, u)
		if row.Authenticated || row.EndReason == nil || *row.EndReason != string(ivr.EndLockedOut) {
			t.Errorf("call held at the PIN prompt: authenticated %v, end %v; want refused as locked", row.Authenticated, deref(row.EndReason))
		}
	}
	if n := count(t, w.pool, "SELECT count(*) FROM pin_attempts WHERE caller_id = $1 AND success", w.alice); n != 1 {
		t.Errorf("%d successful PIN attempts, want only the one before the lock", n)
	}
	if n := count(t, w.pool, "SELECT pin_failures FROM callers WHERE id = $1", w.alice); n != lockAfter+1+held {
		t.Errorf("pin_failures = %d, want %d (every attempt after the first counted)", n, lockAfter+1+held)
	}
}

// TestLegacyPINHashUpgraded gives a caller a hash of the PIN alone, as stored
// before hashes bound the caller: the right PIN still works, and replaces the
// hash by one bound to the caller's account.
func TestLegacyPINHashUpgraded(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	old := legacyHash("k1", testKey(7), "270591")
	seedCallerHash(t, w.pool, old, "2002", "Bob", "", "+14155550177")
	bob := agiclient.Call{Script: "ivr?menu=main", Env: map[string]string{"agi_callerid": "4155550177"}, Keys: []string{"270591#", "9"}}

	c := w.run(bob)
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if !c.row.Authenticated {
		t.Fatal("the right PIN against a version 1 hash was refused")
	}
	var now ivr.PINHash
	if err := w.pool.QueryRow(context.Background(), "SELECT pin_key_id, pin_version, pin_hash FROM callers WHERE account = '2002'").
		Scan(&now.KeyID, &now.Version, &now.Sum); err != nil {
		t.Fatal(err)
	}
	if now.Version != ivr.PINHashV2 || bytes.Equal(now.Sum, old.Sum) || !w.kr.Verify("2002", "270591", now) {
		t.Errorf("hash after the right PIN: version %d, changed %v; want a version 2 hash of the same PIN", now.Version, !bytes.Equal(now.Sum, old.Sum))
	}
	// Alice has the same kind of PIN hash under another account: Bob's new
	// hash of his PIN differs from hers of the same PIN.
	if aliceSame := w.kr.Hash(aliceAccount, "270591"); bytes.Equal(aliceSame.Sum, now.Sum) {
		t.Error("two callers with one PIN have the same hash")
	}
	if c := w.run(bob); !c.row.Authenticated {
		t.Error("the right PIN was refused after the upgrade")
	}
}
