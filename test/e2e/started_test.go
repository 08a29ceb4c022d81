//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
// Unschedulable), a claim that does not exist, a quota that admits no Pod
// (the Deployment's ReplicaFailure) and a start deadline that passes (a
// Composition whose Input sets one of seconds): the DataVisualisation's
// Started condition and a Warning Event name the reason within 2 s of the
// Pod, claim or Deployment reporting it, and the instance is Ready within
// 2 s of the cause going away, with no one touching it.
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
				checkStart(ctx, t, m, name, reason, xr, at(reported), said, event, func() (time.Time, error) {
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
			checkStart(ctx, t, m, name, "ClaimNotFound", xr, at(reported), said, event, func() (time.Time, error) {
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
		t.Run("ReplicaFailure", func(t *testing.T) {
			name := m.instance("fails-replicafailure")
			// A quota that admits no Pod: the ReplicaSet cannot make one.
			quota := &corev1.ResourceQuota{
				ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace, Name: "e2e-no-pods"},
				Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}},
			}
			if err := c.kube.Create(ctx, quota); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.kube.Delete(ctx, quota) })
			if _, _, err := until(ctx, quota.DeepCopy(), func(q *corev1.ResourceQuota) bool { _, counted := q.Status.Used[corev1.ResourcePods]; return counted }); err != nil {
				t.Fatal(err)
			}
			xr, err := m.dataVisualisation(name, "1.2.0")
			if err != nil {
				t.Fatal(err)
			}
			reported := watchFor(ctx, deploymentRef(name), func(d *appsv1.Deployment) bool { return deploymentHas(d, appsv1.DeploymentReplicaFailure, "True", "") })
			said, event := saysWhy(ctx, name, "ReplicaFailure")
			checkStart(ctx, t, m, name, "ReplicaFailure", xr, at(reported), said, event, func() (time.Time, error) {
				return time.Now(), c.kube.Delete(ctx, quota)
			}, func() { c.kubelet.runPods(name) })
		})
		t.Run("StartDeadlineExceeded", func(t *testing.T) {
			name := m.instance("fails-startdeadline")
			// A Composition whose Input sets a start deadline of seconds: the
			// kit's is ten minutes.
			comps, err := readTemplate("started/deadline-composition.yaml", map[string]string{"NAME": name, "MODE": map[mode]string{providerMode: "Provider", directMode: "Direct"}[m], "DEADLINE": "5s"})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.apply(ctx, comps...); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.kube.Delete(ctx, comps[0]) })
			xr, err := m.dataVisualisation(name, "1.2.0")
			if err != nil {
				t.Fatal(err)
			}
			unstructured.RemoveNestedField(xr.Object, "spec", "crossplane")
			if err := unstructured.SetNestedField(xr.Object, name, "spec", "crossplane", "compositionSelector", "matchLabels", "start-deadline"); err != nil {
				t.Fatal(err)
			}
			// The Pod waits, as for a slow image pull, past the deadline.
			reported := watchFor(ctx, deploymentRef(name), func(d *appsv1.Deployment) bool {
				return deploymentHas(d, appsv1.DeploymentProgressing, "False", "ProgressDeadlineExceeded")
			})
			said, event := saysWhy(ctx, name, "StartDeadlineExceeded")
			checkStart(ctx, t, m, name, "StartDeadlineExceeded", xr, at(reported), said, event, func() (time.Time, error) {
				return time.Now(), nil
			}, func() { c.kubelet.runPods(name) })
		})
	})
}

// at is when a watch saw what it waited for.
func at[T client.Object](w *watching[T]) func() (time.Time, error) {
	return func() (time.Time, error) {
		when, _, err := w.wait()
		return when, err
	}
}

// deploymentHas reports whether a Deployment has a condition of the type
// and status (and reason, unless empty).
func deploymentHas(d *appsv1.Deployment, typ appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason string) bool {
	if d == nil {
		return false
	}
	for _, c := range d.Status.Conditions {
		if c.Type == typ && c.Status == status && (reason == "" || c.Reason == reason) {
			return true
		}
	}
	return false
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
	reported func() (time.Time, error), said *watching[*unstructured.Unstructured], event *watching[*corev1.Event],
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
	reportedAt, err := reported()
	if err != nil {
		t.Fatalf("the cluster never reported %s: %v", reason, err)
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
