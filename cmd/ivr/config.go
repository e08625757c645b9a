package main

//go:generate go test -run ^TestConfigReference$ . -args -update

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// settings is a flag set in which every flag falls back to an environment
// variable, and a secret can also be read from a file. It is what serve and dev
// parse their configuration with, and what docs/operations.md's configuration
// reference is generated from.
type settings struct {
	fs      *flag.FlagSet
	cmd     string
	entries []*setting
	secrets []*secret
}

// setting is one flag and the environment variable behind it.
type setting struct {
	name, env, usage string
	typ              string // shown in -h: string, int, duration ...
	value            flag.Value
	def              string
}

// secret is a setting whose value may instead come from a file named by a
// second flag (name-file, env_FILE).
type secret struct {
	value *string
	flag  *setting
	file  *setting
	path  string
}

func newSettings(cmd string, stderr io.Writer) *settings {
	s := &settings{fs: flag.NewFlagSet(cmd, flag.ContinueOnError), cmd: cmd}
	s.fs.SetOutput(stderr)
	s.fs.Usage = func() { s.usage(stderr) }
	return s
}

// add registers v as flag name with environment variable env; typ names the
// kind of value in -h (empty for a boolean).
func (s *settings) add(v flag.Value, typ, name, env, usage string) {
	s.fs.Var(v, name, usage)
	s.entries = append(s.entries, &setting{name: name, env: env, usage: usage, typ: typ, value: v, def: v.String()})
}

// String registers a string flag with default def; Int, Bool and Duration
// are the same for their types.
func (s *settings) String(p *string, name, env, def, usage string) {
	*p = def
	s.add((*stringValue)(p), "string", name, env, usage)
}

func (s *settings) Int(p *int, name, env string, def int, usage string) {
	*p = def
	s.add((*intValue)(p), "int", name, env, usage)
}

func (s *settings) Bool(p *bool, name, env string, def bool, usage string) {
	*p = def
	s.add((*boolValue)(p), "", name, env, usage)
}

func (s *settings) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	s.add((*durationValue)(p), "duration", name, env, usage)
}

// Secret registers flag name (env) and flag name-file (env_FILE); the second
// names a file whose content, without surrounding whitespace, is the value.
func (s *settings) Secret(p *string, name, env, usage string) {
	sec := &secret{value: p}
	s.add((*stringValue)(p), "string", name, env, usage+" (prefer -"+name+"-file: a flag or variable is visible to other processes)")
	sec.flag = s.entries[len(s.entries)-1]
	s.add((*stringValue)(&sec.path), "path", name+"-file", env+"_FILE", "file holding the value of -"+name)
	sec.file = s.entries[len(s.entries)-1]
	s.secrets = append(s.secrets, sec)
}

// parse parses args, then sets every flag not given on the command line from
// its environment variable when that is not empty, then reads secret files.
// A flag given on the command line wins over the environment.
func (s *settings) parse(args []string, getenv func(string) string) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if s.fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", s.cmd, s.fs.Arg(0))}
	}
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, e := range s.entries {
		if given[e.name] {
			continue
		}
		if v := getenv(e.env); v != "" {
			if err := e.value.Set(v); err != nil {
				return usageError{fmt.Sprintf("%s: invalid value for $%s: %v", s.cmd, e.env, err)}
			}
			given[e.name] = true
		}
	}
	for _, sec := range s.secrets {
		if sec.path == "" {
			continue
		}
		if given[sec.flag.name] {
			return usageError{fmt.Sprintf("%s: give -%s or -%s, not both", s.cmd, sec.flag.name, sec.file.name)}
		}
		b, err := os.ReadFile(sec.path)
		if err != nil {
			return fmt.Errorf("read -%s: %w", sec.file.name, err)
		}
		*sec.value = strings.TrimSpace(string(b))
	}
	return nil
}

// usage writes the -h text: every flag with its environment variable.
func (s *settings) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: ivr %s [flags]\n\n", s.cmd)
	fmt.Fprintf(w, "Every flag can also be set by the environment variable after it; a flag wins.\n\n")
	for _, e := range s.entries {
		fmt.Fprintf(w, "  -%s %s\t$%s", e.name, e.typ, e.env)
		if e.def != "" && e.def != "0" && e.def != "false" {
			fmt.Fprintf(w, " (default %s)", e.def)
		}
		fmt.Fprintf(w, "\n    \t%s\n", e.usage)
	}
}

// reference writes the settings as a Markdown table for docs/operations.md.
// Flags listed in skip (already documented in another table) are left out.
func (s *settings) reference(w io.Writer, skip map[string]bool) {
	fmt.Fprintln(w, "| flag | environment | default | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, e := range s.entries {
		if skip[e.name] {
			continue
		}
		def := ""
		if e.def != "" {
			def = "`" + e.def + "`"
		}
		fmt.Fprintf(w, "| `-%s` | `%s` | %s | %s |\n", e.name, e.env, def, strings.ReplaceAll(e.usage, "|", `\|`))
	}
}

// names returns the set of flag names registered.
func (s *settings) names() map[string]bool {
	m := make(map[string]bool, len(s.entries))
	for _, e := range s.entries {
		m[e.name] = true
	}
	return m
}

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not a boolean")
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (such as 30s or 5m)")
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

// prefixList is a comma-separated list of networks ("10.0.0.0/8,::1"); a bare
// address means that one host.
type prefixList []netip.Prefix

func (p *prefixList) Set(s string) error {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if pr, err := netip.ParsePrefix(f); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is neither a network nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	*p = out
	return nil
}

// loopback is the default of -allow: this host only.
func loopback() prefixList {
	return prefixList{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

func (p *prefixList) String() string {
	s := make([]string, len(*p))
	for i, pr := range *p {
		s[i] = pr.String()
	}
	return strings.Join(s, ",")
}

// withPassword returns the database URL dsn with its password replaced by pw.
// Both URL (postgres://...) and keyword/value ("host=... user=...") forms work.
func withPassword(dsn, pw string) (string, error) {
	if pw == "" {
		return dsn, nil
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("database URL is not a valid URL")
		}
		name := ""
		if u.User != nil {
			name = u.User.Username()
		}
		u.User = url.UserPassword(name, pw)
		return u.String(), nil
	}
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
	return strings.TrimSpace(dsn) + " password='" + q + "'", nil
}
