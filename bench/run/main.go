// Command run measures function-squonk2-viz against the floor (bench/noop)
// over gRPC on loopback: cold start, then, with the server pinned to one core
// and the load generator to the other, throughput, latency, server CPU per
// request and resident memory at each concurrency, repeated, as medians. With
// -soak it instead drives the function for a while and checks that it makes
// no error and does not grow.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// result is one loadgen run, as it prints it, plus the server's side.
type result struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50Ms"`
	P99ms       float64 `json:"p99Ms"`
	MaxMs       float64 `json:"maxMs"`
	FirstError  string  `json:"firstError"`
	CPUus       float64 `json:"-"` // server CPU per request, µs
}

type options struct {
	loadgen, xr, observed, input string
	unique                       bool
	duration                     time.Duration
	repeat                       int
	concurrency                  []int
}

func main() {
	function := flag.String("function", "bin/function", "the function binary")
	noop := flag.String("noop", "bin/noop", "the floor function binary")
	loadgen := flag.String("loadgen", "bin/loadgen", "the load generator binary")
	xr := flag.String("xr", "bench/testdata/xr.yaml", "the observed DataVisualisation")
	observed := flag.String("observed", "bench/testdata/observed", "observed composed resources; empty for none")
	input := flag.String("input", "", "the step's Input")
	conc := flag.String("c", "1,4,16", "concurrencies")
	repeat := flag.Int("repeat", 3, "runs of each measurement; the table shows medians")
	duration := flag.Duration("d", 5*time.Second, "duration of each run")
	soak := flag.Duration("soak", 0, "soak the function for this long instead of benchmarking")
	out := flag.String("o", "", "also write the table to this file")
	unique := flag.Bool("unique", false, "send every call under a DataVisualisation uid never sent before")
	flag.Parse()

	o := options{loadgen: *loadgen, xr: *xr, observed: *observed, input: *input, duration: *duration, repeat: *repeat, unique: *unique}
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(fmt.Errorf("bad -c %q: %w", *conc, err))
		}
		o.concurrency = append(o.concurrency, n)
	}
	if *soak > 0 {
		if err := runSoak(*function, o, *soak); err != nil {
			fail(err)
		}
		return
	}
	table, err := benchmark(*function, *noop, o)
	if err != nil {
		fail(err)
	}
	fmt.Print(table)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o600); err != nil {
			fail(err)
		}
	}
}

// server is a function process under measurement.
type server struct {
	cmd  *exec.Cmd
	addr string
}

// start runs a function binary on a free port, pinned to the CPUs given,
// with any further arguments, and returns once it accepts connections, with
// how long that took.
func start(binary, cpus string, args ...string) (*server, time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	argv := append([]string{"-c", cpus, binary, "--address", addr}, args...)
	if filepath.Base(binary) != "noop" {
		argv = append(argv, "--insecure", "--metrics-address=")
	}
	cmd := exec.Command("taskset", argv...) //nolint:gosec // Benchmarks run the binaries they are given.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	s := &server{cmd: cmd, addr: addr}
	for time.Since(t0) < 10*time.Second {
		if c, err := net.DialTimeout("tcp", addr, 50*time.Millisecond); err == nil {
			took := time.Since(t0)
			_ = c.Close()
			return s, took, nil
		}
		time.Sleep(time.Millisecond)
	}
	s.stop()
	return nil, 0, fmt.Errorf("%s did not listen on %s within 10s", binary, addr)
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// cpu returns the server's user and system CPU time so far.
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	if err != nil {
		return 0, err
	}
	const ticks = 100 // USER_HZ on Linux.
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// rss returns the server's resident memory in MiB.
func (s *server) rss() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
}

// saveResponse has the load generator call the server once with the
// benchmark's request, and returns the file it wrote the response to.
func (s *server) saveResponse(o options) (string, error) {
	f, err := os.CreateTemp("", "bench-response-*.json")
	if err != nil {
		return "", err
	}
	_ = f.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(o.loadgen, "-addr", s.addr, "-xr", o.xr, "-observed", o.observed, "-input", o.input, "-save-response", f.Name()) //nolint:gosec // As below.
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("loadgen: %w: %s", err, stderr.String())
	}
	return f.Name(), nil
}

// load drives the server with the load generator, pinned to CPU 1.
func (s *server) load(o options, c int, d time.Duration) (result, error) {
	cpu0, err := s.cpu()
	if err != nil {
		return result{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("taskset", "-c", "1", o.loadgen, "-addr", s.addr, "-xr", o.xr, "-observed", o.observed, //nolint:gosec // As above.
		"-input", o.input, "-c", strconv.Itoa(c), "-d", d.String(), "-warmup", "0s", "-unique="+strconv.FormatBool(o.unique))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("loadgen: %w: %s", err, stderr.String())
	}
	cpu1, err := s.cpu()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return result{}, err
	}
	if r.Requests > 0 {
		r.CPUus = float64((cpu1 - cpu0).Microseconds()) / float64(r.Requests+r.Errors)
	}
	return r, nil
}

// A target is one function under measurement: its command, its running
// server, and what was measured of it.
type target struct {
	name, binary string
	args         []string
	server       *server
	coldStartMs  []float64
	runs         map[int][]result
	rssMiB       float64
}

func newTarget(name, binary string, args ...string) *target {
	return &target{name: name, binary: binary, args: args, runs: map[int][]result{}}
}

// benchmark measures the function side by side with two floors: the no-op,
// and the no-op answering every call with the function's own response (the
// least any function that returns this response can cost). Their cold starts
// are measured in turn; then, with all running, each run of the function is
// followed at once by the same run of each floor, so that the machine's
// drifts in speed fall on all alike.
func benchmark(function, noop string, o options) (string, error) {
	fn := newTarget("function", function)
	floor := newTarget("floor (no-op)", noop)
	if err := coldStarts(fn, floor); err != nil {
		return "", err
	}
	var running []*target
	defer func() {
		for _, t := range running {
			t.server.stop()
		}
	}()
	if err := fn.launch(o); err != nil {
		return "", err
	}
	running = append(running, fn)
	rsp, err := fn.server.saveResponse(o)
	if err != nil {
		return "", fmt.Errorf("function: %w", err)
	}
	defer os.Remove(rsp)
	answer := newTarget("floor with the function's response", noop, "-response", rsp)
	for _, t := range []*target{floor, answer} {
		if err := t.launch(o); err != nil {
			return "", err
		}
		running = append(running, t)
	}
	for _, c := range o.concurrency {
		for range o.repeat {
			for _, t := range running {
				if err := t.run(o, c); err != nil {
					return "", err
				}
			}
		}
	}
	for _, t := range running {
		if t.rssMiB, err = t.server.rss(); err != nil {
			return "", fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return table(o, fn, floor, answer), nil
}

// coldStarts starts and stops each target five times in turn, timing each
// start to the port accepting a connection.
func coldStarts(targets ...*target) error {
	for range 5 {
		for _, t := range targets {
			s, took, err := start(t.binary, "0", t.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			s.stop()
			t.coldStartMs = append(t.coldStartMs, float64(took.Microseconds())/1000)
		}
	}
	return nil
}

// launch starts the target's server for the runs, and warms it up.
func (t *target) launch(o options) error {
	s, _, err := start(t.binary, "0", t.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	t.server = s
	if _, err := s.load(o, 4, time.Second); err != nil {
		s.stop()
		return fmt.Errorf("%s: warming up: %w", t.name, err)
	}
	return nil
}

// run drives the target's server for one run at concurrency c.
func (t *target) run(o options, c int) error {
	r, err := t.server.load(o, c, o.duration)
	if err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	t.runs[c] = append(t.runs[c], r)
	return nil
}

// table prints the medians of each target's runs and the function's ratios
// to each floor.
func table(o options, fn, floor, answer *target) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nRunFunction over gRPC on loopback: server pinned to CPU 0, load generator to CPU 1; medians of %d runs of %s, the targets' runs in turn.\n\n", o.repeat, o.duration)
	b.WriteString("| target | callers | req/s | p50 ms | p99 ms | max ms | errors | server CPU µs/req |\n|---|---|---|---|---|---|---|---|\n")
	for _, t := range []*target{fn, floor, answer} {
		for _, c := range o.concurrency {
			r := medianResult(t.runs[c])
			fmt.Fprintf(&b, "| %s | %d | %.0f | %.2f | %.2f | %.2f | %d | %.0f |\n", t.name, c, r.RPS, r.P50ms, r.P99ms, r.MaxMs, r.Errors, r.CPUus)
		}
	}
	for _, base := range []*target{floor, answer} {
		fmt.Fprintf(&b, "\n| function / %s | callers | throughput | p99 | p50 difference |\n|---|---|---|---|---|\n", base.name)
		for _, c := range o.concurrency {
			f, n := medianResult(fn.runs[c]), medianResult(base.runs[c])
			fmt.Fprintf(&b, "| ratio | %d | %.2fx | %.2fx | %+.3f ms |\n", c, f.RPS/n.RPS, f.P99ms/n.P99ms, f.P50ms-n.P50ms)
		}
	}
	fmt.Fprintf(&b, "\n| | function | floor (no-op) | floor with the function's response |\n|---|---|---|---|\n| resident memory after load | %.1f MiB | %.1f MiB | %.1f MiB |\n| cold start to accepting | %.1f ms | %.1f ms | – |\n",
		fn.rssMiB, floor.rssMiB, answer.rssMiB, median(fn.coldStartMs), median(floor.coldStartMs))
	return b.String()
}

// soakWarmUp is how long the soak drives the function before its resident
// memory counts: long enough for its caches to fill and its heap to settle.
const soakWarmUp = 10 * time.Second

// soakWindow is the span of per-second resident memory samples whose median
// stands for the memory at a moment: a single sample of a garbage-collected
// heap varies by a few percent from one second to the next; the median of ten
// does not, while a leak moves it steadily.
const soakWindow = 10

// maxSoakGrowth is the most the resident memory at the end of the soak may
// exceed that after the warm-up, in percent.
const maxSoakGrowth = 10

// runSoak drives the function at the highest concurrency for the duration,
// sampling its resident memory every second: no call may fail, and its
// memory at the end must be within maxSoakGrowth of that after the warm-up.
func runSoak(function string, o options, d time.Duration) error {
	if least := soakWarmUp + 2*soakWindow*time.Second; d < least {
		return fmt.Errorf("soak: %s is too short to tell growth from noise; soak for at least %s", d, least)
	}
	s, _, err := start(function, "0")
	if err != nil {
		return err
	}
	defer s.stop()
	c := o.concurrency[len(o.concurrency)-1]
	type loaded struct {
		r   result
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		r, err := s.load(o, c, d)
		done <- loaded{r, err}
	}()
	var samples []float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	t0 := time.Now()
	for {
		select {
		case l := <-done:
			if l.err != nil {
				return l.err
			}
			return judgeSoak(o, c, d, l.r, samples)
		case <-tick.C:
			if time.Since(t0) < soakWarmUp {
				continue
			}
			mib, err := s.rss()
			if err != nil {
				return err
			}
			samples = append(samples, mib)
		}
	}
}

// judgeSoak reports the soak and fails it on any error, or when the median
// resident memory of the last window of samples exceeds that of the first by
// more than maxSoakGrowth.
func judgeSoak(o options, c int, d time.Duration, r result, samples []float64) error {
	if len(samples) < 2*soakWindow {
		return fmt.Errorf("soak: only %d samples of resident memory, fewer than %d", len(samples), 2*soakWindow)
	}
	early, late := median(samples[:soakWindow]), median(samples[len(samples)-soakWindow:])
	growth := (late - early) / early * 100
	over := "one DataVisualisation"
	if o.unique {
		over = "each call under a new DataVisualisation uid"
	}
	fmt.Printf("soak: %s at %d callers, %s: %d calls, %d errors; resident memory (median of %d per-second samples) %.1f MiB after %s, %.1f MiB at the end (%+.1f%%; all samples %.1f-%.1f MiB)\n",
		d, c, over, r.Requests, r.Errors, soakWindow, early, soakWarmUp, late, growth, slices.Min(samples), slices.Max(samples))
	if r.Errors > 0 {
		return fmt.Errorf("soak: %d calls failed, the first: %s", r.Errors, r.FirstError)
	}
	if growth > maxSoakGrowth {
		return fmt.Errorf("soak: resident memory grew %.1f%%, more than %d%%", growth, maxSoakGrowth)
	}
	return nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// medianResult takes the median of each figure of the runs.
func medianResult(runs []result) result {
	pick := func(f func(r result) float64) float64 {
		xs := make([]float64, 0, len(runs))
		for _, r := range runs {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	errs := 0
	for _, r := range runs {
		errs += r.Errors
	}
	return result{
		Concurrency: runs[0].Concurrency,
		Errors:      errs,
		RPS:         pick(func(r result) float64 { return r.RPS }),
		P50ms:       pick(func(r result) float64 { return r.P50ms }),
		P99ms:       pick(func(r result) float64 { return r.P99ms }),
		MaxMs:       pick(func(r result) float64 { return r.MaxMs }),
		CPUus:       pick(func(r result) float64 { return r.CPUus }),
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
