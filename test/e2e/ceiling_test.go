//go:build e2e && load && ceiling

package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/sizing"
)

// The ceiling benchmark's parameters: `make e2e-ceiling` passes them.
var (
	ceilingSizes = flag.String("ceiling", "200,1000,2000", "the fleet sizes, comma-separated, ascending: the fleet grows to each in batches, and is measured at rest")
	batchSize    = flag.Int("batch", 100, "how many instances each batch creates at once")
	batchTimeout = flag.Duration("batch-timeout", 15*time.Minute, "how long a batch may take to turn Ready before the fleet is said to have broken")
	ceilingData  = flag.String("ceiling-data", "", "the file to write the figures of each size to, as JSON, with their plot beside it (.svg)")
	ceilingModes = flag.String("ceiling-modes", "direct,provider", "the modes, in the order they are measured")
	ceilingFor   = flag.Duration("ceiling-for", 0, "how long the fleets may grow in all (0: no limit); past it a mode stops growing, and is measured at the size it reached")
)

// TestLoadCeiling finds what one control plane on this machine holds, with
// the kit's sizing: in each mode, the control plane is measured at rest with
// no instance (its own cost), then the fleet grows in batches of -batch
// instances, each created at once and Ready (its Pods run by the suite's
// kubelet) before the next, to each of -ceiling, where each component's CPU
// at rest and resident memory are measured. A size whose batch does not turn
// Ready within -batch-timeout breaks the fleet: what broke is reported and
// the mode stops growing (the run fails only if that is before the first
// size). The fleet is deleted at the end.
func TestLoadCeiling(t *testing.T) {
	targets := ceilingTargets(t)
	scaleQuota(t, targets[len(targets)-1])
	deadline := time.Now().Add(*ceilingFor)
	outOfTime := func() bool { return *ceilingFor > 0 && time.Now().After(deadline) }
	var points []sizing.Point
	for _, m := range ceilingModeOrder(t) {
		t.Run(m.name, func(t *testing.T) {
			ctx := context.Background()
			var fleet []string
			defer func() { deleteFleet(ctx, t, m, fleet) }()
			empty := emptyAtRest(ctx, t, m)
			none := sizing.Point{Mode: m.name}
			atRestIn(&none, *empty)
			points = append(points, none)
			for _, n := range targets {
				if outOfTime() {
					return
				}
				var grew time.Duration
				var broke error
				before, err := c.sample(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var took []time.Duration
				for len(fleet) < n && broke == nil && !outOfTime() {
					batch := make([]string, min(*batchSize, n-len(fleet)))
					for i := range batch {
						batch[i] = m.instance(fmt.Sprintf("fleet-%04d", len(fleet)+i))
					}
					start := time.Now()
					var batchTook []time.Duration
					batchTook, broke = bringReady(ctx, m, batch)
					took = append(took, batchTook...)
					grew += time.Since(start)
					fleet = append(fleet, batch...)
				}
				live.add(m, fmt.Sprintf("growing to %d in batches of %d: create → each Ready", n, *batchSize), took, 95, 0)
				after, err := c.sample(ctx)
				if err != nil {
					t.Fatal(err)
				}
				p := sizing.Point{Mode: m.name, Instances: len(fleet), GrewSeconds: grew.Seconds(), GrowthCores: growthCores(before, after)}
				if len(fleet) < n && broke == nil {
					p.Short = fmt.Sprintf("the run's time (-ceiling-for %s) ran out on the way to %d", *ceilingFor, n)
				}
				if broke != nil {
					p.Broke = broke.Error()
					points = append(points, p)
					writeCeiling(t, points)
					// Past the first size a break is what the benchmark
					// looks for: its ceiling, reported. Before it, the
					// control plane does not work.
					report := t.Logf
					if n == targets[0] {
						report = t.Errorf
					}
					report("%s mode: the fleet broke growing to %d: %v", m.name, n, broke)
					return
				}
				row := atRest(ctx, t, m, len(fleet), empty)
				costs.add(row)
				atRestIn(&p, row)
				points = append(points, p)
				writeCeiling(t, points)
			}
		})
	}
	ceiling = ceilingTable(points)
}

// scaleQuota lets the Data Manager namespace run n instances. The kit's
// example quota (example/data-manager/quota.yaml) bounds a namespace at
// 550 Pods and 512 CPUs of limits, about 500 instances: a platform sizes it
// to its nodes. The benchmark measures the control plane, so it scales
// every bound of the quota by the same factor, to n and a tenth more.
func scaleQuota(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace, Name: "squonk2-viz"}}
	q = mustGet(ctx, t, q)
	pods := q.Spec.Hard[corev1.ResourcePods]
	factor := (int64(n)*11/10 + pods.Value() - 1) / pods.Value()
	if factor <= 1 {
		return
	}
	for r, v := range q.Spec.Hard {
		q.Spec.Hard[r] = *resource.NewQuantity(v.Value()*factor, v.Format)
	}
	if err := c.kube.Update(ctx, q); err != nil {
		t.Fatalf("cannot scale the quota for %d instances: %v", n, err)
	}
}

// ceilingModeOrder parses -ceiling-modes.
func ceilingModeOrder(t *testing.T) []mode {
	t.Helper()
	var out []mode
	for _, name := range strings.Split(*ceilingModes, ",") {
		i := slices.IndexFunc(modes, func(m mode) bool { return m.name == strings.TrimSpace(name) })
		if i < 0 {
			t.Fatalf("-ceiling-modes: no mode %q", name)
		}
		out = append(out, modes[i])
	}
	return out
}

// writeCeiling writes the figures so far, their plot and their table beside
// -ceiling-data (.svg, .md), after each size: a run stopped part way keeps
// what it measured.
func writeCeiling(t *testing.T, points []sizing.Point) {
	t.Helper()
	if *ceilingData == "" {
		return
	}
	run := sizing.Run{Date: time.Now().UTC().Format(time.DateOnly), Limits: componentLimits(), Points: points}
	if err := run.Write(*ceilingData, costComponents); err != nil {
		t.Error(err)
	}
	table := strings.TrimSuffix(*ceilingData, filepath.Ext(*ceilingData)) + ".md"
	if err := os.WriteFile(table, []byte(ceilingTable(points)), 0o600); err != nil {
		t.Error(err)
	}
}

// ceilingTargets parses -ceiling: sizes, each larger than the one before.
func ceilingTargets(t *testing.T) []int {
	t.Helper()
	out := sizes(t, "ceiling", *ceilingSizes)
	if !slices.IsSorted(out) || len(slices.Compact(slices.Clone(out))) != len(out) {
		t.Fatalf("-ceiling: %s is not in ascending order", *ceilingSizes)
	}
	return out
}

// bringReady creates the instances at once and waits until each is Ready,
// its Pods run by the suite's kubelet, and returns how long each took from
// its create. It says what broke when one is not Ready within
// -batch-timeout: a component that died, else how many are not Ready, the
// wait's error and why one of them says it is not.
func bringReady(ctx context.Context, m mode, instances []string) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, *batchTimeout)
	defer cancel()
	ready := make([]*watching[*unstructured.Unstructured], len(instances))
	for i, name := range instances {
		c.kubelet.runPods(name)
		ready[i] = watchFor(ctx, xrRef(name), xrCondition("Ready", "True"))
	}
	created := make([]time.Time, len(instances))
	errs := make([]error, len(instances))
	parallel(len(instances), func(i int) {
		created[i], errs[i] = createXR(ctx, m, instances[i])
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var took []time.Duration
	var notReady []string
	var waitErr error
	for i, w := range ready {
		at, _, err := w.wait()
		if err != nil {
			notReady, waitErr = append(notReady, instances[i]), err
			continue
		}
		took = append(took, at.Sub(created[i]))
	}
	if len(notReady) == 0 {
		return took, nil
	}
	for _, name := range costComponents {
		if p := c.ps.find(name); p != nil && !p.alive() {
			return took, fmt.Errorf("%s is not running (its log: %s)", name, p.tail(20))
		}
	}
	return took, fmt.Errorf("%d of the batch's %d not Ready (%w); %s", len(notReady), len(instances), waitErr, notReady[0]+": "+readiness(context.Background(), notReady[0]))
}

// deleteFleet deletes the fleet at once and waits until nothing it composed
// is left in the namespace, and none of its objects was made again
// meanwhile.
func deleteFleet(ctx context.Context, t *testing.T, m mode, fleet []string) {
	t.Helper()
	defer timed(fmt.Sprintf("%s mode: the fleet of %d deleted", m.name, len(fleet)))()
	nothingMadeAgain(ctx, t, fleet, func() {
		parallel(len(fleet), func(i int) {
			if err := client.IgnoreNotFound(c.kube.Delete(ctx, xrRef(fleet[i]))); err != nil {
				t.Error(err)
			}
		})
		for _, ref := range []client.Object{xrRef(""), unstructuredOf(gvkObject, dmNamespace, ""), deploymentRef(""), serviceRef(""), ingressRef("")} {
			if err := untilNoneLeft(ctx, ref); err != nil {
				t.Error(err)
			}
		}
	})
}

// untilNoneLeft waits until no object of ref's kind is left in its
// namespace, from the events of one list and watch.
func untilNoneLeft(ctx context.Context, ref client.Object) error {
	lw, err := c.listWatch(ref, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *awaitTimeout)
	defer cancel()
	var left cache.Store
	_, err = watchtools.UntilWithSync(ctx, lw, ref.DeepCopyObject(), func(store cache.Store) (bool, error) {
		left = store
		return len(store.ListKeys()) == 0, nil
	}, func(watch.Event) (bool, error) {
		return len(left.ListKeys()) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%s left in %s: %w", kindOf(ref), ref.GetNamespace(), err)
	}
	return nil
}

// growthCores is how many CPUs each component kept busy between two
// samples, on average.
func growthCores(before, after usageSample) map[string]float64 {
	wall := after.at.Sub(before.at).Seconds()
	out := map[string]float64{}
	for name, u := range after.usage {
		out[name] = (u.cpu - before.usage[name].cpu).Seconds() / wall
	}
	return out
}

// atRestIn records a cost at rest in a point.
func atRestIn(p *sizing.Point, row costRow) {
	p.CPUAtRest, p.ResidentMiB = map[string]float64{}, map[string]float64{}
	for name, u := range row.usage {
		p.CPUAtRest[name] = u.cpu.Seconds()
		p.ResidentMiB[name] = float64(u.rss) / (1 << 20)
	}
}

// ceilingTable is the benchmark's table: at each size in each mode, each
// component's CPU at rest, resident memory against its limit, and the CPUs
// it kept busy while the fleet grew against its GOMAXPROCS.
func ceilingTable(points []sizing.Point) string {
	limits := componentLimits()
	rows := []string{
		"| mode | instances | grown in | component | CPU at rest, s per minute | resident MiB | resident per instance, KiB | of its memory limit | CPUs busy while growing | of its GOMAXPROCS |",
		"|---|---|---|---|---|---|---|---|---|---|",
	}
	for _, p := range points {
		if p.Broke != "" {
			rows = append(rows, fmt.Sprintf("| %s | %d | broke after %s | — | %s | | | | | |", p.Mode, p.Instances, seconds(p.GrewSeconds), p.Broke))
			continue
		}
		if p.Short != "" {
			rows = append(rows, fmt.Sprintf("| %s | %d | %s | — | stopped short: %s | | | | | |", p.Mode, p.Instances, seconds(p.GrewSeconds), p.Short))
		}
		for _, name := range costComponents {
			l := limits[name]
			perInstance := "—"
			if p.Instances > 0 {
				perInstance = fmt.Sprintf("%.0f", p.ResidentMiB[name]*1024/float64(p.Instances))
			}
			rows = append(rows, fmt.Sprintf("| %s | %d | %s | %s | %.2f | %.0f | %s | %s | %.2f | %s |", p.Mode, p.Instances, seconds(p.GrewSeconds), name,
				p.CPUAtRest[name], p.ResidentMiB[name], perInstance,
				share(p.ResidentMiB[name], l.MemoryMiB), p.GrowthCores[name], share(p.GrowthCores[name], float64(l.Procs))))
		}
	}
	return "\n" + strings.Join(rows, "\n") + "\n"
}

// seconds formats a number of seconds as a duration.
func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// share is used of limit as a percentage, or "no limit".
func share(used, limit float64) string {
	if limit == 0 {
		return "no limit"
	}
	return fmt.Sprintf("%.0f%%", 100*used/limit)
}

// componentLimits reads each measured component's limits from the
// environment the suite started it with.
func componentLimits() map[string]sizing.Limits {
	out := map[string]sizing.Limits{}
	for _, name := range costComponents {
		p := c.ps.find(name)
		if p == nil {
			continue
		}
		var l sizing.Limits
		for _, e := range p.env {
			k, v, _ := strings.Cut(e, "=")
			switch k {
			case "GOMAXPROCS":
				l.Procs, _ = strconv.Atoi(v)
			case "GOMEMLIMIT":
				if b, err := strconv.ParseFloat(v, 64); err == nil {
					l.MemoryMiB = b / (1 << 20)
				}
			}
		}
		out[name] = l
	}
	return out
}
