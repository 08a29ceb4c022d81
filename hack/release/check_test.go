package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck makes a real repository and checks each reason Check refuses a
// release, and that it gives the next tag once there is none.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("go.mod", "module m\n\nrequire k8s.io/api v0.35.3\n")
	write(".gitignore", "/.cache/\n")
	git("add", "-A")
	git("commit", "-q", "-m", "feat: start")
	git("tag", "35.0.0-alpha.1")
	head := git("rev-parse", "HEAD")

	steps := []struct {
		name    string
		setup   func()
		want    string
		wantErr string
	}{
		{name: "DirtyTree", setup: func() { write("new.go", "package m\n") }, wantErr: "uncommitted changes"},
		{name: "NotMain", setup: func() { _ = os.Remove(filepath.Join(dir, "new.go")); git("checkout", "-q", "-b", "feature") }, wantErr: "HEAD is feature, not main"},
		{name: "NoCIResult", setup: func() { git("checkout", "-q", "main") }, wantErr: "no CI result is recorded"},
		{name: "CIResultOfAnotherCommit", setup: func() { write(CIResultFile, "0123abc pass\n") }, wantErr: "the last CI result is for 0123abc"},
		{name: "CIFailed", setup: func() { write(CIResultFile, head+" fail\n") }, wantErr: "CI failed on HEAD"},
		{name: "Ready", setup: func() { write(CIResultFile, head+" pass\n") }, want: "35.0.0-alpha.2"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.setup()
			got, err := Check(dir, Alpha)
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("Check(...): want an error with %q, got %q, %v", s.wantErr, got, err)
				}
				return
			}
			if err != nil || got != s.want {
				t.Fatalf("Check(...): want %q, got %q, %v", s.want, got, err)
			}
		})
	}
}
