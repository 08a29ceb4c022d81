//go:build e2e && !load

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// startTarget is how soon a DataVisualisation says why it has not started
// once its Pod, claim or Deployment reports the cause, and how soon it is
// Ready once the cause goes away (docs/behaviour.md).
const startTarget = 2 * time.Second

// waiting is a container status of the viz container that waits for reason.
func waiting(reason, message string, last *corev1.ContainerStateTerminated) podFailure {
	return podFailure{scheduled: true, status: corev1.PodStatus{
		Phase:      corev1.PodPending,
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "viz", Image: "ghcr.io/informaticsmatters/squonk2-viz-app:1.2.0",
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}},
			LastTerminationState: corev1.ContainerState{Terminated: last},
		}},
	}}
}

// TestSaysWhyItHasNotStarted plays, in each mode, each way a Pod fails to
// start (the kubelet's container waiting reasons, the scheduler's
// Unschedulable) and a claim that does not exist: the DataVisualisation's
// Started condition and a Warning Event name the reason within 2 s of the
// Pod reporting it, and the instance is Ready within 2 s of the cause going
// away, with no one touching it.
func TestSaysWhyItHasNotStarted(t *testing.T) {
	failures := map[string]podFailure{
		"ErrImagePull":               waiting("ErrImagePull", `rpc error: code = NotFound desc = ghcr.io/informaticsmatters/squonk2-viz-app:1.2.0: not found`, nil),
		"ImagePullBackOff":           waiting("ImagePullBackOff", `Back-off pulling image "ghcr.io/informaticsmatters/squonk2-viz-app:1.2.0"`, nil),
		"CrashLoopBackOff":           waiting("CrashLoopBackOff", "back-off 10s restarting failed container=viz", &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}),
		"CreateContainerConfigError": waiting("CreateContainerConfigError", `secret "svo-config" not found`, nil),
		"Unschedulable": {status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
		}}}},
	}
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		for reason, failure := range failures {
			t.Run(reason, func(t *testing.T) {
				name := m.instance("fails-" + strings.ToLower(reason))
				c.kubelet.failPods(name, failure)
				reported := watchForAny(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace}}, labels.Set{"deployment": name},
					func(p *corev1.Pod) bool { return p != nil && podReports(p, reason) })
				said, event := saysWhy(ctx, name, reason)
				xr, err := m.dataVisualisation(name, "1.2.0")
				if err != nil {
					t.Fatal(err)
				}
				checkStart(ctx, t, m, name, reason, xr, reported, said, event, func() (time.Time, error) {
					return time.Now(), nil
				}, func() { c.kubelet.runPods(name) })
			})
		}
		t.Run("ClaimNotFound", func(t *testing.T) {
			name := m.instance("fails-claimnotfound")
			claim := "claim-" + name
			xr, err := m.dataVisualisation(name, "1.2.0")
			if err != nil {
				t.Fatal(err)
			}
			if err := unstructured.SetNestedField(xr.Object, claim, "spec", "imDataManager", "project", "claimName"); err != nil {
				t.Fatal(err)
			}
			// A real kubelet waits to mount the claim; the suite's waits to be
			// told to run the Pod. The cause is reported when the Pod exists.
			reported := watchForAny(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace}}, labels.Set{"deployment": name}, exists)
			said, event := saysWhy(ctx, name, "ClaimNotFound")
			checkStart(ctx, t, m, name, "ClaimNotFound", xr, reported, said, event, func() (time.Time, error) {
				objs, err := readTemplate("platform/claim.yaml", nil)
				if err != nil {
					return time.Time{}, err
				}
				objs[0].SetName(claim)
				err = c.kube.Create(ctx, objs[0])
				t.Cleanup(func() { _ = c.kube.Delete(ctx, objs[0]) })
				return time.Now(), err
			}, func() { c.kubelet.runPods(name) })
		})
	})
}

// saysWhy watches for the DataVisualisation's Started condition, and a
// Warning Event on it, to name the reason.
func saysWhy(ctx context.Context, name, reason string) (*watching[*unstructured.Unstructured], *watching[*corev1.Event]) {
	said := watchFor(ctx, xrRef(name), func(u *unstructured.Unstructured) bool {
		if u == nil {
			return false
		}
		status, got, _ := condition(u, "Started")
		return status == "False" && got == reason
	})
	event := watchForAny(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace}}, nil, func(e *corev1.Event) bool {
		return e != nil && e.Type == corev1.EventTypeWarning && e.InvolvedObject.Name == name && strings.Contains(e.Message, reason)
	})
	return said, event
}

// checkStart creates the DataVisualisation, times its Started condition and
// Event from the moment the cause is reported, then removes the cause (fix)
// and has the kubelet run the Pod (run), and times Ready from the cause
// going away. It deletes the DataVisualisation at the end.
func checkStart(ctx context.Context, t *testing.T, m mode, name, reason string, xr *unstructured.Unstructured,
	reported *watching[*corev1.Pod], said *watching[*unstructured.Unstructured], event *watching[*corev1.Event],
	fix func() (time.Time, error), run func(),
) {
	t.Helper()
	if err := c.kube.Create(ctx, xr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := deleteAndAwaitGone(ctx, name); err != nil {
			t.Error(err)
		}
	})
	reportedAt, _, err := reported.wait()
	if err != nil {
		t.Fatalf("the Pod never reported %s: %v", reason, err)
	}
	saidAt, got, err := said.wait()
	if err != nil {
		t.Fatalf("the DataVisualisation never said %s: %v", reason, err)
	}
	eventAt, _, err := event.wait()
	if err != nil {
		t.Fatalf("no Warning Event named %s: %v", reason, err)
	}
	_, _, msg := condition(got, "Started")
	t.Logf("%s: Started=False, %s: %s", name, reason, msg)
	for what, at := range map[string]time.Time{"Started=False": saidAt, "a Warning Event": eventAt} {
		if err := live.one(m, fmt.Sprintf("%s reported → %s names it", reason, what), nonNegative(at.Sub(reportedAt)), startTarget).check(); err != nil {
			t.Error(err)
		}
	}
	ready := watchFor(ctx, xrRef(name), xrCondition("Ready", "True"))
	fixedAt, err := fix()
	if err != nil {
		t.Fatal(err)
	}
	run()
	readyAt, _, err := ready.wait()
	if err != nil {
		t.Fatalf("never Ready once the cause went: %v", err)
	}
	if err := live.one(m, reason+" gone → Ready", readyAt.Sub(fixedAt), startTarget).check(); err != nil {
		t.Error(err)
	}
}

// podReports reports whether a Pod's status carries the reason, as a
// container waiting reason or a scheduling condition's.
func podReports(p *corev1.Pod, reason string) bool {
	for _, c := range p.Status.Conditions {
		if c.Reason == reason {
			return true
		}
	}
	for i := range p.Status.ContainerStatuses {
		if w := p.Status.ContainerStatuses[i].State.Waiting; w != nil && w.Reason == reason {
			return true
		}
	}
	return false
}

// nonNegative is d, or 0: two watches see one change in either order.
func nonNegative(d time.Duration) time.Duration {
	return max(d, 0)
}
