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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The load benchmark's parameters: `make e2e-load` passes them.
var (
	burstSizes   = flag.String("sizes", "50,200", "the sizes of the bursts, comma-separated: each is created at once, measured at rest, deleted at once")
	restWindow   = flag.Duration("rest", 60*time.Second, "how long the cost at rest is measured after each burst")
	restartBurst = flag.Int("restart-burst", 20, "how many instances are created during each restart")
	unrelated    = flag.Int("unrelated-pods", 2000, "how many Pods that are no instance's run beside one instance, to measure what watching Pods costs")
	quietFor     = flag.Duration("quiet", 10*time.Second, "how long no Event is written in the Data Manager namespace before a fleet's cost at rest is measured")
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
//
// It first waits until no Event has been written in any namespace for
// -quiet, so that the window holds neither the set-up's package installs
// nor the garbage collector's tail after an earlier fleet was deleted.
func emptyAtRest(ctx context.Context, t *testing.T, m mode) *costRow {
	t.Helper()
	what := untilQuietIn(ctx, t, m, "no instance", metav1.NamespaceAll)
	row := costAtRest(ctx, t, m, fmt.Sprintf("%s, at rest for %s", what, *restWindow), 0)
	costs.add(row)
	return &row
}

// atRest measures, with n instances Ready and nothing happening, what each
// component costs over -rest: CPU time and resident memory, in all and per
// instance (and above the empty control plane, when given), and the
// counters per instance per minute.
//
// It first waits until the fleet is quiet, so that the window holds the
// fleet at rest and not the tail of its arrival: the Events recorded while
// it turned Ready reach the API server behind it, for a minute and more
// after a batch of 100.
func atRest(ctx context.Context, t *testing.T, m mode, n int, empty *costRow) costRow {
	t.Helper()
	what := untilQuietIn(ctx, t, m, fmt.Sprintf("%d Ready", n), dmNamespace)
	row := costAtRest(ctx, t, m, fmt.Sprintf("%s, at rest for %s", what, *restWindow), n)
	row.empty = empty
	return row
}

// untilQuietIn waits, timed, until no Event has been written in namespace
// (every namespace, if it is empty) for -quiet, and returns what is being
// measured, marked if it never was quiet: it is then measured anyway.
func untilQuietIn(ctx context.Context, t *testing.T, m mode, what, namespace string) string {
	t.Helper()
	where := "in " + namespace
	if namespace == metav1.NamespaceAll {
		where = "in any namespace"
	}
	defer timed(fmt.Sprintf("%s mode: %s, until no Event %s for %s", m.name, what, where, *quietFor))()
	if err := untilQuiet(ctx, namespace, *quietFor); err != nil {
		t.Logf("%s mode: %s: measured at rest anyway: %v", m.name, what, err)
		return what + ", never quiet"
	}
	return what
}

// untilQuiet waits, within -await-timeout, until no Event has been written
// in namespace for quiet: a watch from the Events' current resource
// version, each of whose events starts the quiet again.
func untilQuiet(ctx context.Context, namespace string, quiet time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, *awaitTimeout)
	defer cancel()
	lw, err := c.listWatch(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: namespace}}, nil)
	if err != nil {
		return err
	}
	events := cache.ToListerWatcherWithContext(lw)
	l, err := events.ListWithContext(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return err
	}
	rv, err := meta.NewAccessor().ResourceVersion(l)
	if err != nil {
		return err
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, rv, events)
	if err != nil {
		return err
	}
	defer w.Stop()
	quietAt := time.NewTimer(quiet)
	defer quietAt.Stop()
	for {
		select {
		case <-quietAt.C:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("an Event written at least every %s for %s: %w", quiet, *awaitTimeout, ctx.Err())
		case e, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("the watch of Events ended: %w", ctx.Err())
			}
			if e.Type == watch.Error {
				return fmt.Errorf("watching Events: %v", e.Object)
			}
			quietAt.Reset(quiet)
		}
	}
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
