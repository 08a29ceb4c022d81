package fn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func setField(path string, v any) func(p *fieldpath.Paved) error {
	return func(p *fieldpath.Paved) error { return p.SetValue(path, v) }
}

// A badInput is a case of testdata/bad-input.yaml.
type badInput struct {
	Name      string            `json:"name"`
	Set       map[string]any    `json:"set"`
	Remove    string            `json:"remove"`
	Env       map[string]string `json:"env"`
	Input     string            `json:"input"`
	Field     string            `json:"field"`
	Value     string            `json:"value"`
	APIServer string            `json:"apiServer"`
	Why       string            `json:"why"`
}

// patch applies the case's change to the DataVisualisation.
func (b badInput) patch(p *fieldpath.Paved) error {
	for path, v := range b.Set {
		if err := p.SetValue(path, v); err != nil {
			return err
		}
	}
	if b.Remove != "" {
		return p.DeleteField(b.Remove)
	}
	return nil
}

// readBadInput reads the bad-input table, which the end-to-end suite also
// runs against the API server.
func readBadInput(t *testing.T) (base string, cases []badInput) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bad-input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Base  string     `json:"base"`
		Cases []badInput `json:"cases"`
	}
	if err := yaml.UnmarshalStrict(b, &table); err != nil {
		t.Fatal(err)
	}
	return table.Base, table.Cases
}

// TestRunFunctionRejectsBadInput is the bad-input table of docs/behaviour.md
// (testdata/bad-input.yaml): every input that cannot become a working
// instance gets one Fatal result whose message names the field and the bad
// value, the same answer every time, an InputValid=False condition that
// carries it, and nothing composed.
func TestRunFunctionRejectsBadInput(t *testing.T) {
	base, cases := readBadInput(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			xrField := tc.Set != nil || tc.Remove != ""
			switch {
			case xrField && tc.APIServer != "refuses" && (tc.APIServer != "accepts" || tc.Why == ""):
				t.Fatalf("a case of the DataVisualisation's own fields must say whether the API server refuses it, and if it accepts it, why")
			case !xrField && tc.Env == nil && tc.Input == "":
				t.Fatal("the case changes nothing")
			}
			env := tc.Env
			if env == nil {
				env = map[string]string{envIngressDomain: "env.example.org"}
			}
			f := newFunction(env)
			req := newRequest(t, patched(t, base, tc.patch), tc.Input, nil)
			rsp := run(t, f, req)

			if n := len(rsp.GetResults()); n != 1 {
				t.Fatalf("RunFunction(...): want exactly one result, got %d: %v", n, rsp.GetResults())
			}
			r := rsp.GetResults()[0]
			if r.GetSeverity() != fnv1.Severity_SEVERITY_FATAL {
				t.Errorf("RunFunction(...): want a Fatal result, got %s", r.GetSeverity())
			}
			for _, want := range []string{tc.Field, tc.Value} {
				if !strings.Contains(r.GetMessage(), want) {
					t.Errorf("RunFunction(...): the Fatal message does not name %q:\n%s", want, r.GetMessage())
				}
			}
			if names := desiredObjects(rsp); len(names) > 0 {
				t.Errorf("RunFunction(...): want nothing composed, got %v", names)
			}
			if rsp.GetDesired().GetComposite() != nil {
				t.Errorf("RunFunction(...): want no desired XR status, got %v", rsp.GetDesired().GetComposite())
			}
			wantCond := []*fnv1.Condition{{
				Type: typeInputValid, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonInvalidInput,
				Message: ptrTo(r.GetMessage()), Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
			}}
			if diff := cmp.Diff(wantCond, rsp.GetConditions(), protocmp.Transform()); diff != "" {
				t.Errorf("RunFunction(...): conditions: -want, +got:\n%s", diff)
			}
			again := run(t, f, newRequest(t, patched(t, base, tc.patch), tc.Input, nil))
			if diff := cmp.Diff(rsp, again, protocmp.Transform()); diff != "" {
				t.Errorf("RunFunction(...): the same input gave another answer: -first, +second:\n%s", diff)
			}
		})
	}
}
