//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

// A process is a program the suite started, and owns.
type process struct {
	name string
	env  []string // what the suite set, on top of its own environment
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// alive reports whether the process is still running.
func (p *process) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop kills the process and waits for it, so that its ports are free.
func (p *process) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// processes starts programs, records their pids in a file so that a run that
// dies can still be cleaned up (make e2e does), and stops them all.
type processes struct {
	dir     string
	mu      sync.Mutex
	running []*process
}

func (ps *processes) start(name string, env []string, bin string, args ...string) (*process, error) {
	log := filepath.Join(ps.dir, "logs", name+".log")
	if err := os.MkdirAll(filepath.Dir(log), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // The suite's own run directory.
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // The suite runs the control plane it built.
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// The kernel kills the process if the suite dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	p := &process{name: name, env: env, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.running = append(ps.running, p)
	ps.mu.Unlock()
	pids, err := os.OpenFile(filepath.Join(ps.dir, "pids"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer pids.Close()
	if _, err := fmt.Fprintln(pids, cmd.Process.Pid, startTime(cmd.Process.Pid), name); err != nil {
		return nil, err
	}
	return p, nil
}

// startTime returns when a process started, in clock ticks since boot,
// which tells it from a later process with its pid.
func startTime(pid int) string {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return "unknown"
	}
	s, err := p.Stat()
	if err != nil {
		return "unknown"
	}
	return strconv.FormatUint(s.Starttime, 10)
}

// find returns the process of that name started last, or nil.
func (ps *processes) find(name string) *process {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := len(ps.running) - 1; i >= 0; i-- {
		if ps.running[i].name == name {
			return ps.running[i]
		}
	}
	return nil
}

// stopAll stops every process, the last started first.
func (ps *processes) stopAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := len(ps.running) - 1; i >= 0; i-- {
		ps.running[i].stop()
	}
	ps.running = nil
}

// tail returns the end of a process's log, for a failure message.
func (p *process) tail(lines int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

var freePort = testenv.NewPort

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func addr(port int) string {
	return "127.0.0.1:" + strconv.Itoa(port)
}

// probe calls ready every interval until it returns nil, the process p (if
// any) exits, or the timeout passes. It is for what only a process itself
// can tell, such as a port it listens on or its /readyz, which no watch
// reports: it waits for start-up, and nothing is timed through it.
func probe(ctx context.Context, timeout, interval time.Duration, what string, p *process, ready func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if p != nil && !p.alive() {
			return fmt.Errorf("%s: %s exited:\n%s", what, p.name, p.tail(30))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s waiting for %s: %w", timeout, what, err)
		case <-time.After(interval):
		}
	}
}
