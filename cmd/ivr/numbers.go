package main

// The numbers and schedules commands share one implementation: both are
// tables applied whole from YAML, without versions. tableKind[T] holds what
// differs.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// tableKind describes ivr.Number or ivr.Schedule to the shared commands.
type tableKind[T any] struct {
	noun, plural string
	key          func(T) string
	parse        func(name string, data []byte, opts catalog.Options) ([]T, error)
	marshal      func([]T) ([]byte, error)
	diff         func(a, b []T) []catalog.Change
	fields       func(T) [][2]string
	all          func(s *store.DB, ctx context.Context) ([]T, error)
	replace      func(s *store.DB, ctx context.Context, xs []T) error
	// summary is the list command's columns after the key, and their values.
	summary func(T) [][2]string
	// check, when set, refuses to apply xs for a reason the file alone
	// cannot show (a schedule a number still uses).
	check func(s *store.DB, ctx context.Context, xs []T) error
	// extra are subcommands of this kind only.
	extra []subcommand
}

func numberKind() *tableKind[ivr.Number] {
	return &tableKind[ivr.Number]{
		noun: "number", plural: "numbers",
		key:     func(n ivr.Number) string { return n.Number },
		parse:   catalog.ParseNumbers,
		marshal: catalog.MarshalNumbers,
		diff:    catalog.DiffNumbers,
		fields:  catalog.NumberFields,
		all:     (*store.DB).Numbers,
		replace: (*store.DB).ReplaceNumbers,
		summary: func(n ivr.Number) [][2]string {
			return [][2]string{{"menu", n.Menu}, {"language", n.Language}, {"schedule", n.ScheduleKey}}
		},
	}
}

func scheduleKind() *tableKind[ivr.Schedule] {
	k := &tableKind[ivr.Schedule]{
		noun: "schedule", plural: "schedules",
		key:     func(s ivr.Schedule) string { return s.Key },
		parse:   catalog.ParseSchedules,
		marshal: catalog.MarshalSchedules,
		diff:    catalog.DiffSchedules,
		fields:  catalog.ScheduleFields,
		all:     (*store.DB).Schedules,
		replace: (*store.DB).ReplaceSchedules,
		summary: func(s ivr.Schedule) [][2]string {
			return [][2]string{{"time_zone", s.Hours.Location.String()},
				{"holidays", fmt.Sprint(len(s.Hours.Holidays))}, {"exceptions", fmt.Sprint(len(s.Hours.Exceptions))}}
		},
		check: schedulesInUse,
	}
	k.extra = []subcommand{{"check", "KEY", "preview the state of a schedule at a time, and what each of its numbers' callers gets", schedulesCheck}}
	return k
}

func runNumbers(ctx context.Context, e *env, args []string) error {
	return numberKind().run(ctx, e, args)
}

func runSchedules(ctx context.Context, e *env, args []string) error {
	return scheduleKind().run(ctx, e, args)
}

func (k *tableKind[T]) run(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, k.plural, append([]subcommand{
		{"apply", "", "validate a YAML file and make it the whole set of " + k.plural, k.apply},
		{"list", "", "list the " + k.plural, k.list},
		{"show", "KEY", "show one " + k.noun + " field by field", k.show},
		{"diff", "", "show what applying a YAML file would change", k.diffCmd},
		{"export", "", "write the " + k.plural + " as YAML, ready for apply", k.export},
	}, k.extra...), args)
}

// load reads and validates the file given with -f against the store.
func (k *tableKind[T]) load(ctx context.Context, e *env, s *store.DB, file string, region string, sounds []string, texts *textPrompts) ([]T, error) {
	if file == "" {
		return nil, usageError{k.plural + ": -f FILE is required"}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	opts := catalog.Options{Region: region, SoundsDirs: sounds, Warn: func(p catalog.Problem) { fmt.Fprintln(e.stderr, p) }}
	if opts.TextPrompt, err = texts.option(); err != nil {
		return nil, err
	}
	if opts.PublishedMenus, err = s.PublishedMenuKeys(ctx); err != nil {
		return nil, err
	}
	if opts.Schedules, err = scheduleKeys(ctx, s); err != nil {
		return nil, err
	}
	xs, err := k.parse(file, data, opts)
	return xs, problemsError(e, file, err)
}

func (k *tableKind[T]) apply(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" apply", "", "Validate the whole file and make it the whole set of "+k.plural+
		": new ones are added, changed ones updated, and those not in the file deleted, in one transaction. "+
		"Nothing is stored when the file has a mistake. Running servers see the change at once.")
	dry := f.Bool("dry-run", false, "validate and show what would change, store nothing")
	format := f.format()
	return k.fromFile(ctx, e, f, args, func(s *store.DB, xs, old []T, texts *textPrompts) error {
		if k.check != nil {
			if err := k.check(s, ctx, xs); err != nil {
				return err
			}
		}
		if !*dry {
			if err := texts.store(ctx, s, e.stderr); err != nil {
				return err
			}
			if err := k.replace(s, ctx, xs); err != nil {
				return fmt.Errorf("store %s: %w", k.plural, k.refused(err))
			}
		}
		return write(e, k.changes(old, xs), *format)
	})
}

// fromFile adds the flags of a command that reads a file (-f, --region,
// --sounds-dir, the database) to f, parses args, reads and validates the
// file against the store and runs run with the store, the file's items and
// the stored ones.
func (k *tableKind[T]) fromFile(ctx context.Context, e *env, f *cmdFlags, args []string, run func(s *store.DB, xs, old []T, texts *textPrompts) error) error {
	db := f.database()
	file, region, sounds, texts := f.String("f", "", "the YAML file (required)"), f.region(), f.soundsDirs(), f.textPrompts()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	xs, err := k.load(ctx, e, s, *file, *region, *sounds, texts)
	if err != nil {
		return err
	}
	old, err := k.all(s, ctx)
	if err != nil {
		return err
	}
	return run(s, xs, old, texts)
}

// refused words the database's refusal of an item of apply, naming it.
func (k *tableKind[T]) refused(err error) error {
	var ke *store.KeyError
	if !errors.As(err, &ke) {
		return err
	}
	if msg, _, ok := worded(ke.Err, nil); ok {
		return fmt.Errorf("%s %q: %s", k.noun, ke.Key, msg)
	}
	return err
}

// changes lists, per key, how xs differs from old: new, changed (with the
// number of fields), unchanged, or removed.
func (k *tableKind[T]) changes(old, xs []T) tabular.Rows {
	rows := tabular.Rows{Columns: []string{k.noun, "status", "changes"}}
	before := make(map[string]T, len(old))
	for _, x := range old {
		before[k.key(x)] = x
	}
	for _, x := range xs {
		o, had := before[k.key(x)]
		delete(before, k.key(x))
		switch cs := k.diff(nilOr(o, had), []T{x}); {
		case !had:
			rows.Add(k.key(x), "new", len(cs))
		case len(cs) > 0:
			rows.Add(k.key(x), "changed", len(cs))
		default:
			rows.Add(k.key(x), "unchanged", 0)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(before)) {
		rows.Add(key, "removed", len(k.diff([]T{before[key]}, nil)))
	}
	return rows
}

func nilOr[T any](x T, ok bool) []T {
	if !ok {
		return nil
	}
	return []T{x}
}

// fromStore parses args (from min to max positional ones), and runs run with
// the store of f's reports database, every stored item and the positional
// arguments.
func (k *tableKind[T]) fromStore(ctx context.Context, f *cmdFlags, args []string, min, max int, run func(s *store.DB, xs []T, pos []string) error) error {
	db := f.reportsDatabase()
	pos, err := f.parse(args, min, max)
	if err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	xs, err := k.all(s, ctx)
	if err != nil {
		return err
	}
	return run(s, xs, pos)
}

func (k *tableKind[T]) list(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" list", "", "List every "+k.noun+".")
	format := f.format()
	return k.fromStore(ctx, f, args, 0, 0, func(_ *store.DB, xs []T, _ []string) error {
		var zero T
		rows := tabular.Rows{Columns: []string{k.noun}}
		for _, c := range k.summary(zero) {
			rows.Columns = append(rows.Columns, c[0])
		}
		for _, x := range xs {
			vals := []any{k.key(x)}
			for _, c := range k.summary(x) {
				vals = append(vals, c[1])
			}
			rows.Add(vals...)
		}
		return write(e, rows, *format)
	})
}

// find returns the item of xs with key, or an error naming it.
func (k *tableKind[T]) find(xs []T, key string) (T, error) {
	for _, x := range xs {
		if k.key(x) == key {
			return x, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("no %s %q", k.noun, key)
}

func (k *tableKind[T]) show(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" show", "KEY", "Show one "+k.noun+" field by field.")
	format := f.format()
	return k.fromStore(ctx, f, args, 1, 1, func(_ *store.DB, xs []T, pos []string) error {
		x, err := k.find(xs, pos[0])
		if err != nil {
			return err
		}
		rows := tabular.Rows{Columns: []string{"field", "value"}}
		rows.Add(k.noun, k.key(x))
		for _, fv := range k.fields(x) {
			if fv[1] != "" {
				rows.Add(fv[0], fv[1])
			}
		}
		return write(e, rows, *format)
	})
}

func (k *tableKind[T]) diffCmd(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" diff", "", "Compare the stored "+k.plural+" with a YAML file field by field: what apply -f FILE would change.")
	format := f.format()
	return k.fromFile(ctx, e, f, args, func(_ *store.DB, xs, old []T, _ *textPrompts) error {
		rows := tabular.Rows{Columns: []string{"field", "stored", "file"}}
		for _, c := range k.diff(old, xs) {
			rows.Add(c.Field, c.Old, c.New)
		}
		return write(e, rows, *format)
	})
}

func (k *tableKind[T]) export(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" export", "", "Write the "+k.plural+" as YAML that apply reads back.")
	out := f.String("o", "", "write to this file instead of standard output")
	return k.fromStore(ctx, f, args, 0, 0, func(_ *store.DB, xs []T, _ []string) error {
		return exportYAML(e, *out, xs, k.marshal)
	})
}

// scheduleKeys returns the keys of the stored schedules.
func scheduleKeys(ctx context.Context, s *store.DB) (map[string]bool, error) {
	ss, err := s.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]bool, len(ss))
	for _, sc := range ss {
		keys[sc.Key] = true
	}
	return keys, nil
}

// schedulesInUse refuses schedules that leave out one a number or a menu
// option uses.
func schedulesInUse(s *store.DB, ctx context.Context, ss []ivr.Schedule) error {
	keep := make(map[string]bool, len(ss))
	for _, sc := range ss {
		keep[sc.Key] = true
	}
	ns, err := s.Numbers(ctx)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if n.ScheduleKey != "" && !keep[n.ScheduleKey] {
			return fmt.Errorf("schedule %q is used by number %s: keep it in the file, or apply numbers without it first", n.ScheduleKey, n.Number)
		}
	}
	inMenus, err := s.MenuScheduleKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range inMenus {
		if !keep[k] {
			return fmt.Errorf("schedule %q is used by a menu option (of some version): keep it in the file", k)
		}
	}
	return nil
}

// atLayouts are the forms schedules check --at reads: a wall-clock time of
// the schedule's zone, or an instant with its offset.
var atLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

func schedulesCheck(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "schedules check", "KEY", "Preview a schedule: its state (open, closed, holiday) at a time, the rule that decides it, "+
		"when it next changes, and what a caller of each number using it gets then.")
	at := f.String("at", "", "the time, on the schedule's wall clock (2026-12-24T17:30) or with an offset (2026-12-24T17:30:00+01:00); default now")
	format := f.format()
	k := scheduleKind()
	return k.fromStore(ctx, f, args, 1, 1, func(s *store.DB, ss []ivr.Schedule, pos []string) error {
		sc, err := k.find(ss, pos[0])
		if err != nil {
			return err
		}
		t, err := parseAt(*at, sc.Hours.Location)
		if err != nil {
			return err
		}
		st := sc.Hours.At(t)
		rows := tabular.Rows{Columns: []string{"field", "value"}}
		rows.Add("schedule", sc.Key)
		rows.Add("at", st.Local.Format("2006-01-02 15:04 MST (Mon)"))
		rows.Add("state", string(st.State))
		rows.Add("rule", st.Rule)
		if next, ok := sc.Hours.Next(t, 31*24*time.Hour); ok {
			rows.Add("until", next.In(sc.Hours.Location).Format("2006-01-02 15:04 MST (Mon)"))
			rows.Add("then", string(sc.Hours.At(next).State))
		} else {
			rows.Add("until", "31 days later or more")
		}
		ns, err := s.Numbers(ctx)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.ScheduleKey != sc.Key {
				continue
			}
			gets := "menu " + n.Menu
			if b := n.BranchFor(st.State); b != nil {
				gets = catalog.BranchString(*b)
			}
			rows.Add("number "+n.Number, gets)
		}
		return write(e, rows, *format)
	})
}

// parseAt reads --at in loc; "" is now.
func parseAt(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range atLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--at %q is not a time such as 2026-12-24T17:30", s)}
}

// reportNumbers is the numbers report: calls per dialled number.
func reportNumbers(ctx context.Context, db *store.DB, q reportQuery) (tabular.Rows, error) {
	rows, err := db.ReportNumbers(ctx, q.from, q.to)
	r := tabular.Rows{Columns: []string{"number", "known", "calls", "open", "closed", "holiday", "completed", "transferred", "hung_up"}}
	for _, n := range rows {
		r.Add(n.Number, yesNo(n.Known), n.Calls, n.Open, n.Closed, n.Holiday, n.Completed, n.Transferred, n.HungUp)
	}
	return r, err
}
