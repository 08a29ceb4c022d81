package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
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
