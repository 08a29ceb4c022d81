//go:build e2e

package e2e

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// guard is how far past its target a live step may take before the suite
// fails: far enough that only a broken mechanism trips it (a poll where a
// watch should be, such as Crossplane's or the provider's one-minute and
// ten-minute polls), never the noise of a loaded 2-core machine. A target is
// a figure the table prints beside the measurement, marked when not met.
const guard = 20 * time.Second

// The tables a run prints, and writes to the -timings file.
var (
	live    = &latencies{}
	costs   = &costTable{}
	timings = &timingTable{}
	// admission is the matrix of bad input refused at create, which the
	// contract's TestAdmissionMatrix fills in.
	admission string
	// leastAuthority is the table of attempts to reach beyond one's own
	// instances, and grants that of the kit's rights by namespace, which the
	// contract's least-authority tests fill in.
	leastAuthority, grants string
	// upgrades is the table of upgrades under load, which the upgrade
	// suite fills in.
	upgrades string
	// ceiling is the table of the fleet at each size, which the ceiling
	// benchmark fills in.
	ceiling string
)

// A latency table collects how long live steps took, each from the event
// that triggered it, with the target each should meet.
type latencies struct {
	mu   sync.Mutex
	rows []latencyRow
}

type latencyRow struct {
	mode    string
	what    string
	samples []time.Duration // sorted
	target  time.Duration   // 0: measured and reported only
	p       int             // the percentile the target applies to
}

// add records a measurement in a mode of one or more samples. The target,
// if any, applies to percentile p of the samples.
func (l *latencies) add(m mode, what string, samples []time.Duration, p int, target time.Duration) latencyRow {
	s := slices.Clone(samples)
	slices.Sort(s)
	row := latencyRow{mode: m.name, what: what, samples: s, target: target, p: p}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, row)
	return row
}

// one records a single measurement against a target.
func (l *latencies) one(m mode, what string, d, target time.Duration) latencyRow {
	return l.add(m, what, []time.Duration{d}, 100, target)
}

// check fails when the row's percentile is past its guard: its target
// plus guard.
func (r latencyRow) check() error {
	if r.target == 0 || r.value() <= r.target+guard {
		return nil
	}
	return fmt.Errorf("%s (%s mode): p%d %s, past the target %s by more than %s: a wait that polls? (all: %s)",
		r.what, r.mode, r.p, r.value(), r.target, guard, r.format())
}

// met reports whether the row meets its target.
func (r latencyRow) met() bool {
	return r.target == 0 || r.value() <= r.target
}

func (r latencyRow) value() time.Duration {
	return percentile(r.samples, r.p)
}

func (r latencyRow) format() string {
	if len(r.samples) == 1 {
		return r.samples[0].Round(time.Millisecond).String()
	}
	return fmt.Sprintf("n=%d: p50 %s, p95 %s, max %s", len(r.samples),
		percentile(r.samples, 50), percentile(r.samples, 95), r.samples[len(r.samples)-1].Round(time.Millisecond))
}

func (l *latencies) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t sideBySide
	for _, r := range l.rows {
		target := "measured"
		if r.target > 0 {
			target = fmt.Sprintf("≤ %s", r.target)
			if r.p < 100 {
				target = fmt.Sprintf("p%d ≤ %s", r.p, r.target)
			}
			if !r.met() {
				target += " (not met)"
			}
		}
		t.set(r.what, r.mode, r.format(), target)
	}
	return t.markdown("live step, timed from its trigger", "time", "target")
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)].Round(time.Millisecond)
}

// costTable collects what the components used.
type costTable struct {
	mu   sync.Mutex
	rows []costRow
}

func (ct *costTable) add(r costRow) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.rows = append(ct.rows, r)
}

func (ct *costTable) String() string {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if len(ct.rows) == 0 {
		return ""
	}
	var t sideBySide
	for _, r := range ct.rows {
		unit := ""
		if r.perTime == time.Minute {
			unit = " per minute"
		}
		for _, name := range costComponents {
			u := r.usage[name]
			ms := float64(u.cpu.Microseconds()) / 1000
			aboveEmpty := "—"
			if r.empty != nil {
				aboveEmpty = r.perInstance(ms-float64(r.empty.usage[name].cpu.Microseconds())/1000, "%.1f"+unit)
			}
			t.set(r.what+" | "+name, r.mode, fmt.Sprintf("%.2f%s", u.cpu.Seconds(), unit), r.perInstance(ms, "%.1f"+unit), aboveEmpty,
				fmt.Sprintf("%.1f", float64(u.rss)/(1<<20)), r.perInstance(float64(u.rss)/1024, "%.0f"))
		}
		for i, v := range r.counters {
			t.set(r.what+" | "+counters[i].what+" per instance"+unit, r.mode, fmt.Sprintf("%.1f", v))
		}
	}
	return t.markdown("instances | component", "CPU s", "CPU ms per instance", "CPU ms per instance above the empty control plane",
		"resident MiB", "resident KiB per instance") + ct.requests()
}

// perInstance is v per instance of the row, formatted, or a dash when the
// row has no instance.
func (r costRow) perInstance(v float64, format string) string {
	if r.instances == 0 {
		return "—"
	}
	return fmt.Sprintf(format, v/float64(r.instances))
}

// minRequests is the fewest requests of a kind per instance that the
// requests table shows.
const minRequests = 0.5

// requests is the table of the API server's requests per instance by verb
// and resource, for each row that counted any: where an instance's
// requests go.
func (ct *costTable) requests() string {
	var t sideBySide
	for _, r := range ct.rows {
		unit := ""
		if r.perTime == time.Minute {
			unit = " per minute"
		}
		kinds := slices.Sorted(maps.Keys(r.requests))
		slices.SortStableFunc(kinds, func(a, b string) int { return cmp.Compare(r.requests[b], r.requests[a]) })
		for _, kind := range kinds {
			if r.requests[kind] >= minRequests {
				t.set(r.what+" | "+kind, r.mode, fmt.Sprintf("%.1f%s", r.requests[kind], unit))
			}
		}
	}
	if len(t.keys) == 0 {
		return ""
	}
	return t.markdown("instances | API server requests per instance, by verb and resource", "requests")
}

// A timingTable collects how long the set-up and each test took.
type timingTable struct {
	mu   sync.Mutex
	rows []string
}

func (tt *timingTable) add(what string, d time.Duration) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.rows = append(tt.rows, fmt.Sprintf("| %s | %s |\n", what, d.Round(100*time.Millisecond)))
}

// timed adds a row to the timing table when the returned func is called.
func timed(what string) func() {
	start := time.Now()
	return func() { timings.add(what, time.Since(start)) }
}

func (tt *timingTable) String() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	var b strings.Builder
	b.WriteString("\n| part of the run | time |\n|---|---|\n")
	for _, r := range tt.rows {
		b.WriteString(r)
	}
	return b.String()
}

// A sideBySide table puts what was measured in each mode in one row, the
// modes' columns side by side.
type sideBySide struct {
	keys  []string                       // the rows, in the order first seen
	cells map[string]map[string][]string // row -> mode -> its cells
}

// set sets a row's cells for a mode.
func (s *sideBySide) set(row, mode string, cells ...string) {
	if s.cells == nil {
		s.cells = map[string]map[string][]string{}
	}
	if s.cells[row] == nil {
		s.cells[row] = map[string][]string{}
		s.keys = append(s.keys, row)
	}
	s.cells[row][mode] = cells
}

// markdown renders the table: the row column(s), then each mode's columns;
// a mode that did not measure a row has a dash.
func (s *sideBySide) markdown(rowHeader string, columns ...string) string {
	var b strings.Builder
	b.WriteString("\n| " + rowHeader)
	sep := "\n|---" + strings.Repeat("|---", strings.Count(rowHeader, "|"))
	for _, m := range modes {
		for _, col := range columns {
			b.WriteString(" | " + m.name + ": " + col)
			sep += "|---"
		}
	}
	b.WriteString(" |" + sep + "|\n")
	for _, row := range s.keys {
		b.WriteString("| " + row)
		for _, m := range modes {
			cells, ok := s.cells[row][m.name]
			for i := range columns {
				cell := "—"
				if ok && i < len(cells) {
					cell = cells[i]
				}
				b.WriteString(" | " + cell)
			}
		}
		b.WriteString(" |\n")
	}
	return b.String()
}
