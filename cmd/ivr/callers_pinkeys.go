package main

import (
	"context"
	"fmt"

	"github.com/ivrhq/ivr/internal/tabular"
)

// callersPINKeys is `ivr callers pin-keys`: how many callers have a PIN hash
// of each key id and hash version, so an operator rotating the PIN key sees
// when no hash of the old key is left. It needs no PIN key and shows no hash.
func callersPINKeys(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers pin-keys", "", "Count the callers with a PIN per key id and hash version. A key may leave the key file once no caller has a hash of it.")
	db := f.database()
	format := f.format()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	ks, err := s.PINKeys(ctx)
	if err != nil {
		return fmt.Errorf("count pin keys: %w", err)
	}
	r := tabular.Rows{Columns: []string{"key_id", "version", "callers"}}
	for _, k := range ks {
		r.Add(k.KeyID, k.Version, k.Callers)
	}
	return write(e, r, *format)
}
