package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"

	"github.com/ivrhq/ivr/internal/callerimport"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/phone"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// importBatch is how many callers one INSERT of an import carries.
const importBatch = 1000

// maxProblemsShown is how many bad rows of one kind an import lists before it
// sums up the rest in one line.
const maxProblemsShown = 50

func runCallers(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "callers", []subcommand{
		{"add", "ACCOUNT", "add a caller", callersAdd},
		{"list", "", "list callers, filtered and paged", callersList},
		{"show", "ACCOUNT", "show one caller", callersShow},
		{"update", "ACCOUNT", "change a caller's name, language, status or numbers", callersUpdate},
		{"delete", "ACCOUNT", "delete a caller (their calls stay, unlinked)", accountOp("callers delete",
			"Delete a caller and their numbers. Their calls and recordings stay, no longer linked to them.",
			"deleted", (*store.DB).DeleteCaller)},
		{"set-pin", "ACCOUNT", "set a caller's PIN (asked for, never on the command line)", callersSetPIN},
		{"pin-keys", "", "count the callers' PIN hashes per key id (for key rotation)", callersPINKeys},
		{"unlock", "ACCOUNT", "clear a caller's PIN failures and lockout", accountOp("callers unlock",
			"Clear a caller's consecutive PIN failures and lockout.", "unlocked", (*store.DB).UnlockCaller)},
		{"import", "FILE.csv", "import callers from CSV (account,name,numbers,language,status,pin)", callersImport},
		{"export", "", "write every caller as CSV, without PINs", callersExport},
	}, args)
}

// callerRows is the table of callers that list and show print. It never
// includes a PIN or its hash, only whether one is set.
func callerRows(cs []ivr.Caller, now time.Time) tabular.Rows {
	r := tabular.Rows{Columns: []string{"account", "name", "numbers", "language", "status", "pin", "failures", "locked_until", "updated_at"}}
	for _, c := range cs {
		pin, locked := "unset", ""
		if !c.PIN.IsZero() {
			pin = "set"
		}
		if c.Locked(now) {
			locked = c.LockedUntil.Format(time.RFC3339)
		}
		r.Add(c.Account, c.Name, strings.Join(c.Phones, " "), c.Language, c.Status, pin, c.PINFailures, locked, c.UpdatedAt.Format(time.RFC3339))
	}
	return r
}

// numbers normalises the numbers of a --numbers value.
func numbers(raw, region string) ([]string, error) {
	if err := checkRegion(region); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range strings.FieldsFunc(raw, func(r rune) bool { return r == ';' || r == ',' }) {
		e164, ok := phone.Normalize(n, region)
		if !ok {
			return nil, usageError{fmt.Sprintf("number %q is not a valid phone number (region %s)", n, region)}
		}
		out = append(out, e164)
	}
	return out, nil
}

func callersAdd(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers add", "ACCOUNT", "Add a caller. A PIN is optional here (set it later with set-pin); give it with --pin-file or --pin-stdin.")
	db := f.database()
	name := f.String("name", "", "the caller's name")
	nums := f.String("numbers", "", "phone numbers, separated by ';' or ','")
	lang := f.String("language", "", "Asterisk language code such as en or es_MX (empty: the channel's)")
	f.dataFlags("name", "numbers", "language")
	region := f.region()
	pins := f.pinSource()
	keys := f.keySource()
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c := ivr.Caller{Account: pos[0], Name: *name, Language: *lang, Status: ivr.CallerActive}
	if c.Phones, err = numbers(*nums, *region); err != nil {
		return err
	}
	if pins.file != "" || pins.stdin {
		if c.PIN, err = newPIN(e, pins, keys, c.Account); err != nil {
			return err
		}
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.CreateCaller(ctx, c); err != nil {
		return fmt.Errorf("add caller %s: %w", c.Account, refused(ctx, s, c.Account, err, map[string]string{
			"account": c.Account, "language": c.Language, "status": string(c.Status)}, c.Phones))
	}
	fmt.Fprintf(e.stdout, "added caller %s\n", c.Account)
	return nil
}

// newPIN reads a PIN, checks it against the policy and hashes it for the
// caller with account.
func newPIN(e *env, pins *pinSource, keys *keySource, account string) (ivr.PINHash, error) {
	kr, err := keys.keyring()
	if err != nil {
		return ivr.PINHash{}, err
	}
	pin, err := pins.read(e)
	if err != nil {
		return ivr.PINHash{}, err
	}
	if err := ivr.ValidatePIN(string(pin)); err != nil {
		return ivr.PINHash{}, err
	}
	return kr.Hash(account, string(pin)), nil
}

func callersList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers list", "", "List callers in account order.")
	db := f.database()
	format := f.format()
	var filter store.CallerFilter
	f.StringVar(&filter.AccountPrefix, "account", "", "only accounts starting with these digits")
	f.StringVar(&filter.Name, "name", "", "only names containing this text (any case)")
	ph := f.String("phone", "", "only callers with a number containing these digits (a full number is normalised first)")
	status := f.String("status", "", "only callers with this status: active or disabled")
	locked := f.String("locked", "", "yes: only callers locked out now; no: only those not locked")
	f.IntVar(&filter.Limit, "limit", 100, "at most this many callers")
	f.IntVar(&filter.Offset, "offset", 0, "skip this many callers first")
	f.StringVar(&filter.After, "after", "", "start after this account (for paging: pass the last account shown)")
	region := f.region()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if err := checkRegion(*region); err != nil {
		return err
	}
	if *ph != "" {
		filter.Phone = strings.TrimLeft(*ph, "+")
		if e164, ok := phone.Normalize(*ph, *region); ok && len(strings.Trim(*ph, "+0123456789 -().")) == 0 && len(filter.Phone) >= 7 {
			filter.Phone = e164
		}
	}
	switch *status {
	case "", string(ivr.CallerActive), string(ivr.CallerDisabled):
		filter.Status = ivr.CallerStatus(*status)
	default:
		return usageError{fmt.Sprintf("callers list: --status %q must be active or disabled", *status)}
	}
	switch strings.ToLower(*locked) {
	case "":
	case "yes", "true":
		filter.Locked = new(true)
	case "no", "false":
		filter.Locked = new(false)
	default:
		return usageError{fmt.Sprintf("callers list: --locked %q must be yes or no", *locked)}
	}
	if filter.Limit <= 0 || filter.Offset < 0 {
		return usageError{"callers list: --limit must be positive and --offset not negative"}
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	cs, err := s.ListCallers(ctx, filter)
	if err != nil {
		return fmt.Errorf("list callers: %w", err)
	}
	return write(e, callerRows(cs, time.Now()), *format)
}

func callersShow(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers show", "ACCOUNT", "Show one caller.")
	db := f.database()
	format := f.format()
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := s.CallerByAccount(ctx, pos[0])
	if err != nil {
		return callerError(pos[0], err)
	}
	return write(e, callerRows([]ivr.Caller{c}, time.Now()), *format)
}

// callerError words a failed lookup of account.
func callerError(account string, err error) error {
	if errors.Is(err, ivr.ErrNotFound) {
		return fmt.Errorf("no caller with account %s", account)
	}
	return fmt.Errorf("caller %s: %w", account, err)
}

// refused words err, a change to the caller with account that the database
// refused, for the operator who asked for it (see worded). A number that
// belongs to another caller is named with that caller. Other errors come back
// unchanged.
func refused(ctx context.Context, s *store.DB, account string, err error, given map[string]string, phones []string) error {
	var ce *ivr.ConflictError
	if errors.As(err, &ce) && ce.Constraint == "caller_phones_e164_key" {
		if _, owners, terr := s.Taken(ctx, nil, phones); terr == nil {
			for _, n := range phones {
				if owner, ok := owners[n]; ok && owner != account {
					return fmt.Errorf("number %s already belongs to caller %s", n, owner)
				}
			}
		}
	}
	if msg, _, ok := worded(err, given); ok {
		return errors.New(msg)
	}
	return err
}

// worded says why the database refused a write, in the operator's words: the
// field as store.RefusalOf names it, the value given for it (from given, keyed
// by that field; never a secret's) and what is wrong with it. ok is false when
// err is not a refusal or one the store has no words for.
func worded(err error, given map[string]string) (msg, field string, ok bool) {
	var constraint, code string
	var ce *ivr.ConflictError
	var ie *ivr.InvalidValueError
	switch {
	case errors.As(err, &ce):
		constraint = ce.Constraint
	case errors.As(err, &ie):
		constraint, code = ie.Constraint, ie.Code
	default:
		return "", "", false
	}
	r, ok := store.RefusalOf(constraint)
	switch {
	case !ok && code == pgerrcode.CharacterNotInRepertoire:
		return "a value is not UTF-8 text", "", true
	case !ok:
		return "", "", false
	case r.Secret || given[r.Field] == "":
		return r.Field + " " + r.Problem, r.Field, true
	}
	return fmt.Sprintf("%s %q %s", r.Field, given[r.Field], r.Problem), r.Field, true
}

func callersUpdate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers update", "ACCOUNT", "Change the fields given; the others keep their values.")
	db := f.database()
	var ch store.CallerChange
	name := f.String("name", "", "new name")
	lang := f.String("language", "", "new Asterisk language code; --language= clears it (the channel's is used)")
	status := f.String("status", "", "new status: active or disabled")
	nums := f.String("numbers", "", "replace all numbers with these, separated by ';' or ','")
	f.dataFlags("name", "language", "status", "numbers")
	region := f.region()
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["name"] {
		ch.Name = name
	}
	if set["language"] {
		ch.Language = lang
	}
	if set["status"] {
		st := ivr.CallerStatus(*status)
		if st != ivr.CallerActive && st != ivr.CallerDisabled {
			return usageError{fmt.Sprintf("callers update: --status %q must be active or disabled", *status)}
		}
		ch.Status = &st
	}
	if set["numbers"] {
		if ch.Phones, err = numbers(*nums, *region); err != nil {
			return err
		}
		if len(ch.Phones) == 0 {
			return usageError{"callers update: --numbers needs at least one number"}
		}
	}
	if !set["name"] && !set["language"] && !set["status"] && !set["numbers"] {
		return usageError{"callers update: nothing to change (give --name, --language, --status or --numbers)"}
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.UpdateCaller(ctx, pos[0], ch); err != nil {
		given := map[string]string{"account": pos[0], "language": *lang, "status": *status}
		return callerError(pos[0], refused(ctx, s, pos[0], err, given, ch.Phones))
	}
	fmt.Fprintf(e.stdout, "updated caller %s\n", pos[0])
	return nil
}

// accountOp builds a subcommand that takes one account and runs op on it.
func accountOp(name, summary, done string, op func(s *store.DB, ctx context.Context, account string) error) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		f := newFlags(e, name, "ACCOUNT", summary)
		db := f.database()
		pos, err := f.parse(args, 1, 1)
		if err != nil {
			return err
		}
		s, err := db.Store(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := op(s, ctx, pos[0]); err != nil {
			return callerError(pos[0], err)
		}
		fmt.Fprintf(e.stdout, "%s caller %s\n", done, pos[0])
		return nil
	}
}

func callersSetPIN(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers set-pin", "ACCOUNT", "Set a caller's PIN and clear their failures and lockout. The PIN is asked for on the terminal (twice, not shown), or read from --pin-file or --pin-stdin.")
	db := f.database()
	pins := f.pinSource()
	keys := f.keySource()
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	h, err := newPIN(e, pins, keys, pos[0])
	if err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetCallerPIN(ctx, pos[0], h); err != nil {
		return callerError(pos[0], err)
	}
	fmt.Fprintf(e.stdout, "PIN set for caller %s\n", pos[0])
	return nil
}

func callersImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers import", "FILE.csv", "Import callers from a UTF-8 CSV file with the header account,name,numbers,language,status,pin "+
		"(numbers separated by ';' or spaces; every column but account may be empty or left out; status is active or disabled). Every row is checked first; "+
		"when any is bad, every bad row is reported with its line and nothing is imported, unless --skip-invalid. "+
		"The import is one transaction: all the valid rows or nothing.")
	db := f.database()
	skip := f.Bool("skip-invalid", false, "import the valid rows even when some are bad")
	region := f.region()
	keys := f.keySource()
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	file, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer file.Close()
	if err := checkRegion(*region); err != nil {
		return err
	}
	res, err := callerimport.Read(file, *region)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	var kr *ivr.Keyring
	for _, row := range res.Rows {
		if row.PIN != "" {
			if kr, err = keys.keyring(); err != nil {
				return err
			}
			break
		}
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var taken callerimport.Taken
	accounts, nums := make([]string, 0, len(res.Rows)), make([]string, 0, len(res.Rows))
	for _, row := range res.Rows {
		accounts = append(accounts, row.Account)
		nums = append(nums, row.Phones...)
	}
	if taken.Accounts, taken.Numbers, err = s.Taken(ctx, accounts, nums); err != nil {
		return fmt.Errorf("check existing callers: %w", err)
	}
	res.Reject(taken)
	if err := callerimport.Report(e.stderr, pos[0], res.Problems, maxProblemsShown); err != nil {
		return err
	}
	if len(res.Problems) > 0 && !*skip {
		return fmt.Errorf("%s: %d of %d rows are invalid; nothing imported (--skip-invalid imports the %d valid rows)",
			pos[0], len(res.Problems), res.Records, len(res.Rows))
	}
	callers := make([]ivr.Caller, len(res.Rows))
	for i, row := range res.Rows {
		callers[i] = ivr.Caller{Account: row.Account, Name: row.Name, Language: row.Language, Phones: row.Phones, Status: row.Status}
		if row.PIN != "" {
			callers[i].PIN = kr.Hash(row.Account, string(row.PIN))
		}
	}
	bar := tabular.NewProgress(e.stderr, "import", int64(len(callers)))
	err = s.ImportCallers(ctx, callers, importBatch, func(n int) { bar.Add(int64(n)) })
	bar.Finish()
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing imported)", pos[0], err)
	}
	fmt.Fprintf(e.stdout, "imported %d callers", len(callers))
	if len(res.Problems) > 0 {
		fmt.Fprintf(e.stdout, ", skipped %d invalid rows", len(res.Problems))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func callersExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "callers export", "", "Write every caller to standard output as CSV (account,name,numbers,language,status), in account order, without PINs; callers import reads it back into the same callers.")
	db := f.reportsDatabase()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	w := callerimport.NewWriter(e.stdout)
	for after := ""; ; {
		cs, err := s.ListCallers(ctx, store.CallerFilter{After: after, Limit: 5000})
		if err != nil {
			return fmt.Errorf("export callers: %w", err)
		}
		for _, c := range cs {
			if err := w.Write(c); err != nil {
				return err
			}
		}
		if len(cs) < 5000 {
			break
		}
		after = cs[len(cs)-1].Account
	}
	return w.Flush()
}
