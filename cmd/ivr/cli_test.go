package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/testdb"
)

// leafCommands are every command that runs, with a flag its -h must list.
var leafCommands = []struct {
	args []string
	flag string
}{
	{[]string{"serve"}, "--pin-key-file"},
	{[]string{"dev"}, "--data-dir"},
	{[]string{"migrate"}, "--database-url-file"},
	{[]string{"callers", "add"}, "--pin-key-file"},
	{[]string{"callers", "list"}, "--database-password-file"},
	{[]string{"callers", "show"}, "--database-url"},
	{[]string{"callers", "update"}, "--database-url"},
	{[]string{"callers", "delete"}, "--database-url"},
	{[]string{"callers", "set-pin"}, "--pin-key"},
	{[]string{"callers", "unlock"}, "--database-url"},
	{[]string{"callers", "import"}, "--pin-key-file"},
	{[]string{"callers", "export"}, "--database-url-file"},
	{[]string{"menus", "apply"}, "--sounds-dir"},
	{[]string{"menus", "list"}, "--database-url"},
	{[]string{"menus", "show"}, "--database-url"},
	{[]string{"menus", "diff"}, "--database-url"},
	{[]string{"menus", "publish"}, "--database-url"},
	{[]string{"menus", "export"}, "--database-url"},
	{[]string{"surveys", "apply"}, "--database-url"},
	{[]string{"surveys", "list"}, "--database-url"},
	{[]string{"recordings", "list"}, "--database-url"},
	{[]string{"recordings", "show"}, "--database-url"},
	{[]string{"recordings", "delete"}, "--dir"},
	{[]string{"recordings", "purge"}, "--recording-dir"},
	{[]string{"recordings", "verify"}, "--dir"},
	{[]string{"report"}, "--database-url-file"},
	{[]string{"maintain"}, "--rollup-grace"},
	{[]string{"call"}, "--addr"},
	{[]string{"bench"}, "--database-url-file"},
	{[]string{"version"}, ""},
	{[]string{"gen-data"}, "--database-url"},
}

// runArgs runs ivr with args in an environment of vars and returns what it
// wrote and its exit status, as main would: the error at the end of stderr.
func runArgs(vars map[string]string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, envMap(vars), strings.NewReader(""), &out, &errOut)
	if err != nil {
		return out.String(), errOut.String() + "ivr: " + err.Error() + "\n", exitCode(err)
	}
	return out.String(), errOut.String(), 0
}

func TestEveryCommandHasHelpAndRefusesBadFlags(t *testing.T) {
	for _, c := range leafCommands {
		name := strings.Join(c.args, " ")
		t.Run(name, func(t *testing.T) {
			for _, how := range [][]string{append(c.args[:len(c.args):len(c.args)], "-h"), append([]string{"help"}, c.args...)} {
				out, _, code := runArgs(nil, how...)
				if code != 0 {
					t.Errorf("ivr %s: exit status %d, want 0", strings.Join(how, " "), code)
				}
				if !strings.Contains(out, "ivr "+name+" ") {
					t.Errorf("ivr %s does not show the usage of %s:\n%s", strings.Join(how, " "), name, out)
				}
				if c.flag != "" && !strings.Contains(out, c.flag+" ") {
					t.Errorf("ivr %s does not list %s:\n%s", strings.Join(how, " "), c.flag, out)
				}
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(strings.TrimSpace(line), "--") && !strings.Contains(line, "[$IVR_") && !strings.Contains(line, "[flag only]") {
						t.Errorf("ivr %s: a flag without its variable: %s", strings.Join(how, " "), line)
					}
				}
				if strings.Contains(out, "--database-url ") && !strings.Contains(out, "$DATABASE_URL") {
					t.Errorf("ivr %s does not name $DATABASE_URL:\n%s", strings.Join(how, " "), out)
				}
			}
			_, errOut, code := runArgs(nil, append(c.args[:len(c.args):len(c.args)], "--no-such-flag")...)
			if code != 2 || !strings.Contains(errOut, "USAGE") || !strings.Contains(errOut, "no-such-flag") {
				t.Errorf("ivr %s --no-such-flag: exit status %d, want 2 with the usage; stderr:\n%s", name, code, errOut)
			}
		})
	}
}

func TestHelpOfGroupsAndUnknownCommands(t *testing.T) {
	out, _, code := runArgs(nil, "help", "callers")
	if code != 0 || !strings.Contains(out, "ivr callers <command>") || !strings.Contains(out, "set-pin") {
		t.Errorf("ivr help callers: exit status %d, output:\n%s", code, out)
	}
	if strings.Contains(out, "ivr <command>") {
		t.Errorf("ivr help callers printed the top-level help:\n%s", out)
	}
	for _, args := range [][]string{{"frobnicate"}, {"callers", "frobnicate"}, {"help", "frobnicate"}} {
		_, errOut, code := runArgs(nil, args...)
		if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
			t.Errorf("ivr %s: exit status %d, want 2; stderr:\n%s", strings.Join(args, " "), code, errOut)
		}
	}
	_, errOut, _ := runArgs(nil, "frobnicate")
	for _, c := range []string{"serve", "dev", "migrate", "callers", "report", "version"} {
		if !strings.Contains(errOut, c) {
			t.Errorf("unknown command: stderr does not name the command %s:\n%s", c, errOut)
		}
	}
}

// secretSources gives value as the secret of flag name in each of the four
// ways: flag, variable, file named by flag, file named by variable.
func secretSources(t *testing.T, name, env, value string) map[string]struct {
	args []string
	vars map[string]string
} {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]struct {
		args []string
		vars map[string]string
	}{
		"flag":      {args: []string{"-" + name, value}},
		"env":       {vars: map[string]string{env: value}},
		"flag-file": {args: []string{"-" + name + "-file", path}},
		"env-file":  {vars: map[string]string{env + "_FILE": path}},
	}
}

func TestSecretsFromEverySource(t *testing.T) {
	url := testdb.URL(t)
	// The database URL, for commands that need one: each of them reaches the database.
	for how, src := range secretSources(t, "database-url", "DATABASE_URL", url) {
		for _, cmd := range [][]string{{"migrate", "status"}, {"callers", "list"}, {"menus", "list"}, {"recordings", "list"}, {"report", "calls"}} {
			_, errOut, code := runArgs(src.vars, append(cmd, src.args...)...)
			if code != 0 {
				t.Errorf("%s from %s: ivr %s: exit status %d: %s", "database URL", how, strings.Join(cmd, " "), code, errOut)
			}
		}
	}
	// The IVR_ name works as well as the documented DATABASE_URL.
	if _, errOut, code := runArgs(map[string]string{"IVR_DATABASE_URL": url}, "callers", "list"); code != 0 {
		t.Errorf("IVR_DATABASE_URL: exit status %d: %s", code, errOut)
	}
	// The PIN key: a caller added with a PIN is hashed with it.
	account := 5100
	for how, src := range secretSources(t, "pin-key", "IVR_PIN_KEY", testPINKey) {
		account++
		vars := map[string]string{"DATABASE_URL": url}
		for k, v := range src.vars {
			vars[k] = v
		}
		args := append([]string{"callers", "add", strconv.Itoa(account), "--name", "Key " + how, "--pin-stdin"}, src.args...)
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, envMap(vars), strings.NewReader("7391\n"), &out, &errOut)
		if err != nil {
			t.Errorf("PIN key from %s: %v: %s", how, err, errOut.String())
		}
	}
	// The database password reaches the connection URL from every source.
	for how, src := range secretSources(t, "database-password", "IVR_DATABASE_PASSWORD", "s3cret") {
		f := newFlags(&env{getenv: envMap(src.vars)}, "callers list", "", "")
		d := f.database()
		if _, err := f.parse(append([]string{"-database-url", "postgres://ivr@db/ivr"}, src.args...), 0, 0); err != nil {
			t.Fatalf("password from %s: %v", how, err)
		}
		if got, _ := d.URL(); got != "postgres://ivr:s3cret@db/ivr" {
			t.Errorf("password from %s: URL %q", how, got)
		}
	}
}

func TestSecretGivenTwiceIsRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	os.WriteFile(file, []byte("x\n"), 0o600)
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"callers", "list", "-database-url", "postgres://a/b", "-database-url-file", file}, nil, "-database-url ($IVR_DATABASE_URL) and -database-url-file"},
		{[]string{"migrate", "status", "-database-url-file", file}, map[string]string{"DATABASE_URL": "postgres://a/b"}, "-database-url ($IVR_DATABASE_URL) and -database-url-file"},
		{[]string{"report", "calls"}, map[string]string{"DATABASE_URL": "postgres://a/b", "IVR_DATABASE_PASSWORD": "p", "IVR_DATABASE_PASSWORD_FILE": file}, "-database-password ($IVR_DATABASE_PASSWORD) and -database-password-file"},
		{[]string{"serve", "-pin-key", "k1:abc", "-database-url", "postgres://a/b"}, map[string]string{"IVR_PIN_KEY_FILE": file}, "-pin-key ($IVR_PIN_KEY) and -pin-key-file"},
		{[]string{"callers", "set-pin", "1001", "-pin-key-file", file}, map[string]string{"DATABASE_URL": "postgres://a/b", "IVR_PIN_KEY": "k1:abc"}, "-pin-key ($IVR_PIN_KEY) and -pin-key-file"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, envMap(tc.vars), strings.NewReader(""), &out, &errOut)
		if code := exitCode(err); code != 2 || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ivr %s: exit status %d, err %v; want one naming %s", strings.Join(tc.args, " "), code, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "k1:abc") {
			t.Errorf("ivr %s: the error shows the key: %v", strings.Join(tc.args, " "), err)
		}
	}
}

// TestDataFlagsTakeNoVariable updates a caller from a shell that has
// variables named like the data flags: they change nothing, only the flags
// given do.
func TestDataFlagsTakeNoVariable(t *testing.T) {
	url := testdb.URL(t)
	vars := map[string]string{"DATABASE_URL": url}
	if _, errOut, code := runArgs(vars, "callers", "add", "5301", "--name", "Ada", "--language", "en"); code != 0 {
		t.Fatalf("callers add: exit status %d: %s", code, errOut)
	}
	stray := map[string]string{"DATABASE_URL": url, "IVR_NAME": "Mallory", "IVR_LANGUAGE": "fr", "IVR_STATUS": "disabled", "IVR_NUMBERS": "+14155550999"}
	if _, errOut, code := runArgs(stray, "callers", "update", "5301", "--name", "Ada Lovelace"); code != 0 {
		t.Fatalf("callers update: exit status %d: %s", code, errOut)
	}
	out, errOut, code := runArgs(vars, "callers", "show", "5301")
	if code != 0 {
		t.Fatalf("callers show: exit status %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Ada Lovelace") || strings.Contains(out, "Mallory") || strings.Contains(out, "disabled") ||
		strings.Contains(out, "fr") || strings.Contains(out, "4155550999") {
		t.Errorf("a variable in the shell changed the caller:\n%s", out)
	}
}
