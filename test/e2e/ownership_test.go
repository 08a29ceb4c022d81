//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestNeverTouchesWhatItDoesNotOwn gives the Data Manager's service account
// a DataVisualisation named like objects that another party made: by hand,
// as cluster-admin with kubectl, and by another DataVisualisation. The
// instance is blocked, saying which object is in the way and whose it is;
// the objects are left exactly as they were, and still exist once the
// blocked DataVisualisation is deleted. In each mode.
func TestNeverTouchesWhatItDoesNotOwn(t *testing.T) {
	inEachMode(t, neverTouchesWhatItDoesNotOwn)
}

func neverTouchesWhatItDoesNotOwn(ctx context.Context, t *testing.T, m mode) {
	owner := m.instance("victim-owner")
	if _, err := createXR(ctx, m, owner); err != nil {
		t.Fatal(err)
	}
	ownerXR := mustGet(ctx, t, xrRef(owner))
	// The Data Manager creates the DataVisualisations, as it would. It may
	// not choose a Composition (admission.yaml), so the direct mode's are
	// created by an administrator.
	dm, err := c.as(dataManagerSA)
	if err != nil {
		t.Fatal(err)
	}
	if m == directMode {
		dm = c.kube
	}
	cases := map[string]struct {
		ownerRefs string // the objects' metadata.ownerReferences
		wantOwner string // what the message says of their owner
	}{
		"victim-hand": {ownerRefs: "[]", wantOwner: `made by "kubectl`},
		"victim-dv": {
			ownerRefs: fmt.Sprintf("[{apiVersion: squonk.it/v1, kind: DataVisualisation, name: %s, uid: %s}]", owner, ownerXR.GetUID()),
			wantOwner: fmt.Sprintf("owned by DataVisualisation %q", owner),
		},
	}
	for base, tc := range cases {
		name := m.instance(base)
		t.Run(base, func(t *testing.T) {
			defer timed(m.name + " mode: ownership: " + base + ": blocked, and the objects left as they were")()
			foreign, err := expandTemplate("ownership/foreign.yaml", map[string]string{"NAME": name, "NAMESPACE": dmNamespace, "OWNERS": tc.ownerRefs})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.kubectl(ctx, foreign, "create", "-f", "-"); err != nil {
				t.Fatal(err)
			}
			before := map[string]client.Object{}
			for _, ref := range childRefs(name) {
				before[kindOf(ref)] = mustGet(ctx, t, ref)
			}
			xr, err := m.dataVisualisation(name, "1.2.0")
			if err != nil {
				t.Fatal(err)
			}
			blocked := watchFor(ctx, xrRef(name), xrCondition("ObjectsOwned", "False"))
			if err := dm.Create(ctx, xr); err != nil {
				t.Fatal(err)
			}
			created := time.Now()
			at, got, err := blocked.wait()
			if err != nil {
				t.Fatal(err)
			}
			live.one(m, "DataVisualisation named like another party's objects ("+base+") → blocked, ObjectsOwned=False", at.Sub(created), 0)
			_, _, msg := condition(got, "ObjectsOwned")
			for _, want := range []string{"the Deployment " + dmNamespace + "/" + name, "the Service " + dmNamespace + "/" + name, "the Ingress " + dmNamespace + "/" + name, tc.wantOwner} {
				if !strings.Contains(msg, want) {
					t.Errorf("ObjectsOwned does not say %q: %s", want, msg)
				}
			}
			if synced, _, _ := condition(got, "Synced"); synced != "False" {
				t.Errorf("Synced is %q, want False", synced)
			}
			if refs, _, _ := unstructured.NestedSlice(got.Object, "spec", "crossplane", "resourceRefs"); len(refs) > 0 {
				t.Errorf("want nothing composed, got %v", refs)
			}
			if objects, err := c.objectsOf(ctx, name); err != nil || len(objects) > 0 {
				t.Errorf("want nothing composed, got %d Objects (%v)", len(objects), err)
			}
			if err := dm.Delete(ctx, xrRef(name)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := until(ctx, xrRef(name), gone); err != nil {
				t.Fatal(err)
			}
			// What composing over an object or adopting it would change; not
			// the status its own controller writes.
			for kind, b := range before {
				now := mustGet(ctx, t, b.DeepCopyObject().(client.Object)) //nolint:forcetypeassert // A copy of an Object.
				if now.GetUID() != b.GetUID() {
					t.Errorf("the %s %s was replaced: uid %s, was %s", kind, name, now.GetUID(), b.GetUID())
				}
				if diff := cmp.Diff(ownedPart(asUnstructured(t, b)), ownedPart(asUnstructured(t, now))); diff != "" {
					t.Errorf("the %s %s changed: -before, +after:\n%s", kind, name, diff)
				}
			}
			if _, err := c.kubectl(ctx, foreign, "delete", "-f", "-"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := deleteAndAwaitGone(ctx, owner); err != nil {
		t.Fatal(err)
	}
}
