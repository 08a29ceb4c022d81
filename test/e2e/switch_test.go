//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestChangingTheComposition moves a running instance from the provider
// mode's Composition to the direct mode's and back, as docs/behaviour.md
// says it may be: each time the instance ends with exactly the new mode's
// composed resources, one Deployment, Service and Ingress, and Ready again.
// From the provider mode to the direct mode the objects are kept (the Pod
// is not restarted); back, Crossplane deletes the objects it composed and
// the provider makes them again. It runs last (its file sorts last): the move
// back sends Crossplane so many events for the instance that Crossplane's
// per-XR circuit breaker opens for it, and slows what follows.
func TestChangingTheComposition(t *testing.T) {
	ctx := context.Background()
	const name = "changes-mode"
	if _, err := createXR(ctx, providerMode, name); err != nil {
		t.Fatal(err)
	}
	checkConverged(ctx, t, providerMode, name)
	podReadyToReady(ctx, t, []string{name})

	before := mustGet(ctx, t, deploymentRef(name))
	took := changeComposition(ctx, t, name, directMode)
	live.one(directMode, "Composition changed from the provider mode's → the direct mode's resources only, Ready", took, 0)
	if after := mustGet(ctx, t, deploymentRef(name)); after.GetUID() != before.GetUID() {
		t.Errorf("the Deployment was replaced (uid %s, was %s): want it kept", after.GetUID(), before.GetUID())
	}

	took = changeComposition(ctx, t, name, providerMode)
	live.one(providerMode, "Composition changed from the direct mode's → the provider mode's resources only, Ready", took, 0)

	if _, err := deleteAndAwaitGone(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// changeComposition points a DataVisualisation at a mode's Composition and
// returns how long it took, from the change, until it composes exactly that
// mode's resources, its Deployment, Service and Ingress exist, and it is
// Ready, running the instance's Pods when its Deployment was made again.
func changeComposition(ctx context.Context, t *testing.T, name string, m mode) time.Duration {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"crossplane":{"compositionRef":{"name":%q}}}}`, m.composition)
	if err := c.kube.Patch(ctx, xrRef(name), client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	checkConverged(ctx, t, m, name)
	for _, ref := range childRefs(name) {
		if _, _, err := until(ctx, ref, exists); err != nil {
			t.Fatal(err)
		}
	}
	c.kubelet.runPods(name) // A Deployment made again has a new Pod.
	at, _, err := until(ctx, xrRef(name), func(xr *unstructured.Unstructured) bool {
		return xrCondition("Ready", "True")(xr) && m.checkComposed(ctx, xr) == nil
	})
	if err != nil {
		t.Fatalf("%s in the %s mode: %v", name, m.name, err)
	}
	return at.Sub(start)
}
