package main

// The menus and surveys commands share one implementation: both are versioned
// catalogs applied from YAML. catalogKind[T] holds what differs.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/tabular"
)

// version is what the commands need to know about a stored menu or survey.
type version struct {
	id        int64
	key       string
	number    int
	published bool
	created   time.Time
}

// catalogKind describes ivr.Menu or ivr.Survey to the shared commands.
type catalogKind[T any] struct {
	noun, plural string
	info         func(T) version
	parse        func(name string, data []byte, opts catalog.Options) ([]T, error)
	marshal      func([]T) ([]byte, error)
	diff         func(a, b T) []catalog.Change
	fields       func(T) [][2]string
	// unpublished lists the references of x (submenus, surveys) that are not
	// published, given the published keys.
	unpublished func(x T, menus, surveys map[string]bool) []string
	entries     func(s *store.DB, ctx context.Context) ([]store.CatalogEntry, error)
	get         func(s *store.DB, ctx context.Context, key string, v int) (T, error) // v 0: the live one
	latest      func(s *store.DB, ctx context.Context, key string) (int, error)
	versions    func(s *store.DB, ctx context.Context, key string) ([]store.CatalogVersion, error)
	save        func(s *store.DB, ctx context.Context, xs []T, publish bool, also []int64) ([]T, error)
}

// Version selectors besides a version number.
const (
	liveVersion   = 0  // the newest published version
	latestVersion = -1 // the newest version, draft or published
)

// fetch returns version v of key: a number, liveVersion or latestVersion.
func (k *catalogKind[T]) fetch(ctx context.Context, s *store.DB, key string, v int) (T, error) {
	if v == latestVersion {
		n, err := k.latest(s, ctx, key)
		if err != nil {
			var zero T
			return zero, err
		}
		v = n
	}
	return k.get(s, ctx, key, v)
}

func (k *catalogKind[T]) run(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, k.plural, []subcommand{
		{"apply", "", "validate a YAML file and store a new version of each changed " + k.noun, k.apply},
		{"list", "[KEY]", "list the " + k.plural + ", or the versions of one", k.list},
		{"show", "KEY", "show one version (default: the newest)", k.show},
		{"diff", "KEY [FROM [TO]]", "compare two versions (default: the live one and the newest)", k.diffCmd},
		{"publish", "KEY", "make a version live (default: the newest)", k.publish},
		{"export", "[KEY...]", "write the live versions as YAML, ready for apply", k.export},
	}, args)
}

func (k *catalogKind[T]) apply(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" apply", "", "Validate the whole file and store a new version of every "+k.noun+
		" whose content changed. Nothing is stored when the file has a mistake.")
	db := f.database()
	file := f.String("f", "", "the YAML file (required)")
	publish := f.Bool("publish", false, "make the stored versions live")
	sounds := f.soundsDirs()
	texts := f.textPrompts()
	dry := f.Bool("dry-run", false, "validate and show what would change, store nothing")
	format := f.format()
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	if *file == "" {
		return usageError{k.plural + " apply: -f FILE is required"}
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	for _, d := range *sounds {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return fmt.Errorf("--sounds-dir %s is not a directory", d)
		}
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	opts := catalog.Options{SoundsDirs: *sounds, Warn: func(p catalog.Problem) { fmt.Fprintln(e.stderr, p) }}
	if opts.TextPrompt, err = texts.option(); err != nil {
		return err
	}
	if opts.PublishedMenus, err = s.PublishedMenuKeys(ctx); err != nil {
		return err
	}
	if opts.PublishedSurveys, err = s.PublishedSurveyKeys(ctx); err != nil {
		return err
	}
	if opts.Schedules, err = scheduleKeys(ctx, s); err != nil {
		return err
	}
	xs, err := k.parse(*file, data, opts)
	if err := problemsError(e, *file, err); err != nil {
		return err
	}
	rows := tabular.Rows{Columns: []string{"key", "version", "status", "changes", "live"}}
	var changed []T
	var status []string
	var changes []int // per changed: how many fields differ from the newest version, or are set in a new one
	var also []int64
	for _, x := range xs {
		key := k.info(x).key
		old, err := k.fetch(ctx, s, key, latestVersion)
		switch {
		case errors.Is(err, ivr.ErrNotFound):
			var none T
			changed, status, changes = append(changed, x), append(status, "new"), append(changes, len(k.diff(none, x)))
		case err != nil:
			return err
		default:
			if cs := k.diff(old, x); len(cs) > 0 {
				changed, status, changes = append(changed, x), append(status, "changed"), append(changes, len(cs))
				continue
			}
			v := k.info(old)
			if *publish && !v.published {
				also = append(also, v.id)
				v.published = !*dry
			}
			rows.Add(key, v.number, "unchanged", 0, yesNo(v.published))
		}
	}
	if !*dry && (len(changed) > 0 || len(also) > 0) {
		if err := texts.store(ctx, s, e.stderr); err != nil {
			return err
		}
		if changed, err = k.save(s, ctx, changed, *publish, also); err != nil {
			return fmt.Errorf("store %s: %w", k.plural, k.refused(err))
		}
	}
	for i, x := range changed {
		v := k.info(x)
		n := strconv.Itoa(v.number)
		if *dry {
			n = "-"
		}
		rows.Add(v.key, n, status[i], changes[i], yesNo(v.published))
	}
	return write(e, rows, *format)
}

// problemsError writes each problem of err, the error of parsing file, on
// stderr and returns an error that counts them; another error comes back
// unchanged, and nil stays nil.
func problemsError(e *env, file string, err error) error {
	var ps catalog.Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(e.stderr, p)
	}
	if len(ps) == 1 {
		return fmt.Errorf("%s: 1 mistake; nothing stored", file)
	}
	return fmt.Errorf("%s: %d mistakes; nothing stored", file, len(ps))
}

// refused words err, the database's refusal of a menu or survey of apply,
// naming it and, when the refusal is about another of its fields, the field.
// Other errors come back unchanged.
func (k *catalogKind[T]) refused(err error) error {
	var ke *store.KeyError
	if !errors.As(err, &ke) {
		return err
	}
	msg, field, ok := worded(ke.Err, map[string]string{k.noun: ke.Key})
	switch {
	case !ok:
		return err
	case field == k.noun:
		return errors.New(msg)
	}
	return fmt.Errorf("%s %q: %s", k.noun, ke.Key, msg)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (k *catalogKind[T]) list(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" list", "[KEY]", "List every "+k.noun+" with its newest and live version, or with KEY every version of it.")
	db := f.database()
	format := f.format()
	pos, err := f.parse(args, 0, 1)
	if err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(pos) == 1 {
		vs, err := k.versions(s, ctx, pos[0])
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			return fmt.Errorf("no %s %q", k.noun, pos[0])
		}
		rows := tabular.Rows{Columns: []string{"key", "version", "published", "created_at"}}
		for _, v := range vs {
			rows.Add(pos[0], v.Version, yesNo(v.Published), v.CreatedAt.Format(time.RFC3339))
		}
		return write(e, rows, *format)
	}
	es, err := k.entries(s, ctx)
	if err != nil {
		return err
	}
	rows := tabular.Rows{Columns: []string{"key", "latest", "live", "versions", "changed_at"}}
	for _, en := range es {
		live := "-"
		if en.Live > 0 {
			live = strconv.Itoa(en.Live)
		}
		rows.Add(en.Key, en.Latest, live, en.Versions, en.ChangedAt.Format(time.RFC3339))
	}
	return write(e, rows, *format)
}

// versionFlag adds --version, whose default is def: latest or live.
func versionFlag(f *cmdFlags, def string) *string {
	return f.String("version", def, "version number, latest or live")
}

func parseVersion(s string) (int, error) {
	switch s {
	case "latest", "newest":
		return latestVersion, nil
	case "live":
		return liveVersion, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usageError{fmt.Sprintf("version %q must be a number from 1, latest or live", s)}
	}
	return n, nil
}

// load fetches one version and words a missing one.
func (k *catalogKind[T]) load(ctx context.Context, s *store.DB, key, ver string) (T, error) {
	var zero T
	n, err := parseVersion(ver)
	if err != nil {
		return zero, err
	}
	x, err := k.fetch(ctx, s, key, n)
	if errors.Is(err, ivr.ErrNotFound) {
		return zero, fmt.Errorf("%s %q has no %s version", k.noun, key, ver)
	}
	return x, err
}

func (k *catalogKind[T]) show(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" show", "KEY", "Show one version of a "+k.noun+" field by field.")
	db := f.database()
	ver := versionFlag(f, "latest")
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
	x, err := k.load(ctx, s, pos[0], *ver)
	if err != nil {
		return err
	}
	v := k.info(x)
	rows := tabular.Rows{Columns: []string{"field", "value"}}
	rows.Add("key", v.key)
	rows.Add("version", v.number)
	rows.Add("published", yesNo(v.published))
	rows.Add("created_at", v.created.Format(time.RFC3339))
	for _, fv := range k.fields(x) {
		if fv[1] != "" {
			rows.Add(fv[0], fv[1])
		}
	}
	return write(e, rows, *format)
}

func (k *catalogKind[T]) diffCmd(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" diff", "KEY [FROM [TO]]", "Compare two versions of a "+k.noun+
		" field by field. FROM defaults to the live version, TO to the newest; each is a number, latest or live.")
	db := f.database()
	format := f.format()
	pos, err := f.parse(args, 1, 3)
	if err != nil {
		return err
	}
	from, to := "live", "latest"
	if len(pos) > 1 {
		from = pos[1]
	}
	if len(pos) > 2 {
		to = pos[2]
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	a, err := k.load(ctx, s, pos[0], from)
	if err != nil {
		return err
	}
	b, err := k.load(ctx, s, pos[0], to)
	if err != nil {
		return err
	}
	rows := tabular.Rows{Columns: []string{"field", "version " + strconv.Itoa(k.info(a).number), "version " + strconv.Itoa(k.info(b).number)}}
	for _, c := range k.diff(a, b) {
		rows.Add(c.Field, c.Old, c.New)
	}
	return write(e, rows, *format)
}

func (k *catalogKind[T]) publish(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" publish", "KEY", "Make a version of a "+k.noun+" live. A published version never changes again.")
	db := f.database()
	ver := versionFlag(f, "latest")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	x, err := k.load(ctx, s, pos[0], *ver)
	if err != nil {
		return err
	}
	v := k.info(x)
	if live, err := k.fetch(ctx, s, v.key, liveVersion); err == nil && k.info(live).number >= v.number {
		if k.info(live).number == v.number {
			fmt.Fprintf(e.stdout, "%s %s version %d is already live\n", k.noun, v.key, v.number)
			return nil
		}
		return fmt.Errorf("%s %s version %d is older than the live version %d; apply its content again to make a new version",
			k.noun, v.key, v.number, k.info(live).number)
	} else if err != nil && !errors.Is(err, ivr.ErrNotFound) {
		return err
	}
	menus, err := s.PublishedMenuKeys(ctx)
	if err != nil {
		return err
	}
	menus[v.key] = true
	surveys, err := s.PublishedSurveyKeys(ctx)
	if err != nil {
		return err
	}
	if missing := k.unpublished(x, menus, surveys); len(missing) > 0 {
		return fmt.Errorf("%s %s version %d uses %v, which are not published; publish them first", k.noun, v.key, v.number, missing)
	}
	if _, err := k.save(s, ctx, nil, false, []int64{v.id}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s version %d is live\n", k.noun, v.key, v.number)
	return nil
}

func (k *catalogKind[T]) export(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, k.plural+" export", "[KEY...]", "Write "+k.plural+" as YAML that apply reads back: the live version of each (or of the keys named).")
	db := f.reportsDatabase()
	ver := versionFlag(f, "live")
	out := f.String("o", "", "write to this file instead of standard output")
	pos, err := f.parse(args, 0, 1<<20)
	if err != nil {
		return err
	}
	s, err := db.Store(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(pos) == 0 {
		es, err := k.entries(s, ctx)
		if err != nil {
			return err
		}
		for _, en := range es {
			if *ver != "live" || en.Live > 0 {
				pos = append(pos, en.Key)
			}
		}
	}
	xs := make([]T, 0, len(pos))
	for _, key := range pos {
		x, err := k.load(ctx, s, key, *ver)
		if err != nil {
			return err
		}
		xs = append(xs, x)
	}
	return exportYAML(e, *out, xs, k.marshal)
}

// exportYAML writes xs as YAML with marshal to the file out, or to standard
// output when out is "".
func exportYAML[T any](e *env, out string, xs []T, marshal func([]T) ([]byte, error)) error {
	data, err := marshal(xs)
	if err != nil {
		return err
	}
	if out != "" {
		return os.WriteFile(out, data, 0o644)
	}
	_, err = e.stdout.Write(data)
	return err
}
