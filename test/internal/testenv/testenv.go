// Package testenv starts the programs that the integration tests drive: the
// function, served locally, and the pinned crossplane CLI.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := NewPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// NewPort is FreePort for code that has no testing.TB.
func NewPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil //nolint:forcetypeassert // A tcp listener has a TCP address.
}

// StartFunction runs the function binary insecurely on a free port of
// 127.0.0.1, waits until it accepts connections, and stops it when the test
// ends. It returns the address.
func StartFunction(t testing.TB, binary string, args ...string) string {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	var logs bytes.Buffer
	cmd := exec.Command(binary, append([]string{"--insecure", "--address", addr, "--metrics-address="}, args...)...) //nolint:gosec // The test's own binary.
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start the function %s: %v", binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the function exited at start (%v):\n%s", err, logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the function did not listen on %s within 10s:\n%s", addr, logs.String())
	return ""
}

// Result is what a command printed and how it ended.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run runs a command with stdin, for at most a minute.
func Run(stdin []byte, name string, args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // Tests run the programs they were given.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// ModuleDir downloads module@version from the Go module proxy, or finds it
// in the module cache, and returns the directory of its source.
func ModuleDir(t testing.TB, module, version string) string {
	t.Helper()
	dir, err := FindModule(module, version)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// FindModule is ModuleDir for code that has no testing.TB.
func FindModule(module, version string) (string, error) {
	r := Run(nil, "go", "mod", "download", "-json", module+"@"+version)
	if r.Err != nil {
		return "", fmt.Errorf("cannot download %s@%s: %w\n%s%s", module, version, r.Err, r.Stdout, r.Stderr)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("cannot find the directory of %s@%s in %q: %w", module, version, r.Stdout, err)
	}
	return m.Dir, nil
}

// CertManagerVersion is the cert-manager release whose Certificate CRD the
// tests install and validate against (cert-manager is not a Go dependency
// of theirs, so no go.mod pins it).
const CertManagerVersion = "v1.17.2"

// Pinned returns the version of module that the go.mod in dir requires: the
// one place a tool's version is set.
func Pinned(dir, module string) (string, error) {
	file := filepath.Join(dir, "go.mod")
	b, err := os.ReadFile(file) //nolint:gosec // A go.mod of the repository.
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax(file, b, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Require {
		if r.Mod.Path == module {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", file, module)
}
