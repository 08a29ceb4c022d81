package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
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
