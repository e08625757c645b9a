package main

// The one way every command is configured: a flag, else its IVR_* environment
// variable, else the default; a secret (the database URL and password, the PIN
// key) also from a file named by its -file twin. Flags are parsed by
// peterbourgon/ff, and -h is rendered by ffhelp with the variable of each flag.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v4"
	"github.com/peterbourgon/ff/v4/ffhelp"
)

// legacyEnv lists the variables a flag also answers to, after its IVR_* one,
// because the README, docker-compose.yml and older pages name them.
var legacyEnv = map[string][]string{
	"database-url":      {"DATABASE_URL"},
	"database-url-file": {"DATABASE_URL_FILE"},
	"addr":              {"IVR_CALL_ADDR"},
	"sounds-dir":        {"IVR_CALL_SOUNDS_DIR"},
}

// envNames returns the environment variables of flag name, first the one that
// wins: IVR_ and the name in capitals with - as _, then any legacy name.
func envNames(name string) []string {
	return append([]string{"IVR_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}, legacyEnv[name]...)
}

// cmdFlags is the configuration of one command ("serve", "callers add"): its
// flags, the environment behind them, and its usage for -h.
type cmdFlags struct {
	*flag.FlagSet
	e       *env
	name    string // "callers add"
	args    string // positional arguments for the usage line, "ACCOUNT"
	summary string
	secrets []secretFlag
	given   map[string]bool // after parse: the flags set by args or environment
	data    map[string]bool // flags that take no environment variable (see dataFlags)
}

// dataFlags marks flags that carry the data one run changes (a caller's name,
// numbers, language, status): they take no environment variable, so a
// variable left in a shell never changes a record behind the operator's back.
func (f *cmdFlags) dataFlags(names ...string) {
	if f.data == nil {
		f.data = make(map[string]bool, len(names))
	}
	for _, n := range names {
		f.data[n] = true
	}
}

// secretFlag is a flag whose value may instead come from a file named by its
// -file twin.
type secretFlag struct {
	name  string
	value *string
	path  *string
}

// newFlags returns the empty configuration of command name, whose positional
// arguments are args and whose -h starts with summary.
func newFlags(e *env, name, args, summary string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &cmdFlags{FlagSet: fs, e: e, name: name, args: args, summary: summary}
}

// secret registers flag name and its twin name-file, naming a file whose
// content without surrounding whitespace is the value.
func (f *cmdFlags) secret(p *string, name, usage string) {
	path := new(string)
	f.StringVar(p, name, "", usage+" (prefer -"+name+"-file: a flag or variable is visible to other processes)")
	f.StringVar(path, name+"-file", "", "file holding the value of -"+name)
	f.secrets = append(f.secrets, secretFlag{name: name, value: p, path: path})
}

// parse sets the flags from args (flags may stand before, between and after
// the positional arguments), then every flag not given from its environment
// variable, then every secret from its file; it returns the positional
// arguments, of which there must be between min and max. -h writes the usage
// on stdout and returns flag.ErrHelp; a usage error writes it on stderr.
func (f *cmdFlags) parse(args []string, min, max int) ([]string, error) {
	pos, given, err := f.parseArgs(args)
	switch {
	case errors.Is(err, ff.ErrHelp):
		fmt.Fprint(f.e.stdout, f.help())
		return nil, flag.ErrHelp
	case err != nil:
		return nil, f.fail(err.Error())
	case len(pos) > max && max == 0:
		return nil, f.fail(fmt.Sprintf("unexpected argument %q", pos[0]))
	case len(pos) < min || len(pos) > max:
		return nil, f.fail("usage: " + f.usageLine())
	}
	if err := f.fromEnv(given); err != nil {
		return nil, err
	}
	if err := f.readSecrets(given); err != nil {
		return nil, err
	}
	f.given = given
	return pos, nil
}

// Visit calls fn for each flag set by the arguments or the environment, in
// lexicographical order.
func (f *cmdFlags) Visit(fn func(*flag.Flag)) {
	f.VisitAll(func(fl *flag.Flag) {
		if f.given[fl.Name] {
			fn(fl)
		}
	})
}

// parseArgs parses args with ff and returns the positional arguments and the
// flags given.
func (f *cmdFlags) parseArgs(args []string) (pos []string, given map[string]bool, err error) {
	given = map[string]bool{}
	args = f.emptyValues(args)
	for {
		// ff parses a flag.FlagSet up to its first positional argument, as
		// package flag does; each stretch of flags gets its own pass.
		fs := ff.NewFlagSetFrom(f.name, f.FlagSet)
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		fs.WalkFlags(func(fl ff.Flag) error {
			if name, _ := fl.GetLongName(); fl.IsSet() {
				given[name] = true
			}
			return nil
		})
		args = fs.GetArgs()
		if len(args) == 0 {
			return pos, given, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), given, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// emptyValues rewrites -name= (an empty value, as in --language= to clear a
// field) to -name "", the form ff reads as an empty value.
func (f *cmdFlags) emptyValues(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, isEmpty := strings.CutSuffix(strings.TrimLeft(a, "-"), "=")
		if fl := f.Lookup(name); strings.HasPrefix(a, "-") && isEmpty && fl != nil && !isBoolFlag(fl) {
			out = append(out, a[:len(a)-1], "")
			continue
		}
		out = append(out, a)
	}
	return out
}

// isBoolFlag reports whether fl takes no value.
func isBoolFlag(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// fromEnv sets every flag not in given from the first of its environment
// variables that is not empty, and adds it to given. It reads the environment
// main passed down (tests pass their own), which ff's own environment stage,
// reading the process's, cannot.
func (f *cmdFlags) fromEnv(given map[string]bool) error {
	var err error
	f.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] || f.data[fl.Name] || err != nil {
			return
		}
		for _, key := range envNames(fl.Name) {
			if v := f.e.getenv(key); v != "" {
				if e := fl.Value.Set(v); e != nil {
					err = usageError{fmt.Sprintf("%s: $%s: %v", f.name, key, e)}
				}
				given[fl.Name] = true
				return
			}
		}
	})
	return err
}

// readSecrets reads the file of every secret whose -file twin is set. A value
// and a file both given, by flag or environment, is an error naming both.
func (f *cmdFlags) readSecrets(given map[string]bool) error {
	for _, s := range f.secrets {
		if *s.path == "" {
			continue
		}
		if given[s.name] {
			return usageError{fmt.Sprintf("%s: -%s ($%s) and -%s-file ($%s_FILE) are both set: give one",
				f.name, s.name, envNames(s.name)[0], s.name, envNames(s.name)[0])}
		}
		b, err := os.ReadFile(*s.path)
		if err != nil {
			return fmt.Errorf("read -%s-file: %w", s.name, err)
		}
		*s.value = strings.TrimSpace(string(b))
	}
	return nil
}

// usageLine is the synopsis of the command.
func (f *cmdFlags) usageLine() string {
	return strings.Join(strings.Fields("ivr "+f.name+" "+f.args+" [flags]"), " ")
}

// fail writes the usage on stderr and returns msg as a usage error.
func (f *cmdFlags) fail(msg string) error {
	fmt.Fprint(f.e.stderr, f.help())
	fmt.Fprintln(f.e.stderr)
	return usageError{f.name + ": " + strings.TrimPrefix(msg, f.name+": ")}
}

// help is the -h text: the usage line, the summary, and every flag with its
// environment variables and default.
func (f *cmdFlags) help() ffhelp.Help {
	fs := ff.NewFlagSet(f.name)
	f.VisitAll(func(fl *flag.Flag) {
		usage := fl.Usage + " [$" + strings.Join(envNames(fl.Name), ", $") + "]"
		if f.data[fl.Name] {
			usage = fl.Usage + " [flag only]"
		}
		v := helpValue{fl}
		cfg := ff.FlagConfig{LongName: fl.Name, Usage: usage, Value: v, Placeholder: v.placeholder(), NoPlaceholder: v.IsBoolFlag()}
		if _, err := fs.AddFlag(cfg); err != nil {
			panic(fmt.Errorf("help of -%s: %w", fl.Name, err))
		}
	})
	return ffhelp.Command(&ff.Command{Name: "ivr " + f.name, Usage: f.usageLine(), LongHelp: f.summary, Flags: fs})
}

// helpValue shows a flag in -h with its default, and cannot be set.
type helpValue struct{ f *flag.Flag }

func (v helpValue) String() string { return v.f.DefValue }
func (v helpValue) Set(string) error {
	return errors.New("help only")
}
func (v helpValue) IsBoolFlag() bool { return isBoolFlag(v.f) }

// placeholder names the kind of value in -h.
func (v helpValue) placeholder() string {
	t := strings.ToLower(fmt.Sprintf("%T", v.f.Value))
	t = strings.TrimSuffix(t[strings.LastIndexAny(t, ".*")+1:], "value")
	switch t {
	case "string", "int", "uint64", "duration", "float64":
		return t
	}
	return "value"
}

// dirList is the value of a repeatable directory flag; a value may hold
// several directories separated as in $PATH.
type dirList []string

func (l *dirList) Set(s string) error {
	for _, d := range filepath.SplitList(s) {
		if d != "" {
			*l = append(*l, d)
		}
	}
	return nil
}

func (l *dirList) String() string { return strings.Join(*l, string(os.PathListSeparator)) }
