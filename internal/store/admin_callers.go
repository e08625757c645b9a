package store

import (
	"cmp"
	"context"
	"slices"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// CallerFilter selects callers for ListCallers. Every zero field leaves its
// filter out; Limit 0 means no limit.
type CallerFilter struct {
	AccountPrefix string           // accounts starting with these digits
	Name          string           // names containing this text, any case
	Phone         string           // a number containing this text
	Status        ivr.CallerStatus // this status only
	Locked        *bool            // locked out now (true) or not (false)
	After         string           // accounts after this one, for keyset paging
	Limit, Offset int
}

// ListCallers returns the callers f selects, in account order, with their
// numbers.
func (db *DB) ListCallers(ctx context.Context, f CallerFilter) ([]ivr.Caller, error) {
	lim := int32(f.Limit)
	if f.Limit <= 0 {
		lim = 1<<31 - 1
	}
	rows, err := db.q.AdminListCallers(ctx, sqlcdb.AdminListCallersParams{
		After:         f.After,
		AccountPrefix: opt(f.AccountPrefix),
		Name:          opt(f.Name),
		Phone:         opt(f.Phone),
		Status:        opt(string(f.Status)),
		Locked:        f.Locked,
		Lim:           lim,
		Off:           int32(f.Offset),
	})
	if err != nil {
		return nil, mapErr(err)
	}
	cs := make([]ivr.Caller, len(rows))
	for i, r := range rows {
		cs[i] = callerFromRow(r.Caller, r.Phones)
	}
	return cs, nil
}

// opt returns nil for the zero value, the "no filter" of a query.
func opt[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func repeat(id int64, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = id
	}
	return ids
}

// CallerChange lists what UpdateCaller changes; nil fields keep their value.
type CallerChange struct {
	Name     *string
	Language *string
	Status   *ivr.CallerStatus
	Phones   []string // replaces every number when not nil
}

// UpdateCaller changes the caller with account; ivr.ErrNotFound when there is
// none, a *ivr.ConflictError when a new number belongs to another caller, an
// *ivr.InvalidValueError when a value breaks a rule of the schema.
func (db *DB) UpdateCaller(ctx context.Context, account string, ch CallerChange) error {
	return mapErr(db.tx(ctx, func(q *sqlcdb.Queries) error {
		p := sqlcdb.AdminUpdateCallerParams{Account: account, Name: ch.Name, Language: ch.Language}
		if ch.Status != nil {
			p.Status = new(string(*ch.Status))
		}
		id, err := q.AdminUpdateCaller(ctx, p)
		if err != nil || ch.Phones == nil {
			return err
		}
		if err := q.AdminDeletePhones(ctx, id); err != nil {
			return err
		}
		return q.AdminInsertPhones(ctx, sqlcdb.AdminInsertPhonesParams{CallerIds: repeat(id, len(ch.Phones)), Numbers: ch.Phones})
	}))
}

// affected turns a count of changed rows into ivr.ErrNotFound when it is 0.
func affected(n int64, err error) error {
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ivr.ErrNotFound
	}
	return nil
}

// DeleteCaller deletes the caller with account and their numbers; their calls
// and recordings stay, unlinked. ivr.ErrNotFound when there is none.
func (db *DB) DeleteCaller(ctx context.Context, account string) error {
	return affected(db.q.AdminDeleteCaller(ctx, account))
}

// SetCallerPIN replaces the PIN hash of the caller with account and clears
// their failures and lockout; ivr.ErrNotFound when there is none.
func (db *DB) SetCallerPIN(ctx context.Context, account string, h ivr.PINHash) error {
	return affected(db.q.AdminSetPIN(ctx, sqlcdb.AdminSetPINParams{Account: account, PinKeyID: &h.KeyID, PinHash: h.Sum,
		PinVersion: int16(h.Version)}))
}

// PINKeyCount is how many callers have a PIN hashed with one key and hash
// version (ivr.PINHashV1 or ivr.PINHashV2).
type PINKeyCount struct {
	KeyID   string
	Version int
	Callers int64
}

// PINKeys counts the callers with a PIN per key id and hash version, in key
// id order; callers without a PIN are not counted. A key can be dropped from
// the keyring once no caller has a hash of it.
func (db *DB) PINKeys(ctx context.Context) ([]PINKeyCount, error) {
	rows, err := db.q.AdminPINKeys(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]PINKeyCount, len(rows))
	for i, r := range rows {
		out[i] = PINKeyCount{KeyID: r.KeyID, Version: int(r.PinVersion), Callers: r.Callers}
	}
	return out, nil
}

// UnlockCaller clears the failures and lockout of the caller with account;
// ivr.ErrNotFound when there is none.
func (db *DB) UnlockCaller(ctx context.Context, account string) error {
	return affected(db.q.AdminUnlockCaller(ctx, account))
}

// Taken returns which of accounts already exist, and which of numbers belong
// to a caller, mapped to that caller's account.
func (db *DB) Taken(ctx context.Context, accounts, numbers []string) (takenAccounts map[string]bool, takenNumbers map[string]string, err error) {
	takenAccounts, takenNumbers = map[string]bool{}, map[string]string{}
	as, err := db.q.AdminTakenAccounts(ctx, accounts)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	for _, a := range as {
		takenAccounts[a] = true
	}
	ns, err := db.q.AdminTakenNumbers(ctx, numbers)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	for _, n := range ns {
		takenNumbers[n.E164] = n.Account
	}
	return takenAccounts, takenNumbers, nil
}

// ImportCallers inserts callers and their numbers in one transaction, batch
// callers per statement (a caller without a Status is active), calling done with the size of each batch written. On
// any error nothing is imported.
func (db *DB) ImportCallers(ctx context.Context, callers []ivr.Caller, batch int, done func(n int)) error {
	return mapErr(db.tx(ctx, func(q *sqlcdb.Queries) error {
		for chunk := range slices.Chunk(callers, max(batch, 1)) {
			p := sqlcdb.AdminInsertCallersParams{
				Accounts:    make([]string, len(chunk)),
				Names:       make([]string, len(chunk)),
				Languages:   make([]string, len(chunk)),
				Statuses:    make([]string, len(chunk)),
				PinKeyIds:   make([]string, len(chunk)),
				PinHashes:   make([][]byte, len(chunk)),
				PinVersions: make([]int16, len(chunk)),
			}
			for i, c := range chunk {
				p.Accounts[i], p.Names[i], p.Languages[i] = c.Account, c.Name, c.Language
				p.Statuses[i] = string(cmp.Or(c.Status, ivr.CallerActive))
				_, p.PinHashes[i], p.PinVersions[i] = pinColumns(c.PIN)
				p.PinKeyIds[i] = c.PIN.KeyID
				if p.PinHashes[i] == nil {
					p.PinHashes[i] = []byte{}
				}
			}
			ids, err := q.AdminInsertCallers(ctx, p)
			if err != nil {
				return err
			}
			idOf := make(map[string]int64, len(ids))
			for _, r := range ids {
				idOf[r.Account] = r.ID
			}
			var phones sqlcdb.AdminInsertPhonesParams
			for _, c := range chunk {
				for _, n := range c.Phones {
					phones.CallerIds = append(phones.CallerIds, idOf[c.Account])
					phones.Numbers = append(phones.Numbers, n)
				}
			}
			if err := q.AdminInsertPhones(ctx, phones); err != nil {
				return err
			}
			done(len(chunk))
		}
		return nil
	}))
}
