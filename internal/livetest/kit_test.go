//go:build asterisk

package livetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// envKit names the directory holding run-asterisk and the kit's tarball.
const envKit = "IVR_ASTERISK_KIT"

// kit is one running Asterisk started by run-asterisk in a directory of its own.
type kit struct {
	script  string // run-asterisk
	dir     string // the instance's directory: etc/, log/full, sounds/ ...
	amiPort int
	env     []string // the environment run-asterisk runs with
}

// kitHome returns the directory of run-asterisk: $IVR_ASTERISK_KIT, else
// shared/asterisk next to the repository.
func kitHome(repo string) (string, error) {
	dir := os.Getenv(envKit)
	if dir == "" {
		dir = filepath.Join(repo, "..", "shared", "asterisk")
	}
	if _, err := os.Stat(filepath.Join(dir, "run-asterisk")); err != nil {
		return "", fmt.Errorf("no Asterisk kit (run-asterisk) in %s: put the kit there or set %s to its directory: %w", dir, envKit, err)
	}
	return filepath.Abs(dir)
}

// startKit starts an Asterisk of the kit in home in a new directory under
// work. name becomes AST_SYSTEMNAME, so the uniqueids of this kit never repeat
// those of another. The caller stops it with stop.
func startKit(home, work, name string) (*kit, error) {
	k := &kit{script: filepath.Join(home, "run-asterisk"), env: append(os.Environ(), "AST_SYSTEMNAME="+name)}
	hasFP16, err := cpuHas("avx512_fp16")
	if err != nil {
		return nil, err
	}
	if !hasFP16 {
		// The kit's codec_gsm.so uses AVX512-FP16 instructions: on a CPU
		// without them Asterisk dies with SIGILL while loading it. Start from a
		// copy of the tarball without that module; the prompts then play from
		// their .wav files.
		tarball, err := tarballWithoutGSM(home, work)
		if err != nil {
			return nil, err
		}
		k.env = append(k.env, "ASTERISK_KIT_TARBALL="+tarball)
		if err := ensureWavPrompts(); err != nil {
			return nil, err
		}
	}
	// The control socket's path must stay under 100 characters.
	if k.dir, err = os.MkdirTemp("", "ast-"); err != nil {
		return nil, err
	}
	out, err := k.run("start", k.dir, "127.0.0.1:4573")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "AMI_PORT="); ok {
			k.amiPort, _ = strconv.Atoi(v)
		}
	}
	if k.amiPort == 0 {
		return nil, fmt.Errorf("run-asterisk start printed no AMI_PORT:\n%s", out)
	}
	return k, nil
}

// run runs run-asterisk with args and returns its standard output.
func (k *kit) run(args ...string) (string, error) {
	cmd := exec.Command(k.script, args...)
	cmd.Env = k.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("run-asterisk %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// cli runs one Asterisk CLI command.
func (k *kit) cli(command string) (string, error) { return k.run("cli", k.dir, command) }

// stop stops the Asterisk.
func (k *kit) stop() error {
	_, err := k.run("stop", k.dir)
	return err
}

// loadDialplan writes the test's contexts and reloads the dialplan.
func (k *kit) loadDialplan(conf string) error {
	if err := os.WriteFile(filepath.Join(k.dir, "extensions_test.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	_, err := k.cli("dialplan reload")
	return err
}

// installPrompts copies the sample prompts the repository ships (the tree
// under deploy/asterisk/sounds, with or without a language directory) into the
// kit's English sounds.
func (k *kit) installPrompts(repo string) error {
	src := filepath.Join(repo, "deploy", "asterisk", "sounds")
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if fi, err := os.Stat(filepath.Join(src, "en")); err == nil && fi.IsDir() {
		src = filepath.Join(src, "en")
	}
	dst := filepath.Join(k.dir, "sounds", "en")
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if fi, err := os.Lstat(target); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
				// Writing there would write into the stock prompts of the system.
				return fmt.Errorf("the sample prompts' directory %s is a directory of the stock prompts too", rel)
			}
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// cpuHas reports whether /proc/cpuinfo lists the CPU flag.
func cpuHas(flag string) (bool, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, flags, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		for _, f := range strings.Fields(flags) {
			if f == flag {
				return true, nil
			}
		}
		return false, nil
	}
	return false, sc.Err()
}

// tarballWithoutGSM writes a copy of the kit's tarball without
// lib/asterisk/modules/codec_gsm.so under work and returns its path.
func tarballWithoutGSM(home, work string) (string, error) {
	tarballs, _ := filepath.Glob(filepath.Join(home, "asterisk-*-linux-amd64.tar.*"))
	if len(tarballs) == 0 {
		return "", fmt.Errorf("no asterisk-*-linux-amd64.tar.* in %s", home)
	}
	tmp := filepath.Join(work, "kit-nogsm")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("tar", "-xaf", tarballs[0], "-C", tmp).CombinedOutput(); err != nil {
		return "", fmt.Errorf("extract %s: %w\n%s", tarballs[0], err, out)
	}
	mods, _ := filepath.Glob(filepath.Join(tmp, "*", "lib", "asterisk", "modules", "codec_gsm.so"))
	if len(mods) != 1 {
		return "", fmt.Errorf("no single codec_gsm.so in %s", tarballs[0])
	}
	if err := os.Remove(mods[0]); err != nil {
		return "", err
	}
	top := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(mods[0])))))
	out := filepath.Join(work, "asterisk-nogsm.tar.gz")
	if b, err := exec.Command("tar", "-czf", out, "-C", tmp, top).CombinedOutput(); err != nil {
		return "", fmt.Errorf("repack the kit: %w\n%s", err, b)
	}
	return out, os.RemoveAll(tmp)
}

// wavPackage is the Debian package of the English prompts as .wav files, which
// Asterisk plays without the GSM codec.
const wavPackage = "asterisk-core-sounds-en-wav"

// ensureWavPrompts installs the .wav prompts with apt-get when they are missing.
func ensureWavPrompts() error {
	if _, err := os.Stat("/usr/share/asterisk/sounds/en/vm-password.wav"); err == nil {
		return nil
	}
	apt := func(args ...string) error {
		cmd := exec.Command("apt-get", args...)
		if os.Geteuid() != 0 {
			cmd = exec.Command("sudo", append([]string{"-n", "apt-get"}, args...)...)
		}
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := apt("update", "-qq"); err != nil {
		return fmt.Errorf("the .wav prompts (%s) are needed without the GSM codec: %w", wavPackage, err)
	}
	if err := apt("install", "-y", "-qq", wavPackage, "asterisk-core-sounds-en"); err != nil {
		return fmt.Errorf("the .wav prompts (%s) are needed without the GSM codec: %w", wavPackage, err)
	}
	return nil
}

// agiReply returns Asterisk's reply to the first AGI command of channel that
// starts with command, as its log/full shows it ("200 result=55 endpos=8000").
func (k *kit) agiReply(channel, command string) (string, error) {
	b, err := os.ReadFile(filepath.Join(k.dir, "log", "full"))
	if err != nil {
		return "", err
	}
	rx, tx := "<"+channel+">AGI Rx << "+command, "<"+channel+">AGI Tx >> "
	sent := false
	for line := range strings.Lines(string(b)) {
		switch {
		case !sent && strings.Contains(line, rx):
			sent = true
		case sent:
			if _, reply, ok := strings.Cut(line, tx); ok && strings.HasPrefix(reply, "2") {
				return strings.TrimSpace(reply), nil
			}
		}
	}
	if sent {
		return "", fmt.Errorf("%s: no reply to %q in %s/log/full", channel, command, k.dir)
	}
	return "", fmt.Errorf("%s sent no %q (%s/log/full)", channel, command, k.dir)
}
