package pglocal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinDirNewest(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	for _, v := range []string{"9.6", "13", "15", "16"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		names := []string{"initdb", "postgres"}
		if v == "16" {
			names = names[:1] // a client-only or half-removed install
		}
		for _, name := range names {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir(filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "15", "bin"); got != want {
		t.Errorf("findBinDir = %s, want %s", got, want)
	}
}

func TestFindBinDirNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findBinDir(filepath.Join(t.TempDir(), "*", "bin"))
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("error = %v, want ErrNotInstalled", err)
	}
	for _, hint := range []string{"apt-get install postgresql", "TEST_DATABASE_URL", "DATABASE_URL", "docker compose"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not mention %q", err, hint)
		}
	}
}

func TestReachable(t *testing.T) {
	root, err := TempDir("pglocal-reach-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	open := filepath.Join(root, "open")
	closed := filepath.Join(root, "closed")
	for dir, mode := range map[string]os.FileMode{open: 0o755, closed: 0o700} {
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	other := &credential{Uid: uint32(os.Getuid() + 4242), Gid: uint32(os.Getgid() + 4242)}
	if err := reachable(open, other); err != nil {
		t.Errorf("a 0755 directory under a 0755 one is not reachable: %v", err)
	}
	err = reachable(closed, other)
	if err == nil || !strings.Contains(err.Error(), closed) {
		t.Errorf("reachable(0700 directory of another user) = %v, want an error naming it", err)
	}
	if err := reachable(closed, nil); err != nil {
		t.Errorf("without a server user: %v", err)
	}
}
