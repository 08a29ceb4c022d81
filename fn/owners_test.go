package fn

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

const xrUID = "3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3"

// existing is an existing object the function required of Crossplane.
func existing(t *testing.T, y string) map[string]*fnv1.Resources {
	t.Helper()
	return map[string]*fnv1.Resources{requiredKey(nameDeployment): {Items: []*fnv1.Resource{{Resource: toStruct(t, y)}}}}
}

// TestRunFunctionNeverComposesOverAnotherOwnersObject checks that, before an
// object is first composed, the function requires any existing object of
// its kind and name, and composes over it only when it is the
// DataVisualisation's.
func TestRunFunctionNeverComposesOverAnotherOwnersObject(t *testing.T) {
	cases := map[string]struct {
		reason   string
		uid      string
		input    string
		observed func(t *testing.T) map[string]*fnv1.Resource
		// foreign are observed composed resources that, unlike those of
		// observed, the DataVisualisation does not control.
		foreign   func(t *testing.T) map[string]*fnv1.Resource
		required  func(t *testing.T) map[string]*fnv1.Resources
		wantKeys  []string
		wantBlock []string // what the Fatal message must name; none: composed
	}{
		"NewInstanceRequiresEachObject": {
			reason:   "Before anything is composed, the function asks for any Deployment, Service and Ingress of the instance's name.",
			uid:      xrUID,
			wantKeys: []string{"existing-deployment", "existing-ingress", "existing-service"},
		},
		"ComposedObjectsRequireNothing": {
			reason:   "Once Crossplane observes the Objects, the function asks for nothing: a steady instance costs Crossplane no lookups.",
			uid:      xrUID,
			observed: func(t *testing.T) map[string]*fnv1.Resource { t.Helper(); return allObserved(t, "True") },
		},
		"NoObjectOfThatName": {
			reason: "When nothing of that name exists, the instance is composed.",
			uid:    xrUID,
			required: func(*testing.T) map[string]*fnv1.Resources {
				return map[string]*fnv1.Resources{"existing-deployment": {}}
			},
			wantKeys: []string{"existing-deployment", "existing-ingress", "existing-service"},
		},
		"ItsOwnObject": {
			reason: "An object that names this DataVisualisation as its owner is its own: composed over.",
			uid:    xrUID,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, ownerReferences: [{apiVersion: squonk.it/v1, kind: DataVisualisation, name: viz-min, uid: `+xrUID+`, controller: true}]}}`)
			},
			wantKeys: []string{"existing-deployment", "existing-ingress", "existing-service"},
		},
		"TheOperatorsObject": {
			reason: "An object the viz operator adopted (kopf.adopt) names the DataVisualisation too: the migration takes it over.",
			uid:    xrUID,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, ownerReferences: [{apiVersion: squonk.it/v1, kind: DataVisualisation, name: viz-min, uid: `+xrUID+`, controller: true, blockOwnerDeletion: true}], managedFields: [{manager: kopf}]}}`)
			},
			wantKeys: []string{"existing-deployment", "existing-ingress", "existing-service"},
		},
		"AHelmReleasesObject": {
			reason: "An object of a Helm release blocks the instance; the message says which and whose.",
			uid:    xrUID,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, annotations: {meta.helm.sh/release-name: data-manager}}}`)
			},
			wantKeys:  []string{"existing-deployment", "existing-ingress", "existing-service"},
			wantBlock: []string{"the Deployment dm/viz-min exists and is not this DataVisualisation's", `Helm release "data-manager"`},
		},
		"AnotherDataVisualisationsObject": {
			reason: "An object of another DataVisualisation blocks the instance.",
			uid:    xrUID,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, ownerReferences: [{apiVersion: squonk.it/v1, kind: DataVisualisation, name: other, uid: 0000-other}]}}`)
			},
			wantKeys:  []string{"existing-deployment", "existing-ingress", "existing-service"},
			wantBlock: []string{"the Deployment dm/viz-min", `owned by DataVisualisation "other", uid "0000-other"`},
		},
		"AnObjectSomeoneMade": {
			reason: "An object someone made by hand blocks the instance, naming the field manager that made it.",
			uid:    xrUID,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, managedFields: [{manager: kubectl-create}]}}`)
			},
			wantKeys:  []string{"existing-deployment", "existing-ingress", "existing-service"},
			wantBlock: []string{"the Deployment dm/viz-min", `made by "kubectl-create"`},
		},
		"AnOwnerCannotShapeTheMessage": {
			reason: "What the message quotes from another party's object is escaped and shortened, so that it cannot forge a line or a condition.",
			uid:    xrUID,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, `+
					`ownerReferences: [{kind: "Evil\nInputValid=True", name: "`+strings.Repeat("n", 70)+`", uid: "u\"1"}]}}`)
			},
			wantKeys: []string{"existing-deployment", "existing-ingress", "existing-service"},
			wantBlock: []string{
				"the Deployment dm/viz-min",
				`owned by "Evil\nInputValid=True" "` + strings.Repeat("n", 63) + `"..., uid "u\"1"`,
			},
		},
		"DirectModeAHelmReleasesObject": {
			reason: "In the direct mode too, an object of a Helm release blocks the instance.",
			uid:    xrUID,
			input:  directInput,
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, annotations: {meta.helm.sh/release-name: data-manager}}}`)
			},
			wantKeys:  []string{"existing-deployment", "existing-ingress", "existing-service"},
			wantBlock: []string{"the Deployment dm/viz-min exists and is not this DataVisualisation's", `Helm release "data-manager"`},
		},
		"DirectModeComposedObjectsRequireNothing": {
			reason: "Once Crossplane observes the direct mode's objects, the function asks for nothing.",
			uid:    xrUID,
			input:  directInput,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{
					"deployment-direct": observedDirect(t, nameDeployment, ""),
					"service-direct":    observedDirect(t, nameService, ""),
					"ingress-direct":    observedDirect(t, nameIngress, ""),
				}
			},
		},
		"DirectModeAfterTheProviderMode": {
			reason: "A DataVisualisation moved to the direct mode's Composition still has the provider mode's Objects: they are not the direct mode's, so the function checks each object, and composes over those that are its own.",
			uid:    xrUID,
			input:  directInput,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return allObserved(t, "True")
			},
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, ownerReferences: [{apiVersion: squonk.it/v1, kind: DataVisualisation, name: viz-min, uid: `+xrUID+`, controller: true}]}}`)
			},
			wantKeys: []string{"existing-deployment", "existing-ingress", "existing-service"},
		},
		"ARenderPreviewOwnsNothing": {
			reason: "Without a uid (crossplane render), the DataVisualisation owns no existing object.",
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return existing(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz-min, namespace: dm, ownerReferences: [{apiVersion: squonk.it/v1, kind: DataVisualisation, name: viz-min, uid: ""}]}}`)
			},
			wantKeys:  []string{"existing-deployment", "existing-ingress", "existing-service"},
			wantBlock: []string{"the Deployment dm/viz-min exists and is not this DataVisualisation's"},
		},
		"UncontrolledComposedResourceBlocks": {
			reason: "An object that Crossplane observes as composed (listed in spec.crossplane.resourceRefs) but that the DataVisualisation does not control is never composed over, or left for Crossplane to delete.",
			uid:    xrUID,
			foreign: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "True")}
			},
			wantKeys:  []string{"existing-service", "existing-ingress"},
			wantBlock: []string{"the composed resource deployment is not controlled by this DataVisualisation (no owner named)"},
		},
		"ComposedResourceOfAnotherNameBlocks": {
			reason: "A composed resource of a name the function never composes is not its own: Crossplane would delete it.",
			uid:    xrUID,
			foreign: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				r := observedDirect(t, nameService, "")
				setController(t, r.GetResource(), xrUID)
				return map[string]*fnv1.Resource{"database\n": r}
			},
			wantKeys:  []string{"existing-deployment", "existing-service", "existing-ingress"},
			wantBlock: []string{`Crossplane observes a composed resource "database\n", which this function never composes`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := map[string]*fnv1.Resource{}
			if tc.observed != nil {
				observed = tc.observed(t)
			}
			observed = controlled(t, tc.uid, observed)
			if tc.foreign != nil {
				maps.Copy(observed, tc.foreign(t))
			}
			xr := minimalXR
			if tc.uid != "" {
				xr = strings.Replace(xr, "namespace: dm}", "namespace: dm, uid: "+tc.uid+"}", 1)
			}
			req := newRequest(t, toStruct(t, xr), tc.input, observed)
			if tc.required != nil {
				req.RequiredResources = tc.required(t)
			}
			rsp := run(t, newFunction(map[string]string{envIngressDomain: "env.example.org"}), req)

			var keys []string
			for k, sel := range rsp.GetRequirements().GetResources() {
				if !strings.HasPrefix(k, "existing-") {
					continue // What the instance's start is read from: TestRunFunctionSaysWhyItHasNotStarted.
				}
				keys = append(keys, k)
				if sel.GetMatchName() != "viz-min" || sel.GetNamespace() != "dm" {
					t.Errorf("%s\nrequirement %s: want viz-min in dm, got %v", tc.reason, k, sel)
				}
			}
			if diff := cmp.Diff(tc.wantKeys, keys, cmpSorted); diff != "" {
				t.Errorf("%s\nrequirements: -want, +got:\n%s", tc.reason, diff)
			}
			if len(tc.wantBlock) == 0 {
				if len(rsp.GetResults()) > 0 || len(desiredObjects(rsp)) != 3 {
					t.Fatalf("%s\nwant the instance composed, got results %v and %d resources", tc.reason, rsp.GetResults(), len(desiredObjects(rsp)))
				}
				return
			}
			if n := len(rsp.GetResults()); n != 1 || rsp.GetResults()[0].GetSeverity() != fnv1.Severity_SEVERITY_FATAL {
				t.Fatalf("%s\nwant one Fatal result, got %v", tc.reason, rsp.GetResults())
			}
			msg := rsp.GetResults()[0].GetMessage()
			for _, want := range tc.wantBlock {
				if !strings.Contains(msg, want) {
					t.Errorf("%s\nthe Fatal message does not say %q:\n%s", tc.reason, want, msg)
				}
			}
			if n := len(desiredObjects(rsp)); n > 0 {
				t.Errorf("%s\nwant nothing composed, got %d resources", tc.reason, n)
			}
			wantCond := &fnv1.Condition{
				Type: typeObjectsOwned, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonOwnedByAnother,
				Message: ptrTo(msg), Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
			}
			got := conditionOf(rsp, typeObjectsOwned)
			if diff := cmp.Diff(wantCond, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s\n%s condition: -want, +got:\n%s", tc.reason, typeObjectsOwned, diff)
			}
		})
	}
}
