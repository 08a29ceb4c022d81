package fn

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// namedField matches the start of a field path in an error message:
// spec.imDataManager..., metadata..., input..., env[...], or the Input.
var namedField = regexp.MustCompile(`(spec\.imDataManager|metadata\.|input\.|input\)|env\[|Input\.)`)

// FuzzRunFunction drives RunFunction with DataVisualisations made of fuzzed
// values. Every request must give either one Fatal result whose message
// names a field and composes nothing, or the three Objects, whose manifests
// keep the invariants of docs/behaviour.md.
func FuzzRunFunction(f *testing.F) {
	// Seeds: the Data Manager's example, the defaults, and bad inputs.
	f.Add("instance-3af1f24e", "im-data-manager", "1.2.0", "data-manager.informaticsmatters.com/instance=instance-3af1f24e\ndata-manager.informaticsmatters.com/owner=dlister", "project-1", "claim", "500m", "2Gi", int64(1002), "viz.example.org", "svo-pullsecret")
	f.Add("viz-min", "dm", "latest", "", "p", "c", "", "", int64(0), "", "")
	f.Add("viz.team-a.1", "dm", "stable", "deployment=viz.team-a.1", "a/b", "c", "1", "1Gi", int64(1000), "d.org", "")
	f.Add("1viz", "dm", "sha256:abc", "owner", "/etc", "Bad Claim", "two", "-1Gi", int64(-5), "10.0.0.1", "Bad Secret")
	f.Add("x", "dm", "1 2", "k=a\nk=b", "p/../q", "c", "2", "1Gi", int64(4294967296), "viz_example.org", "a")
	f.Add(strings.Repeat("a", 64), "dm", "1.0", "deployment=other", "p", "c", "1m", "1Ki", int64(1), "d.org", "")

	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		f.Fatal(err)
	}
	fn := NewFunction(logging.NewNopLogger(), DefaultSettings(), testVersion)
	f.Fuzz(func(t *testing.T, name, namespace, tag, labels, projectID, claim, cpu, memory string, runAsUser int64, domain, pullSecret string) {
		// Protobuf strings, which Crossplane sends, are valid UTF-8.
		for _, s := range []*string{&name, &namespace, &tag, &labels, &projectID, &claim, &cpu, &memory, &domain, &pullSecret} {
			*s = strings.ToValidUTF8(*s, "\uFFFD")
		}
		dm := map[string]any{
			"imageTag": tag,
			"project":  map[string]any{"id": projectID, "claimName": claim},
		}
		if labels != "" {
			var list []any
			for _, l := range strings.Split(labels, "\n") {
				list = append(list, l)
			}
			dm["labels"] = list
		}
		res := map[string]any{}
		if cpu != "" {
			res["cpu"] = cpu
		}
		if memory != "" {
			res["memory"] = memory
		}
		dm["resources"] = map[string]any{"requests": res, "limits": res}
		if runAsUser != 0 {
			dm["securityContext"] = map[string]any{"runAsUser": float64(runAsUser)}
		}
		if domain != "" {
			dm["ingressDomain"] = domain
		}
		if pullSecret != "" {
			dm["imagePullSecrets"] = []any{pullSecret}
		}
		xr, err := structpb.NewStruct(map[string]any{
			"apiVersion": "squonk.it/v1", "kind": "DataVisualisation",
			"metadata": map[string]any{"name": name, "namespace": namespace},
			"spec":     map[string]any{"imDataManager": dm},
		})
		if err != nil {
			t.Fatalf("cannot make the request: %v", err)
		}
		req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xr}}}
		if domain == "" {
			req.Input = mustStructJSON(t, `{"apiVersion":"viz.fn.squonk.it/v1beta1","kind":"Input","ingressDomain":"fallback.example.org"}`)
		}
		rsp, err := fn.RunFunction(context.Background(), req)
		if err != nil {
			t.Fatalf("RunFunction returned an error: %v", err)
		}
		if results := rsp.GetResults(); len(results) > 0 {
			if len(results) != 1 || results[0].GetSeverity() != fnv1.Severity_SEVERITY_FATAL {
				t.Fatalf("want at most one result, a Fatal one, got %v", results)
			}
			if !namedField.MatchString(results[0].GetMessage()) {
				t.Fatalf("the Fatal message names no field: %s", results[0].GetMessage())
			}
			if len(rsp.GetDesired().GetResources()) > 0 {
				t.Fatalf("a Fatal result composed %d resources", len(rsp.GetDesired().GetResources()))
			}
			return
		}
		checkInvariants(t, evaluator, name, rsp)
	})
}

func mustStructJSON(t *testing.T, j string) *structpb.Struct {
	t.Helper()
	s := &structpb.Struct{}
	if err := s.UnmarshalJSON([]byte(j)); err != nil {
		t.Fatal(err)
	}
	return s
}

// decodeManifest decodes the typed object wrapped in a desired Object.
func decodeManifest(t *testing.T, rsp *fnv1.RunFunctionResponse, name string, into runtime.Object) {
	t.Helper()
	m := rsp.GetDesired().GetResources()[name].GetResource().AsMap()
	spec, _ := m["spec"].(map[string]any)
	fp, _ := spec["forProvider"].(map[string]any)
	mf, _ := fp["manifest"].(map[string]any)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(mf, into, true); err != nil {
		t.Fatalf("the %s manifest does not decode strictly: %v", name, err)
	}
}

// checkInvariants checks what must hold for every instance the function
// composes (docs/behaviour.md).
func checkInvariants(t *testing.T, evaluator policy.Evaluator, xrName string, rsp *fnv1.RunFunctionResponse) {
	t.Helper()
	if n := len(rsp.GetDesired().GetResources()); n != 3 {
		t.Fatalf("want 3 composed resources, got %d", n)
	}
	d, s, i := &appsv1.Deployment{}, &corev1.Service{}, &networkingv1.Ingress{}
	decodeManifest(t, rsp, "deployment", d)
	decodeManifest(t, rsp, "service", s)
	decodeManifest(t, rsp, "ingress", i)

	for kind, n := range map[string]string{"Deployment": d.Name, "Service": s.Name, "Ingress": i.Name} {
		if msgs := validation.IsDNS1035Label(n); len(msgs) > 0 {
			t.Fatalf("%s name %q is not valid: %v", kind, n, msgs)
		}
	}
	if d.Name != s.Name || s.Name != i.Name {
		t.Fatalf("the objects' names differ: %s, %s, %s", d.Name, s.Name, i.Name)
	}
	want := map[string]string{"deployment": d.Name}
	if fmt.Sprint(d.Spec.Selector.MatchLabels) != fmt.Sprint(want) || fmt.Sprint(s.Spec.Selector) != fmt.Sprint(want) {
		t.Fatalf("the selectors changed: Deployment %v, Service %v", d.Spec.Selector.MatchLabels, s.Spec.Selector)
	}
	if d.Spec.Template.Labels["deployment"] != d.Name {
		t.Fatalf("a DM label changed the Pod's selector label: %v", d.Spec.Template.Labels)
	}
	for k, v := range d.Spec.Template.Labels {
		if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
			t.Fatalf("invalid Pod label %s=%s", k, v)
		}
	}
	var basePath string
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "DM_BASE_PATH" {
			basePath = e.Value
		}
	}
	path := i.Spec.Rules[0].HTTP.Paths[0]
	if basePath != "/"+xrName || path.Path != basePath {
		t.Fatalf("the Ingress path %q, DM_BASE_PATH %q and the name %q disagree", path.Path, basePath, xrName)
	}
	if path.Backend.Service.Name != s.Name {
		t.Fatalf("the Ingress routes to %q, not the Service %q", path.Backend.Service.Name, s.Name)
	}
	level := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	for _, r := range evaluator.EvaluatePod(level, &d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec) {
		if !r.Allowed {
			t.Fatalf("the Pod breaks the restricted standard: %s: %s", r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
	url := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)["viz"].(map[string]any)["url"] //nolint:forcetypeassert // Checked by the golden tests.
	if url != "https://"+i.Spec.Rules[0].Host+basePath {
		t.Fatalf("status.viz.url %v does not route to the Ingress (%s%s)", url, i.Spec.Rules[0].Host, basePath)
	}
}
