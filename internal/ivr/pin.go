package ivr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is a string that must never be shown: a PIN or the digits of another
// secret input. Its String, Format, LogValue and MarshalText methods all print
// "[redacted]", so a Secret passed to fmt, slog or encoding/json by mistake keeps
// its value hidden. Convert it explicitly (string(s)) where the value is needed.
type Secret string

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter for every verb, %d and %x included.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// PIN length limits.
const (
	MinPINLength = 4
	MaxPINLength = 6
)

// Errors returned by ValidatePIN. None of them contains the PIN.
var (
	ErrPINLength = fmt.Errorf("pin must have %d to %d digits", MinPINLength, MaxPINLength)
	ErrPINDigits = errors.New("pin must contain only the digits 0-9")
	ErrWeakPIN   = errors.New("pin is too easy to guess")
)

// commonPINs are frequently chosen PINs that no simple rule below catches
// (keypad columns, years, dates people pick).
var commonPINs = map[string]bool{
	"2580": true, "0852": true, "1004": true, "2000": true, "1122": true,
	"6969": true, "1313": true, "4545": true, "7777": true, "2468": true,
	"1357": true, "9999": true, "1470": true, "3690": true, "112233": true,
	"159753": true, "147258": true, "258369": true, "0007": true, "1998": true,
	"1999": true, "2001": true, "2012": true, "2020": true, "5683": true,
}

// ValidatePIN checks a new PIN against the policy: 4 to 6 digits, not a single
// digit repeated (1111), not an ascending or descending run (1234, 4321, 7890,
// 123456), not a short pattern repeated (1212, 123123) and not one of a small list
// of common PINs. It returns ErrPINLength, ErrPINDigits or ErrWeakPIN; the errors
// never contain the PIN.
func ValidatePIN(pin string) error {
	if len(pin) < MinPINLength || len(pin) > MaxPINLength {
		return ErrPINLength
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return ErrPINDigits
		}
	}
	if isRun(pin, 1) || isRun(pin, -1) || isRepeated(pin) || commonPINs[pin] {
		return ErrWeakPIN
	}
	return nil
}

// isRun reports whether each digit of pin is the previous one plus step, modulo
// 10 (so 7890 and 0987 count as runs).
func isRun(pin string, step int) bool {
	for i := 1; i < len(pin); i++ {
		if (int(pin[i-1]-'0')+step+10)%10 != int(pin[i]-'0') {
			return false
		}
	}
	return true
}

// isRepeated reports whether pin is a shorter unit repeated: 1111, 1212, 123123.
func isRepeated(pin string) bool {
	for unit := 1; unit <= len(pin)/2; unit++ {
		if len(pin)%unit == 0 && strings.Repeat(pin[:unit], len(pin)/unit) == pin {
			return true
		}
	}
	return false
}

// MinKeyLength is the shortest PIN key NewKeyring accepts, in bytes.
const MinKeyLength = 16

// Domain separators of the two PIN hash versions, so a hash of one can never
// pass for the other or for any other use of the same key.
const (
	pinDomainV1 = "ivr pin v1\x00"
	pinDomainV2 = "ivr pin v2\x00"
)

// Keyring holds the server's secret keys for PIN hashes (HMAC-SHA-256), each
// named by a key id. New hashes use the current key and bind the caller's
// account (PINHashV2); Verify uses the key and the version named in the hash,
// so keys can be rotated and old hashes keep working. A key that is not the
// current one only verifies, so with several servers a new key is first added
// as a second key everywhere, then made current everywhere, and the old one is
// removed once every PIN has been changed or re-hashed (NeedsRehash).
//
// A 4 to 6 digit PIN falls to an offline search whatever hash is used, so the
// key is the protection: keep it out of the database and its backups. A Keyring
// is safe for concurrent use; it is immutable after NewKeyring.
type Keyring struct {
	current string
	keys    map[string][]byte
}

// NewKeyring returns a Keyring whose current key is keys[current]. Every key id
// must be non-empty and made of letters, digits, '-', '_' or '.', and every key
// must be at least MinKeyLength bytes. The keys are copied.
func NewKeyring(current string, keys map[string][]byte) (*Keyring, error) {
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("pin keyring: current key %q is missing", current)
	}
	k := &Keyring{current: current, keys: make(map[string][]byte, len(keys))}
	for id, key := range keys {
		if !validKeyID(id) {
			return nil, fmt.Errorf("pin keyring: invalid key id %q", id)
		}
		if len(key) < MinKeyLength {
			return nil, fmt.Errorf("pin keyring: key %q is shorter than %d bytes", id, MinKeyLength)
		}
		k.keys[id] = append([]byte(nil), key...)
	}
	return k, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// ParseKeyring reads a keyring from a flag, environment or file value of the
// form "id:base64key[,id:base64key...]"; the first key is the current one.
// Whitespace and newlines around entries are ignored, so a file may hold one
// entry per line. The key material may be standard or URL base64, padded or not.
// Error messages name key ids but never key material.
func ParseKeyring(spec string) (*Keyring, error) {
	fields := strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	keys := make(map[string][]byte, len(fields))
	current := ""
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, b64, ok := strings.Cut(f, ":")
		if !ok {
			return nil, errors.New("pin keyring: each entry must be id:base64key")
		}
		id = strings.TrimSpace(id)
		key, err := decodeBase64(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("pin keyring: key %q is not valid base64", id)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("pin keyring: key %q given twice", id)
		}
		keys[id] = key
		if current == "" {
			current = id
		}
	}
	if current == "" {
		return nil, errors.New("pin keyring: no key given")
	}
	return NewKeyring(current, keys)
}

func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// CurrentKeyID returns the id of the key new hashes are made with.
func (k *Keyring) CurrentKeyID() string { return k.current }

// Hash returns the keyed hash of pin for the caller with account, under the
// current key (PINHashV2): two callers with one PIN have different hashes. It
// does not check the PIN policy; call ValidatePIN first for a PIN a caller
// chooses.
func (k *Keyring) Hash(account, pin string) PINHash {
	return PINHash{KeyID: k.current, Version: PINHashV2, Sum: mac(k.keys[k.current], PINHashV2, account, pin)}
}

// Verify reports whether pin is the PIN of the caller with account, hashed as
// h, comparing in constant time with the key and version named in h. It
// returns false for a zero hash, a key id the keyring does not hold and an
// unknown version, after the same work as for a real hash, so an account with
// no usable hash takes as long to refuse as a wrong PIN.
func (k *Keyring) Verify(account, pin string, h PINHash) bool {
	key, ok := k.keys[h.KeyID]
	usable := ok && !h.IsZero() && (h.Version == PINHashV1 || h.Version == PINHashV2)
	if !usable {
		key = k.keys[k.current]
	}
	sum := mac(key, h.Version, account, pin)
	return hmac.Equal(sum, h.Sum) && usable
}

// NeedsRehash reports whether h should be replaced by Hash of the same PIN:
// it was made with a key other than the current one, or in an older version.
func (k *Keyring) NeedsRehash(h PINHash) bool {
	return h.KeyID != k.current || h.Version != PINHashV2
}

// mac is the HMAC of a PIN hash of version v (PINHashV1: the PIN alone; any
// other: the account and the PIN). Accounts are digits only, so the NUL after
// the account keeps every account and PIN pair apart.
func mac(key []byte, v int, account, pin string) []byte {
	m := hmac.New(sha256.New, key)
	if v == PINHashV1 {
		m.Write([]byte(pinDomainV1))
	} else {
		m.Write([]byte(pinDomainV2))
		m.Write([]byte(account))
		m.Write([]byte{0})
	}
	m.Write([]byte(pin))
	return m.Sum(nil)
}
