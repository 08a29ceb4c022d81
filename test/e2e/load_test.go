//go:build e2e && load

package e2e

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The load benchmark's parameters: `make e2e-load` passes them.
var (
	burstSizes   = flag.String("sizes", "50,200", "the sizes of the bursts, comma-separated: each is created at once, measured at rest, deleted at once")
	restWindow   = flag.Duration("rest", 60*time.Second, "how long the cost at rest is measured after each burst")
	restartBurst = flag.Int("restart-burst", 20, "how many instances are created during each restart")
	unrelated    = flag.Int("unrelated-pods", 2000, "how many Pods that are no instance's run beside one instance, to measure what watching Pods costs")
)

// sizes parses a comma-separated flag of positive sizes, named name.
func sizes(t *testing.T, name, value string) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Split(value, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("-%s: %q is not a positive number", name, f)
		}
		out = append(out, n)
	}
	return out
}

// TestLoadBursts creates each burst at once, in each mode, as a busy Data
// Manager might: each instance is timed from its create to its Deployment,
// then from its Pod turning Ready to its own Ready, while all its peers'
// do the same; then, with all of them Ready, it measures what each
// component costs at rest, and deletes them at once. Every instance must
// converge, with exactly its mode's composed resources, and leave nothing
// behind; how long it takes is reported beside the mode's targets.
func TestLoadBursts(t *testing.T) {
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		empty := emptyAtRest(ctx, t, m)
		for _, n := range sizes(t, "sizes", *burstSizes) {
			instances := names(m.instance(fmt.Sprintf("load%d", n)), n)
			t.Run(fmt.Sprintf("%dAtOnce", n), func(t *testing.T) {
				defer timed(fmt.Sprintf("%s mode: %d created at once, at rest, deleted at once", m.name, n))()
				manyAtOnce(ctx, t, m, instances, m.targets.burst(n))
				costs.add(atRest(ctx, t, m, n, empty))
				deleteAtOnce(ctx, t, m, instances)
				if err := c.kubelet.check(); err != nil {
					t.Error(err)
				}
			})
		}
	})
}

// TestLoadRestarts restarts provider-kubernetes, Crossplane and
// kube-apiserver, each during a burst of -restart-burst creates, in each
// mode, and reports the percentiles of Pod Ready -> Ready after each.
func TestLoadRestarts(t *testing.T) {
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		for _, r := range restarts(ctx) {
			t.Run("RestartOf-"+r.component, func(t *testing.T) {
				defer timed(fmt.Sprintf("%s mode: %s restarted during a burst of %d creates", m.name, r.component, *restartBurst))()
				restartDuringABurst(ctx, t, m, r.component, names(m.instance("restart-"+r.component), *restartBurst), r.restart)
			})
		}
	})
}

// TestLoadUnrelatedPods measures what Crossplane pays for watching Pods,
// which it does because the function requires each instance's Pods (to say
// why one has not started): with one instance Ready in each mode, each
// component's cost at rest, then again with -unrelated-pods Pods of
// another namespace, which Crossplane's cluster-wide Pod informer holds too.
// Before the function required Pods, Crossplane watched none, so the
// difference in its resident memory is the cost of the watch.
func TestLoadUnrelatedPods(t *testing.T) {
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		name := m.instance("beside-unrelated")
		manyAtOnce(ctx, t, m, []string{name}, burstTargets{})
		costs.add(atRest(ctx, t, m, 1, nil))
		pods := make([]*unstructured.Unstructured, *unrelated)
		parallel(len(pods), func(i int) {
			objs, err := readTemplate("load/unrelated-pod.yaml", map[string]string{"NAME": fmt.Sprintf("%s-%04d", name, i), "NAMESPACE": otherNamespace})
			if err == nil {
				err = c.kube.Create(ctx, objs[0])
			}
			if err != nil {
				t.Error(err)
			}
			pods[i] = objs[0]
		})
		if t.Failed() {
			t.FailNow()
		}
		costs.add(costAtRest(ctx, t, m, fmt.Sprintf("1 Ready, %d unrelated Pods", *unrelated), 1))
		if err := c.kube.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(otherNamespace), client.MatchingLabels{"app": "unrelated"}, client.GracePeriodSeconds(0)); err != nil {
			t.Error(err)
		}
		deleteAtOnce(ctx, t, m, []string{name})
	})
}

// emptyAtRest measures what each component costs over -rest with no
// instance: the control plane's own cost, which an instance's cost at rest
// is measured above.
func emptyAtRest(ctx context.Context, t *testing.T, m mode) *costRow {
	t.Helper()
	row := costAtRest(ctx, t, m, fmt.Sprintf("no instance, at rest for %s", *restWindow), 0)
	costs.add(row)
	return &row
}

// atRest measures, with n instances Ready and nothing happening, what each
// component costs over -rest: CPU time and resident memory, in all and per
// instance (and above the empty control plane, when given), and the
// counters per instance per minute.
func atRest(ctx context.Context, t *testing.T, m mode, n int, empty *costRow) costRow {
	t.Helper()
	row := costAtRest(ctx, t, m, fmt.Sprintf("%d Ready, at rest for %s", n, *restWindow), n)
	row.empty = empty
	return row
}

// costAtRest is what each component costs over -rest, for n instances.
func costAtRest(ctx context.Context, t *testing.T, m mode, what string, n int) costRow {
	t.Helper()
	before, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select { // The measurement's window: nothing is waited for.
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(*restWindow):
	}
	after, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cost(m, what, n, before, after, time.Minute)
}

// burst is the targets of a burst of n created at once.
func (t targets) burst(n int) burstTargets {
	switch n {
	case 50:
		return burstTargets{deployment: t.burst50, ready: t.podsReady50, checked: true}
	case 200:
		return burstTargets{deployment: t.burst200}
	}
	return burstTargets{}
}
