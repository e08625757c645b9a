package ivr_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/ivr"
)

func TestValidatePIN(t *testing.T) {
	tests := []struct {
		pin  string
		want error
	}{
		{"4831", nil},
		{"90210", nil},
		{"583920", nil},
		{"0451", nil},
		{"123", ivr.ErrPINLength},
		{"1234567", ivr.ErrPINLength},
		{"", ivr.ErrPINLength},
		{"12a4", ivr.ErrPINDigits},
		{"12*4", ivr.ErrPINDigits},
		{"1111", ivr.ErrWeakPIN},
		{"000000", ivr.ErrWeakPIN},
		{"1234", ivr.ErrWeakPIN},
		{"4321", ivr.ErrWeakPIN},
		{"123456", ivr.ErrWeakPIN},
		{"654321", ivr.ErrWeakPIN},
		{"7890", ivr.ErrWeakPIN},
		{"1212", ivr.ErrWeakPIN},
		{"123123", ivr.ErrWeakPIN},
		{"2580", ivr.ErrWeakPIN},
	}
	for _, tt := range tests {
		err := ivr.ValidatePIN(tt.pin)
		if !errors.Is(err, tt.want) {
			t.Errorf("ValidatePIN(%q) = %v, want %v", tt.pin, err, tt.want)
		}
		if err != nil && tt.pin != "" && strings.Contains(err.Error(), tt.pin) {
			t.Errorf("ValidatePIN(%q) error %q contains the PIN", tt.pin, err)
		}
	}
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// legacyHash is a PIN hash as the server made them before hashes bound the
// caller (PINHashV1): the HMAC-SHA-256 of the PIN alone, under key id.
func legacyHash(id string, key []byte, pin string) ivr.PINHash {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ivr pin v1\x00" + pin))
	return ivr.PINHash{KeyID: id, Version: ivr.PINHashV1, Sum: m.Sum(nil)}
}

func TestKeyringHashVerify(t *testing.T) {
	kr, err := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	h := kr.Hash("1001", "4831")
	if h.KeyID != "k1" || h.Version != ivr.PINHashV2 || len(h.Sum) != 32 {
		t.Fatalf("Hash = %+v, want key k1, version 2 and 32 bytes", h)
	}
	if !kr.Verify("1001", "4831", h) {
		t.Error("Verify(right PIN) = false")
	}
	if kr.Verify("1001", "4832", h) {
		t.Error("Verify(wrong PIN) = true")
	}
	if kr.Verify("1002", "4831", h) {
		t.Error("Verify(right PIN, another account) = true")
	}
	if kr.Verify("1001", "4831", ivr.PINHash{}) {
		t.Error("Verify(zero hash) = true")
	}
	if kr.Verify("1001", "4831", ivr.PINHash{KeyID: "k9", Version: ivr.PINHashV2, Sum: h.Sum}) {
		t.Error("Verify(unknown key id) = true")
	}
	if kr.Verify("1001", "4831", ivr.PINHash{KeyID: "k1", Version: 3, Sum: h.Sum}) {
		t.Error("Verify(unknown version) = true")
	}
	other, _ := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(2)})
	if other.Verify("1001", "4831", h) {
		t.Error("a different key with the same id verified the PIN")
	}
}

// TestKeyringBindsCaller checks that a stolen table does not show which
// callers share a PIN.
func TestKeyringBindsCaller(t *testing.T) {
	kr, _ := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(1)})
	a, b := kr.Hash("1001", "4831"), kr.Hash("1002", "4831")
	if bytes.Equal(a.Sum, b.Sum) {
		t.Error("two callers with one PIN have the same hash")
	}
	// Accounts are digits only, but no account and PIN pair runs into another.
	if bytes.Equal(kr.Hash("10", "014831").Sum, kr.Hash("100", "14831").Sum) {
		t.Error("account 10 with PIN 014831 hashes like account 100 with PIN 14831")
	}
}

// TestKeyringLegacyHash checks that a hash of the PIN alone, as stored before
// hashes bound the caller, still verifies and is marked for a rehash.
func TestKeyringLegacyHash(t *testing.T) {
	kr, _ := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(1)})
	old := legacyHash("k1", testKey(1), "4831")
	if !kr.Verify("1001", "4831", old) || kr.Verify("1001", "4832", old) {
		t.Error("a version 1 hash does not verify as before")
	}
	if !kr.NeedsRehash(old) {
		t.Error("NeedsRehash(version 1 hash with the current key) = false")
	}
	if kr.NeedsRehash(kr.Hash("1001", "4831")) {
		t.Error("NeedsRehash(new hash) = true")
	}
}

func TestKeyringRotation(t *testing.T) {
	old, _ := ivr.NewKeyring("k0", map[string][]byte{"k0": testKey(1)})
	h0 := old.Hash("1001", "4831")
	spec := "k1:" + base64.StdEncoding.EncodeToString(testKey(2)) + ",\n k0:" + base64.RawURLEncoding.EncodeToString(testKey(1))
	kr, err := ivr.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	if kr.CurrentKeyID() != "k1" {
		t.Errorf("current key = %q, want k1 (the first one)", kr.CurrentKeyID())
	}
	if !kr.Verify("1001", "4831", h0) {
		t.Error("a hash made with the old key no longer verifies")
	}
	if !kr.NeedsRehash(h0) {
		t.Error("NeedsRehash(old hash) = false")
	}
	h1 := kr.Hash("1001", "4831")
	if h1.KeyID != "k1" || kr.NeedsRehash(h1) || !kr.Verify("1001", "4831", h1) {
		t.Errorf("new hash %v does not use and verify with the current key", h1)
	}
}

func TestParseKeyringErrors(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("short"))
	for _, spec := range []string{
		"",
		"nocolon",
		"k1:" + secret,
		"k1:!!!notbase64!!!",
		"bad id:" + base64.StdEncoding.EncodeToString(testKey(1)),
		"k1:" + base64.StdEncoding.EncodeToString(testKey(1)) + ",k1:" + base64.StdEncoding.EncodeToString(testKey(2)),
	} {
		_, err := ivr.ParseKeyring(spec)
		if err == nil {
			t.Errorf("ParseKeyring(%q) = nil error", spec)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "notbase64") {
			t.Errorf("ParseKeyring error %q echoes key material", err)
		}
	}
	if _, err := ivr.NewKeyring("k2", map[string][]byte{"k1": testKey(1)}); err == nil {
		t.Error("NewKeyring with a missing current key = nil error")
	}
}

func TestSecretRedacted(t *testing.T) {
	pin := ivr.Secret("4831")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "pin", pin)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "pin", pin)
	fmt.Fprintf(&buf, "%v %s %d %q %x %#v %+v", pin, pin, pin, pin, pin, pin, struct{ P ivr.Secret }{pin})
	j, _ := json.Marshal(map[string]ivr.Secret{"pin": pin})
	buf.Write(j)
	buf.WriteString(ivr.PINHash{KeyID: "k1", Sum: []byte("4831")}.String())
	if strings.Contains(buf.String(), "4831") {
		t.Errorf("secret leaked: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "[redacted]") {
		t.Errorf("no redaction marker in %s", buf.String())
	}
}

func BenchmarkKeyringVerify(b *testing.B) {
	kr, _ := ivr.NewKeyring("k1", map[string][]byte{"k1": testKey(1)})
	h := kr.Hash("1001", "4831")
	for b.Loop() {
		if !kr.Verify("1001", "4831", h) {
			b.Fatal("verify failed")
		}
	}
}
