package main

import (
	"context"
	"strings"
	"testing"
)

// TestCallersPINKeys counts the PIN hashes per key id, the check before an
// old key leaves the key file: a caller whose hash is still of the old key
// shows under it, and callers without a PIN are not counted.
func TestCallersPINKeys(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if out := c.ok("", "callers", "pin-keys", "--format", "csv"); out != "key_id,version,callers\n" {
		t.Errorf("no callers:\n%s", out)
	}
	c.ok("4831\n", "callers", "add", "1001", "--numbers", "+14155550101", "--pin-stdin")
	c.ok("5820\n", "callers", "add", "1002", "--numbers", "+14155550102", "--pin-stdin")
	c.ok("", "callers", "add", "1003", "--numbers", "+14155550103")
	// 1002's PIN as the previous key made it, before hashes bound the account.
	if _, err := c.pool.Exec(context.Background(), `UPDATE callers SET pin_key_id = 'k0', pin_version = 1 WHERE account = '1002'`); err != nil {
		t.Fatal(err)
	}
	out := c.ok("", "callers", "pin-keys", "--format", "csv")
	if out != "key_id,version,callers\nk0,1,1\nk1,2,1\n" {
		t.Errorf("pin-keys:\n%s", out)
	}
	if strings.Contains(out, "4831") || strings.Contains(out, "5820") {
		t.Error("pin-keys shows a PIN")
	}
}
