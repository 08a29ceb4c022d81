//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// contractBurst is how many instances the contract's bursts create at once:
// enough to run the burst code paths and check that none is lost or
// duplicated; how long bursts take is the load benchmark's business.
const contractBurst = 10

// TestDataManager replays the Data Manager's actions on one instance, in
// order, then on a few at once, in each mode: each step builds on the one
// before. Each live step is timed from the event that triggers it, and the
// timings go to the table the suite prints, the modes side by side.
func TestDataManager(t *testing.T) {
	ctx := context.Background()
	for _, m := range modes {
		if !t.Run(m.name, func(t *testing.T) { dataManagerSteps(ctx, t, m) }) {
			t.FailNow()
		}
	}
}

func dataManagerSteps(ctx context.Context, t *testing.T, m mode) {
	name := m.instance("instance-3af1f24e")
	burst := names(m.instance("burst"), contractBurst)
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"1-CreateComposesTheInstance", func(t *testing.T) { createComposesTheInstance(ctx, t, m, name) }},
		{"2-ReadyOnlyWhenItsPodRuns", func(t *testing.T) { readyOnlyWhenItsPodRuns(ctx, t, m, name) }},
		{"3-ImageTagChangeRollsOut", func(t *testing.T) { imageTagChangeRollsOut(ctx, t, m, name) }},
		{"4a-MissingImageTagIsRejectedByTheAPIServer", func(t *testing.T) { missingImageTagIsRejected(ctx, t, m) }},
		{"4b-BadLabelIsRefusedByTheAPIServer", func(t *testing.T) { badLabelIsRefused(ctx, t, m) }},
		{"5-SomeAtOnce", func(t *testing.T) { manyAtOnce(ctx, t, m, burst, burstTargets{}) }},
		{"6-HandChangesAreUndone", func(t *testing.T) { handChangesAreUndone(ctx, t, m, name) }},
		{"7-DeleteRemovesEverything", func(t *testing.T) { deleteRemovesEverything(ctx, t, m, name) }},
		{"8-SomeDeletedAtOnce", func(t *testing.T) { deleteAtOnce(ctx, t, m, burst) }},
		{"9-YoungDeploymentDeleted", func(t *testing.T) { youngDeploymentDeleted(ctx, t, m) }},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			defer timed(m.name + " mode: step " + s.name)()
			s.run(t)
		})
		if err := c.kubelet.check(); err != nil {
			t.Error(err)
		}
		if !ok {
			t.Fatalf("step %s failed; the steps after it depend on it (logs in %s)", s.name, c.path("logs"))
		}
	}
}

func createComposesTheInstance(ctx context.Context, t *testing.T, m mode, name string) {
	crd := mustGet(ctx, t, &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "datavisualisations.squonk.it"}})
	want := map[string]string{
		"data-manager.informaticsmatters.com/application":              "yes",
		"data-manager.informaticsmatters.com/application-namespaces":   "im-data-manager",
		"data-manager.informaticsmatters.com/application-url-location": "viz.url",
	}
	for k, v := range want {
		if got := crd.Annotations[k]; got != v {
			t.Errorf("CRD annotation %s: want %q, got %q", k, v, got)
		}
	}

	deployment := watchFor(ctx, deploymentRef(name), exists)
	created, err := createXR(ctx, m, name)
	if err != nil {
		t.Fatal(err)
	}
	at, d, err := deployment.wait()
	if err != nil {
		t.Fatal(err)
	}
	live.one(m, "create → Deployment present", at.Sub(created), 0)
	values := map[string]string{"NAME": name, "DOMAIN": domain(), "SECRET": c.setting("INGRESS_TLS_SECRET")}
	if err := checkSubset("datamanager/want-deployment.yaml", values, d); err != nil {
		t.Error(err)
	}
	_, svc, err := until(ctx, serviceRef(name), exists)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSubset("datamanager/want-service.yaml", values, svc); err != nil {
		t.Error(err)
	}
	_, i, err := until(ctx, ingressRef(name), exists)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSubset("datamanager/want-ingress.yaml", values, i); err != nil {
		t.Error(err)
	}
	if issuer, ok := i.Annotations["cert-manager.io/cluster-issuer"]; ok {
		t.Errorf("the Ingress asks cert-manager for a certificate of its own (%s)", issuer)
	}
	waitXR(ctx, t, name, "status.viz.url = "+url(name), hasURL(name))
	checkConverged(ctx, t, m, name)
}

func readyOnlyWhenItsPodRuns(ctx context.Context, t *testing.T, m mode, name string) {
	// Once the function has seen the Service and the Ingress ready, and the
	// Deployment (or its Object) created, all that is left is the
	// Deployment: without a running Pod the instance must not be Ready.
	xr := waitXR(ctx, t, name, "ResourcesReady says "+m.waiting(), func(xr *unstructured.Unstructured) bool {
		_, _, msg := condition(xr, "ResourcesReady")
		return msg == m.waiting()
	})
	if status, reason, msg := condition(xr, "Ready"); status == "True" {
		t.Fatalf("the DataVisualisation is Ready before its Pod runs (%s: %s)", reason, msg)
	}
	timePodReadyToReady(ctx, t, m, name, "Pod Ready → DataVisualisation Ready")
}

// timePodReadyToReady runs the instance's Pods and times it from its Pod
// turning Ready to the DataVisualisation turning Ready.
func timePodReadyToReady(ctx context.Context, t *testing.T, m mode, name, what string) {
	t.Helper()
	if err := live.one(m, what, podReadyToReady(ctx, t, []string{name})[0], m.targets.ready).check(); err != nil {
		t.Error(err)
	}
}

// imageTagChangeRollsOut changes the image tag: the Deployment follows, the
// instance is not Ready on its old Pod, and is Ready again once the new Pod
// runs.
func imageTagChangeRollsOut(ctx context.Context, t *testing.T, m mode, name string) {
	const image = "ghcr.io/informaticsmatters/squonk2-viz-app:1.3.0"
	c.kubelet.holdPods(name) // The new Pod waits, as for its image to be pulled.
	xr, err := m.dataVisualisation(name, "1.3.0")
	if err != nil {
		t.Fatal(err)
	}
	rolled := watchFor(ctx, deploymentRef(name), func(d *appsv1.Deployment) bool { return d != nil && vizImage(d) == image })
	if err := c.apply(ctx, xr); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	at, _, err := rolled.wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := live.one(m, "imageTag changed → Deployment updated", at.Sub(changed), m.targets.rollout).check(); err != nil {
		t.Error(err)
	}
	if _, _, err := until(ctx, xrRef(name), xrCondition("Ready", "False")); err != nil {
		t.Fatalf("the DataVisualisation stays Ready on its old Pod: %v", err)
	}
	xr = waitXR(ctx, t, name, "status.viz.image = "+image, func(xr *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "image")
		return got == image
	})
	if status, _, _ := condition(xr, "Ready"); status == "True" {
		t.Fatalf("the DataVisualisation is Ready before its new Pod runs: %s", readiness(ctx, name))
	}
	timePodReadyToReady(ctx, t, m, name, "imageTag changed: new Pod Ready → DataVisualisation Ready")
}

// handChangesAreUndone deletes each of the instance's objects by hand, and
// edits its Deployment, and times each from the change to its repair. The
// instance is by now older than provider-kubernetes' creation grace period
// (youngDeploymentDeleted).
func handChangesAreUndone(ctx context.Context, t *testing.T, m mode, name string) {
	if m == providerMode {
		pastCreationGracePeriod(ctx, t, name)
	}
	for _, ref := range childRefs(name) {
		took := deletedChildComesBack(ctx, t, ref)
		if err := live.one(m, kindOf(ref)+" deleted by hand → back", took, m.targets.repair).check(); err != nil {
			t.Error(err)
		}
	}
	took := editedDeploymentIsRestored(ctx, t, name)
	if err := live.one(m, "Deployment edited by hand (replicas 3, another image) → restored", took, m.targets.repair).check(); err != nil {
		t.Error(err)
	}
}

// creationGracePeriod is how long provider-kubernetes takes an object it
// created and cannot find for one that is still being made
// (crossplane-runtime's managed reconciler): a repair within it waits for it
// to pass, as youngDeploymentDeleted shows.
const creationGracePeriod = 30 * time.Second

// pastCreationGracePeriod waits until the creation grace period of each of
// the instance's Objects has passed, reading when the provider created the
// object from the Object's crossplane.io/external-create-succeeded
// annotation: a wait for a known moment, before the steps it would distort.
func pastCreationGracePeriod(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	objects, err := c.objectsOf(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var latest time.Time
	for _, o := range objects {
		at, err := time.Parse(time.RFC3339, o.GetAnnotations()["crossplane.io/external-create-succeeded"])
		if err != nil {
			t.Fatalf("Object %s: crossplane.io/external-create-succeeded: %v", o.GetName(), err)
		}
		if at.After(latest) {
			latest = at
		}
	}
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(time.Until(latest.Add(creationGracePeriod + time.Second))):
	}
}

// youngDeploymentDeleted deletes a Deployment within seconds of its creation.
// provider-kubernetes trusts that an object it created is gone only after a
// grace period (crossplane-runtime's managed reconciler, 30 s), so in the
// provider mode it comes back only then; in the direct mode Crossplane puts
// it back at once. Measured and reported.
func youngDeploymentDeleted(ctx context.Context, t *testing.T, m mode) {
	name := m.instance("young-instance")
	if _, err := createXR(ctx, m, name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := until(ctx, deploymentRef(name), exists); err != nil {
		t.Fatal(err)
	}
	took := deletedChildComesBack(ctx, t, deploymentRef(name))
	live.one(m, "Deployment deleted by hand within seconds of its creation → back (provider mode: the provider's 30 s creation grace period)", took, 0)
	if _, err := deleteAndAwaitGone(ctx, name); err != nil {
		t.Fatal(err)
	}
}

func missingImageTagIsRejected(ctx context.Context, t *testing.T, m mode) {
	xr, err := m.dataVisualisation(m.instance("instance-no-tag"), "")
	if err != nil {
		t.Fatal(err)
	}
	unstructured.RemoveNestedField(xr.Object, "spec", "imDataManager", "imageTag")
	err = c.kube.Create(ctx, xr)
	if err == nil {
		t.Fatal("the API server accepted a DataVisualisation without imageTag")
	}
	if !strings.Contains(err.Error(), "spec.imDataManager.imageTag") || !strings.Contains(err.Error(), "Required") {
		t.Errorf("want the API server to say spec.imDataManager.imageTag is required, got: %v", err)
	}
}

// badLabelIsRefused creates a DataVisualisation with a label that is not
// key=value: the API server refuses it at create, naming the field, so the
// Data Manager hears "no" at once instead of waiting for a URL.
func badLabelIsRefused(ctx context.Context, t *testing.T, m mode) {
	xr, err := m.dataVisualisation(m.instance("instance-bad-label"), "1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	labels, _, _ := unstructured.NestedStringSlice(xr.Object, "spec", "imDataManager", "labels")
	labels[2] = "owner"
	if err := unstructured.SetNestedStringSlice(xr.Object, labels, "spec", "imDataManager", "labels"); err != nil {
		t.Fatal(err)
	}
	err = c.kube.Create(ctx, xr)
	if err == nil {
		t.Fatal("the API server accepted a DataVisualisation with the label \"owner\"")
	}
	if !strings.Contains(err.Error(), "spec.imDataManager.labels[2]") || !strings.Contains(err.Error(), "must be key=value") {
		t.Errorf("want the API server to say spec.imDataManager.labels[2] must be key=value, got: %v", err)
	}
}

// deleteRemovesEverything deletes the instance and times it until nothing
// of it is left. In the provider mode each object names its Object as an
// owner, so that the garbage collector deletes the Object first: none is
// made again.
func deleteRemovesEverything(ctx context.Context, t *testing.T, m mode, name string) {
	if m == providerMode {
		objectsOwnTheirObjects(ctx, t, name)
	}
	var took time.Duration
	nothingMadeAgain(ctx, t, []string{name}, func() {
		var err error
		if took, err = deleteAndAwaitGone(ctx, name); err != nil {
			t.Fatal(err)
		}
	})
	if err := live.one(m, "DataVisualisation deleted → its Objects, Deployment, Service and Ingress gone", took, m.targets.delete).check(); err != nil {
		t.Error(err)
	}
}

// objectsOwnTheirObjects checks that each of the instance's objects names,
// beside the DataVisualisation, the Object that applies it as an owner.
func objectsOwnTheirObjects(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	objects, err := c.objectsOf(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]types.UID{} // By the kind of the object an Object applies.
	for _, o := range objects {
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "forProvider", "manifest", "kind")
		owners[kind] = o.GetUID()
	}
	for _, ref := range childRefs(name) {
		child := mustGet(ctx, t, ref)
		want, ok := owners[kindOf(ref)]
		if !ok {
			t.Errorf("no Object applies the %s %s", kindOf(ref), name)
			continue
		}
		if !slices.ContainsFunc(child.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.Kind == "Object" && r.UID == want }) {
			t.Errorf("the %s %s does not name its Object (uid %s) as an owner: %v", kindOf(ref), name, want, child.GetOwnerReferences())
		}
	}
}
