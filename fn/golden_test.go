package fn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// TestRunFunctionGolden compares whole responses with the readable YAML in
// testdata/. Run `go test ./fn -run Golden -update` to rewrite them after a
// deliberate change, and review the diff.
func TestRunFunctionGolden(t *testing.T) {
	cases := map[string]struct {
		reason   string
		xr       string
		input    string
		env      map[string]string
		observed func(t *testing.T) map[string]*fnv1.Resource
	}{
		"FirstReconcileOfDataManagerXR": {
			reason: "A DataVisualisation with every field set composes three unready Objects, writes status.viz and says what it waits for.",
			xr:     dmXR,
			env:    allowingDMXR(map[string]string{envIngressDomain: "env.example.org", envIngressCertIssuer: "env-issuer"}),
		},
		"AllReadyWithInput": {
			reason: "With every Object Ready the composed resources are ready, and the Input's settings shape the manifests.",
			xr:     minimalXR,
			input:  fullInput,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return allObserved(t, "True")
			},
		},
		"DirectModeFirstReconcileOfDataManagerXR": {
			reason: "In the direct mode the same manifests are composed as they are, under the direct mode's names, unready until Crossplane observes them.",
			xr:     dmXR,
			input:  directInput,
			env:    allowingDMXR(map[string]string{envIngressDomain: "env.example.org", envIngressCertIssuer: "env-issuer"}),
		},
		"MissingImageTag": {
			reason: "A DataVisualisation without an imageTag is rejected with a Fatal result that names the field, and nothing is composed.",
			xr:     strings.Replace(minimalXR, "imageTag: 0.1.6", "taskId: t", 1),
			env:    map[string]string{envIngressDomain: "env.example.org"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var observed map[string]*fnv1.Resource
			if tc.observed != nil {
				observed = tc.observed(t)
			}
			f := newFunction(tc.env)
			rsp := run(t, f, asApplied(t, f, newRequest(t, toStruct(t, tc.xr), tc.input, observed)))

			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				j, err := protojson.Marshal(rsp)
				if err != nil {
					t.Fatal(err)
				}
				y, err := yaml.JSONToYAML(j)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, y, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			y, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("cannot read %s (run with -update to create it): %v", golden, err)
			}
			j, err := yaml.YAMLToJSON(y)
			if err != nil {
				t.Fatal(err)
			}
			want := &fnv1.RunFunctionResponse{}
			if err := protojson.Unmarshal(j, want); err != nil {
				t.Fatalf("cannot parse %s: %v", golden, err)
			}
			if diff := cmp.Diff(want, rsp, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): -want (%s), +got:\n%s", tc.reason, golden, diff)
			}
		})
	}
}
