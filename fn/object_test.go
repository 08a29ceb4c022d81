package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

func TestToManifest(t *testing.T) {
	cases := map[string]struct {
		reason string
		obj    runtime.Object
		want   string
	}{
		"ServiceHasOnlyTheFieldsSet": {
			reason: "A typed Service becomes a manifest with no status, no null creationTimestamp and no empty objects.",
			obj:    service(fullInstance()),
			want:   serviceOfFullInstance,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := toManifest(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{}
			if err := yaml.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			// Compare through YAML, whose numbers are all float64.
			if diff := cmp.Diff(want, normalise(t, got)); diff != "" {
				t.Errorf("%s\ntoManifest(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func normalise(t *testing.T, v any) any {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrune(t *testing.T) {
	m := map[string]any{
		"keep":  "x",
		"null":  nil,
		"empty": map[string]any{"inner": map[string]any{"null": nil}},
		"list":  []any{map[string]any{"a": nil, "b": 1}},
	}
	prune(m)
	want := map[string]any{"keep": "x", "list": []any{map[string]any{"b": 1}}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("prune(...): -want, +got:\n%s", diff)
	}
}

// TestRunFunctionObjects checks how each provider-kubernetes Object is made:
// it watches its object, leaves deletion to the garbage collector, and its
// object names the DataVisualisation as its owner.
func TestRunFunctionObjects(t *testing.T) {
	type want map[string]any // "<resource>|<path>" -> value
	cases := map[string]struct {
		reason string
		env    map[string]string
		xr     string
		patch  func(p *fieldpath.Paved) error
		want   want
	}{
		"TheDataVisualisationOwnsEachObject": {
			reason: "Each object names the DataVisualisation as its owner, so that the garbage collector deletes it with the DataVisualisation.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch:  setField("metadata.uid", "3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3"),
			want: want{
				"deployment|spec.forProvider.manifest.metadata.ownerReferences": []any{map[string]any{
					"apiVersion": "squonk.it/v1", "kind": "DataVisualisation", "name": "viz-min",
					"uid": "3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3", "controller": true,
				}},
				"service|spec.forProvider.manifest.metadata.ownerReferences[0].uid": "3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3",
				"ingress|spec.forProvider.manifest.metadata.ownerReferences[0].uid": "3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3",
			},
		},
		"NoOwnerInARenderPreview": {
			reason: "crossplane render gives the DataVisualisation no uid, so the objects name no owner.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"deployment|spec.forProvider.manifest.metadata.ownerReferences": "<absent: spec.forProvider.manifest.metadata.ownerReferences: no such field>",
			},
		},
		"ObjectsWatchAndLeaveDeletionToTheGarbageCollector": {
			reason: "Each Object watches its object, and does not delete it: the garbage collector does, with the DataVisualisation.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"deployment|spec.watch":              true,
				"service|spec.managementPolicies":    []any{"Observe", "Create", "Update", "LateInitialize"},
				"ingress|spec.managementPolicies[0]": "Observe",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := run(t, newFunction(tc.env), newRequest(t, patched(t, tc.xr, tc.patch), "", nil))
			for key, want := range tc.want {
				name, path, _ := strings.Cut(key, "|")
				if diff := cmp.Diff(want, desiredValue(t, rsp, name, path)); diff != "" {
					t.Errorf("%s\nRunFunction(...): %s %s: -want, +got:\n%s", tc.reason, name, path, diff)
				}
			}
		})
	}
}

// TestRunFunctionObjectOwners checks when each object names its Object as
// an owner, so that the garbage collector deletes the Object before it: from
// when the provider has synced the Object, while the instance is not Ready
// or has never been, and never for the first time on a running instance,
// whose Object would change.
func TestRunFunctionObjectOwners(t *testing.T) {
	const xrUID = "3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3"
	xrOwner := map[string]any{"apiVersion": "squonk.it/v1", "kind": "DataVisualisation", "name": "viz-min", "uid": xrUID, "controller": true}
	objectOwner := func(name resource.Name) map[string]any {
		return map[string]any{"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "Object", "name": "viz-min-" + string(name), "uid": "uid-of-object-" + string(name)}
	}
	cases := map[string]struct {
		reason   string
		input    string
		uid      string
		observed func(t *testing.T) map[string]*fnv1.Resource
		ready    bool                    // The observed Deployment carries the Pod template composed now.
		xrReady  bool                    // Crossplane last wrote the DataVisualisation Ready.
		want     map[resource.Name][]any // Each composed resource's manifest's owners.
		// wantReady, when set, is what the response says of the Deployment.
		wantReady fnv1.Ready
	}{
		"EachObjectOwnsItsObjectOnceObserved": {
			reason: "While the instance is not Ready, each object names its Object, beside the DataVisualisation.",
			uid:    xrUID,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return withObjectNames(t, allObserved(t, "False"), false)
			},
			want: map[resource.Name][]any{
				nameDeployment: {xrOwner, objectOwner(nameDeployment)},
				nameService:    {xrOwner, objectOwner(nameService)},
				nameIngress:    {xrOwner, objectOwner(nameIngress)},
			},
		},
		"NoObjectOwnerBeforeCrossplaneObservesTheObject": {
			reason: "An Object that does not exist yet has no uid to name.",
			uid:    xrUID,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{string(nameDeployment): withObjectNames(t, allObserved(t, "False"), false)[string(nameDeployment)]}
			},
			want: map[resource.Name][]any{
				nameDeployment: {xrOwner, objectOwner(nameDeployment)},
				nameService:    {xrOwner},
				nameIngress:    {xrOwner},
			},
		},
		"NoObjectOwnerWhileTheProviderSyncsTheObject": {
			reason: "An Object whose provider has not yet synced it (it is creating its object) is not changed under it: its owner comes once it has.",
			uid:    xrUID,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				o := withObjectNames(t, allObserved(t, "False"), false)
				o[string(nameService)] = withObjectNames(t, map[string]*fnv1.Resource{string(nameService): observedObject(t, "", "")}, false)[string(nameService)]
				ingress := o[string(nameIngress)].GetResource()
				ingress.GetFields()["metadata"].GetStructValue().Fields["generation"] = structpb.NewNumberValue(2)
				ingress.Fields["status"] = structpb.NewStructValue(toStruct(t, `{conditions: [{type: Ready, status: "True"}, {type: Synced, status: "True", observedGeneration: 1}]}`))
				return o
			},
			want: map[resource.Name][]any{
				nameDeployment: {xrOwner, objectOwner(nameDeployment)},
				nameService:    {xrOwner},
				nameIngress:    {xrOwner},
			},
		},
		"AReadyInstanceOfAnEarlierReleaseIsLeftAsItIs": {
			reason:  "A Ready instance whose objects name no Object keeps them so: a new owner would change its Objects, and it would not be Ready until the provider applied them.",
			uid:     xrUID,
			ready:   true,
			xrReady: true,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return withObjectNames(t, allObserved(t, "True"), false)
			},
			want: map[resource.Name][]any{
				nameDeployment: {xrOwner},
				nameService:    {xrOwner},
				nameIngress:    {xrOwner},
			},
		},
		"AnInstanceReadyBeforeItsOwnersWereAddedGetsThemAndWaitsForThem": {
			reason: "An instance that was never Ready, whose objects are all ready by the first call that sees its Objects synced, gets its owners, and is not Ready until the provider has applied them.",
			uid:    xrUID,
			ready:  true,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return withObjectNames(t, allObserved(t, "True"), false)
			},
			want: map[resource.Name][]any{
				nameDeployment: {xrOwner, objectOwner(nameDeployment)},
				nameService:    {xrOwner, objectOwner(nameService)},
				nameIngress:    {xrOwner, objectOwner(nameIngress)},
			},
			wantReady: fnv1.Ready_READY_FALSE,
		},
		"AReadyInstanceKeepsTheObjectOwnersItHas": {
			reason:  "Once applied, an Object owner stays when the instance is Ready.",
			uid:     xrUID,
			ready:   true,
			xrReady: true,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return withObjectNames(t, allObserved(t, "True"), true)
			},
			want: map[resource.Name][]any{
				nameDeployment: {xrOwner, objectOwner(nameDeployment)},
				nameService:    {xrOwner, objectOwner(nameService)},
				nameIngress:    {xrOwner, objectOwner(nameIngress)},
			},
		},
		"NoOwnerInARenderPreview": {
			reason: "crossplane render gives the DataVisualisation no uid: its objects name no owner, not even an observed Object.",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return withObjectNames(t, allObserved(t, "False"), false)
			},
			want: map[resource.Name][]any{nameDeployment: nil, nameService: nil, nameIngress: nil},
		},
		"TheDirectModeNamesNoObject": {
			reason: "In the direct mode, Crossplane composes the objects: the Objects of the provider mode it still observes, while it deletes them, own nothing.",
			input:  directInput,
			uid:    xrUID,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return withObjectNames(t, allObserved(t, "False"), false)
			},
			want: map[resource.Name][]any{
				nameDeployment + "-direct": {xrOwner},
				nameService + "-direct":    {xrOwner},
				nameIngress + "-direct":    {xrOwner},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
			xr := patched(t, minimalXR, func(p *fieldpath.Paved) error {
				if tc.uid != "" {
					if err := p.SetValue("metadata.uid", tc.uid); err != nil {
						return err
					}
				}
				if tc.xrReady {
					return p.SetValue("status.conditions", []any{map[string]any{"type": "Ready", "status": "True"}})
				}
				return nil
			})
			req := newRequest(t, xr, tc.input, controlled(t, tc.uid, tc.observed(t)))
			if tc.ready {
				req = asApplied(t, f, req)
			}
			rsp := run(t, f, req)
			if tc.wantReady != fnv1.Ready_READY_UNSPECIFIED {
				if got := rsp.GetDesired().GetResources()[string(nameDeployment)].GetReady(); got != tc.wantReady {
					t.Errorf("%s\nRunFunction(...): the Deployment's Ready: want %s, got %s", tc.reason, tc.wantReady, got)
				}
			}
			for composed, want := range tc.want {
				path := "spec.forProvider.manifest.metadata.ownerReferences"
				if strings.HasSuffix(string(composed), "-direct") {
					path = "metadata.ownerReferences"
				}
				got := desiredValue(t, rsp, string(composed), path)
				if want == nil {
					if _, absent := got.(string); absent {
						continue // desiredValue's "<absent: ...>".
					}
				}
				if diff := cmp.Diff(any(want), got); diff != "" {
					t.Errorf("%s\nRunFunction(...): %s %s: -want, +got:\n%s", tc.reason, composed, path, diff)
				}
			}
		})
	}
}

// withObjectNames gives each observed Object the name and uid that the API
// server gives it, and, when applied, a manifest that already names it as an
// owner.
func withObjectNames(t *testing.T, observed map[string]*fnv1.Resource, applied bool) map[string]*fnv1.Resource {
	t.Helper()
	for name, r := range observed {
		o := r.GetResource()
		o.Fields["metadata"] = structpb.NewStructValue(toStruct(t, "{name: viz-min-"+name+", uid: uid-of-object-"+name+"}"))
		if applied {
			o.Fields["spec"] = structpb.NewStructValue(toStruct(t, `{forProvider: {manifest: {metadata: {ownerReferences: [
				{apiVersion: squonk.it/v1, kind: DataVisualisation, name: viz-min, uid: 3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3, controller: true},
				{apiVersion: kubernetes.m.crossplane.io/v1alpha1, kind: Object, name: viz-min-`+name+`, uid: uid-of-object-`+name+`}]}}}}`))
		}
	}
	return observed
}
