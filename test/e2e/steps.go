//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// The steps both suites share: what the Data Manager does, and the checks
// of what it gets.

// createParallel is how many creates the Data Manager sends at once.
const createParallel = 16

// domain is the ingress domain the platform configures the function with.
func domain() string {
	return c.setting("INGRESS_DOMAIN")
}

// url is the instance's URL, as the function writes it.
func url(name string) string {
	return "https://" + domain() + "/" + name
}

// ignoreConflict treats an object replaced since it was read (a failed uid
// precondition) as done with.
func ignoreConflict(err error) error {
	if kerrors.IsConflict(err) {
		return nil
	}
	return err
}

// names returns n instance names with a prefix.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// parallel runs f for 0..n-1, createParallel at a time.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, createParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// inEachMode runs f as a subtest of t in each mode, the provider mode first.
func inEachMode(t *testing.T, f func(ctx context.Context, t *testing.T, m mode)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { f(context.Background(), t, m) })
	}
}

// createXR creates a DataVisualisation in a mode as the Data Manager does,
// and returns when the API server answered: the trigger of what follows.
func createXR(ctx context.Context, m mode, name string) (time.Time, error) {
	xr, err := m.dataVisualisation(name, "1.2.0")
	if err != nil {
		return time.Time{}, err
	}
	if err := c.kube.Create(ctx, xr); err != nil {
		return time.Time{}, fmt.Errorf("cannot create %s: %w", name, err)
	}
	return time.Now(), nil
}

// mustGet reads the object that ref names into it, or fails.
func mustGet[T client.Object](ctx context.Context, t *testing.T, ref T) T {
	t.Helper()
	if found, err := c.get(ctx, ref); !found {
		t.Fatalf("cannot get %s: %v", describe(ref, nil), err)
	}
	return ref
}

// waitXR waits until the DataVisualisation satisfies cond, or fails with
// its last status.
func waitXR(ctx context.Context, t *testing.T, name, what string, cond func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
	t.Helper()
	_, last, err := until(ctx, xrRef(name), func(u *unstructured.Unstructured) bool { return u != nil && cond(u) })
	if err != nil {
		if last != nil {
			status, _, _ := unstructured.NestedFieldNoCopy(last.Object, "status")
			t.Fatalf("%s: %s: %v\nlast status: %v", name, what, err, status)
		}
		t.Fatalf("%s: %s: %v", name, what, err)
	}
	return last
}

// hasURL is a condition for a wait: the DataVisualisation has its URL.
func hasURL(name string) func(*unstructured.Unstructured) bool {
	return func(xr *unstructured.Unstructured) bool {
		if xr == nil {
			return false
		}
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "url")
		return got == url(name)
	}
}

// checkConverged checks that an instance has its URL, its Deployment, and
// exactly the mode's three composed resources.
func checkConverged(ctx context.Context, t *testing.T, m mode, name string) {
	t.Helper()
	if _, _, err := until(ctx, xrRef(name), hasURL(name)); err != nil {
		t.Errorf("%s: status.viz.url: %v", name, err)
	}
	if _, _, err := until(ctx, deploymentRef(name), exists); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	var composedErr error
	if _, _, err := until(ctx, xrRef(name), func(xr *unstructured.Unstructured) bool {
		if xr == nil {
			return false
		}
		composedErr = m.checkComposed(ctx, xr)
		return composedErr == nil
	}); err != nil {
		t.Errorf("%v: %v", composedErr, err)
	}
}

// podReadyToReady runs the instances' Pods and times each from its new Pod
// turning Ready to its DataVisualisation turning Ready, both as the suite's
// watches see them.
func podReadyToReady(ctx context.Context, t *testing.T, names []string) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(names))
	parallel(len(names), func(i int) {
		d, err := podReadyToReadyOf(ctx, names[i])
		if err != nil {
			t.Error(err)
		}
		took[i] = d
	})
	if t.Failed() {
		t.FailNow()
	}
	return took
}

func podReadyToReadyOf(ctx context.Context, name string) (time.Duration, error) {
	pods := &corev1.PodList{}
	if err := c.kube.List(ctx, pods, client.InNamespace(dmNamespace), client.MatchingLabels{"deployment": name}); err != nil {
		return 0, err
	}
	readyBefore := map[types.UID]bool{}
	for i := range pods.Items {
		readyBefore[pods.Items[i].UID] = podReady(&pods.Items[i])
	}
	pod := watchForAny(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace}}, labels.Set{"deployment": name},
		func(p *corev1.Pod) bool { return podReady(p) && !readyBefore[p.UID] })
	ready := watchFor(ctx, xrRef(name), xrCondition("Ready", "True"))
	c.kubelet.runPods(name)
	podAt, _, err := pod.wait()
	if err != nil {
		return 0, fmt.Errorf("%s's Pod: %w", name, err)
	}
	readyAt, _, err := ready.wait()
	if err != nil {
		return 0, fmt.Errorf("%s Ready: %w", name, err)
	}
	if readyAt.Before(podAt) {
		return 0, fmt.Errorf("%s was Ready before its new Pod was: %s", name, readiness(ctx, name))
	}
	return readyAt.Sub(podAt), nil
}

// deleteAndAwaitGone deletes a DataVisualisation and returns how long it
// took from the delete until it, its Objects, and its Deployment, Service
// and Ingress were all gone. It waits for the objects last: once no Object is
// left, nothing can make them again.
func deleteAndAwaitGone(ctx context.Context, name string) (time.Duration, error) {
	if err := c.kube.Delete(ctx, xrRef(name)); err != nil {
		return 0, err
	}
	start := time.Now()
	last := start
	awaitGone := func(ref client.Object) error {
		at, _, err := until(ctx, ref, gone)
		if err != nil {
			return fmt.Errorf("%s is not gone: %w", describe(ref, nil), err)
		}
		if at.After(last) {
			last = at
		}
		return nil
	}
	if err := awaitGone(xrRef(name)); err != nil {
		return 0, err
	}
	objects, err := c.objectsOf(ctx, name)
	if err != nil {
		return 0, err
	}
	for _, o := range objects {
		if err := awaitGone(unstructuredOf(gvkObject, dmNamespace, o.GetName())); err != nil {
			return 0, err
		}
	}
	for _, ref := range childRefs(name) {
		if err := awaitGone(ref); err != nil {
			return 0, err
		}
	}
	return last.Sub(start), nil
}

// nothingMadeAgain runs del, which deletes the instances and waits until
// they are gone, and checks that none of their Deployments, Services and
// Ingresses was made again meanwhile (of a uid it did not have before), as
// an Object still there after the garbage collector deleted its object
// would make it. It watches each kind in the namespace once, whatever the
// number of instances.
func nothingMadeAgain(ctx context.Context, t *testing.T, instances []string, del func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fleet := make(map[string]bool, len(instances))
	for _, name := range instances {
		fleet[name] = true
	}
	var watches []*watching[client.Object]
	for _, ref := range childRefs("") {
		had, err := uidsOf(ctx, ref, fleet)
		if err != nil {
			t.Fatal(err)
		}
		watches = append(watches, watchForAny(ctx, ref, nil, func(o client.Object) bool {
			return !isAbsent(o) && fleet[o.GetName()] && !had[o.GetUID()]
		}))
	}
	del()
	cancel()
	for _, w := range watches {
		if _, o, err := w.wait(); err == nil {
			t.Errorf("the %s %s was made again after its DataVisualisation was deleted: uid %s, created %s",
				kindOf(o), o.GetName(), o.GetUID(), o.GetCreationTimestamp().UTC().Format(time.RFC3339))
		}
	}
}

// uidsOf returns the uids of the objects of ref's kind in its namespace
// that have one of the names.
func uidsOf(ctx context.Context, ref client.Object, names map[string]bool) (map[types.UID]bool, error) {
	gvk, err := apiutil.GVKForObject(ref, scheme)
	if err != nil {
		return nil, err
	}
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.kube.List(ctx, l, client.InNamespace(ref.GetNamespace())); err != nil {
		return nil, err
	}
	out := map[types.UID]bool{}
	for _, o := range l.Items {
		if names[o.GetName()] {
			out[o.GetUID()] = true
		}
	}
	return out, nil
}

// deletedChildComesBack deletes one of the instance's objects by hand and
// times it from the delete to its replacement.
func deletedChildComesBack[T client.Object](ctx context.Context, t *testing.T, ref T) time.Duration {
	t.Helper()
	old := mustGet(ctx, t, ref)
	uid := old.GetUID()
	back := watchFor(ctx, ref.DeepCopyObject().(T), func(o T) bool { //nolint:forcetypeassert // A copy of a T.
		return !isAbsent(o) && o.GetUID() != uid
	})
	if err := c.kube.Delete(ctx, old, client.Preconditions{UID: &uid}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	at, _, err := back.wait()
	if err != nil {
		t.Fatal(err)
	}
	return at.Sub(start)
}

// editedDeploymentIsRestored edits the instance's Deployment by hand, as
// someone with access to the namespace might, and times it from the edit to
// its repair. The edit raises the Deployment's generation by one and the
// repair by one more: the watch, begun before the edit, waits for both.
func editedDeploymentIsRestored(ctx context.Context, t *testing.T, name string) time.Duration {
	t.Helper()
	before := mustGet(ctx, t, deploymentRef(name))
	image, generation := vizImage(before), before.Generation
	restored := watchFor(ctx, deploymentRef(name), func(d *appsv1.Deployment) bool {
		return d != nil && d.Generation >= generation+2 &&
			d.Spec.Replicas != nil && *d.Spec.Replicas == 1 && len(d.Spec.Template.Spec.Containers) == 1 && vizImage(d) == image
	})
	patch := client.RawPatch(types.StrategicMergePatchType,
		[]byte(`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"viz","image":"registry.example.org/other:6.6.6"}]}}}}`))
	if err := c.kube.Patch(ctx, deploymentRef(name), patch, client.FieldOwner("someone")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	at, _, err := restored.wait()
	if err != nil {
		t.Fatal(err)
	}
	return at.Sub(start)
}

// manyAtOnce creates n DataVisualisations at once in a mode, as a busy Data
// Manager might, and times each from its create to its Deployment (in the
// provider mode, with Crossplane's part: the first Object), then runs their
// Pods and times each from its Pod Ready to its Ready. Each ends with its
// URL and exactly the mode's three composed resources. The rows are named
// by n, each beside its target in want.
func manyAtOnce(ctx context.Context, t *testing.T, m mode, instances []string, want burstTargets) {
	t.Helper()
	n := len(instances)
	deployments := make([]*watching[*appsv1.Deployment], n)
	objects := make([]*watching[*unstructured.Unstructured], n)
	parallel(n, func(i int) {
		deployments[i] = watchFor(ctx, deploymentRef(instances[i]), exists)
		if m == providerMode {
			objects[i] = watchForAny(ctx, unstructuredOf(gvkObject, dmNamespace, ""), labels.Set{"crossplane.io/composite": instances[i]}, exists)
		}
	})
	before, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created := make([]time.Time, n)
	parallel(n, func(i int) {
		var err error
		if created[i], err = createXR(ctx, m, instances[i]); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	toDeployment, toObject, objectToDeployment := make([]time.Duration, n), make([]time.Duration, n), make([]time.Duration, n)
	for i := range instances {
		at, _, err := deployments[i].wait()
		if err != nil {
			t.Fatal(err)
		}
		toDeployment[i] = at.Sub(created[i])
		if m == providerMode {
			first, _, err := objects[i].wait()
			if err != nil {
				t.Fatal(err)
			}
			toObject[i], objectToDeployment[i] = first.Sub(created[i]), at.Sub(first)
		}
	}
	after, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	costs.add(cost(m, fmt.Sprintf("%d created at once, until each has its Deployment", n), n, before, after, 0))
	if m == providerMode {
		live.add(m, fmt.Sprintf("%d created at once: create → first Object (Crossplane and the function)", n), toObject, 95, 0)
		live.add(m, fmt.Sprintf("%d created at once: first Object → Deployment (provider-kubernetes)", n), objectToDeployment, 95, 0)
	}
	deployed := live.add(m, fmt.Sprintf("%d created at once → each Deployment present", n), toDeployment, 95, want.deployment)
	if err := deployed.check(); want.checked && err != nil {
		t.Error(err)
	}
	// All their Pods turn Ready at once: each DataVisualisation's wait
	// includes the others', queued in Crossplane. Reported.
	live.add(m, fmt.Sprintf("%d Pods Ready at once → each DataVisualisation Ready", n), podReadyToReady(ctx, t, instances), 95, want.ready)
	ready, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	costs.add(cost(m, fmt.Sprintf("%d created at once, until each is Ready", n), n, before, ready, 0))
	for _, name := range instances {
		checkConverged(ctx, t, m, name)
	}
}

// deleteAtOnce deletes DataVisualisations at once and times each from its
// delete to the moment all it composed is gone.
func deleteAtOnce(ctx context.Context, t *testing.T, m mode, instances []string) {
	t.Helper()
	took := make([]time.Duration, len(instances))
	nothingMadeAgain(ctx, t, instances, func() {
		parallel(len(instances), func(i int) {
			var err error
			if took[i], err = deleteAndAwaitGone(ctx, instances[i]); err != nil {
				t.Error(err)
			}
		})
	})
	if t.Failed() {
		t.FailNow()
	}
	if err := live.add(m, fmt.Sprintf("%d deleted at once → each gone", len(instances)), took, 100, m.targets.delete).check(); err != nil {
		t.Error(err)
	}
}

// restartDuringABurst restarts a component, as a rollout or a node drain
// would, while the Data Manager creates instances. Every one converges,
// with exactly the mode's composed resources, and, timed from its Pod
// turning Ready, turns Ready as fast as before the restart: the component
// is event driven again. The instances are deleted after.
func restartDuringABurst(ctx context.Context, t *testing.T, m mode, component string, instances []string, restart func() error) {
	t.Helper()
	parallel(len(instances), func(i int) {
		if i == len(instances)/2 {
			if err := restart(); err != nil {
				t.Errorf("cannot restart %s: %v", component, err)
			}
		}
		for { // Creates fail while the API server restarts; the Data Manager retries.
			_, err := createXR(ctx, m, instances[i])
			if err == nil || kerrors.IsAlreadyExists(err) {
				return
			}
			if ctx.Err() != nil {
				t.Error(err)
				return
			}
			time.Sleep(200 * time.Millisecond) // The Data Manager's retry, not a wait.
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	for _, name := range instances {
		checkConverged(ctx, t, m, name)
	}
	// Their Pods turn Ready one after the other, as Pods do: each is timed
	// from its Pod's Ready to its own.
	toReady := make([]time.Duration, 0, len(instances))
	for _, name := range instances {
		toReady = append(toReady, podReadyToReady(ctx, t, []string{name})...)
	}
	what := fmt.Sprintf("after %s restarted: Pod Ready → DataVisualisation Ready, %d instances in turn", component, len(instances))
	if err := live.add(m, what, toReady, 95, m.targets.ready).check(); err != nil {
		t.Error(err)
	}
	for _, name := range instances {
		if _, err := deleteAndAwaitGone(ctx, name); err != nil {
			t.Error(err)
		}
	}
}

// restarts are the components restartDuringABurst restarts, and how.
func restarts(ctx context.Context) []struct {
	component string
	restart   func() error
} {
	return []struct {
		component string
		restart   func() error
	}{
		{"provider-kubernetes", func() error { c.provider.stop(); return c.runProvider(ctx, c.cfg.providerTool) }},
		{"crossplane", func() error { c.crossplane.stop(); return c.runCrossplane() }},
		{"kube-apiserver", func() error { c.apiserver.stop(); return c.runAPIServer(ctx) }},
	}
}
