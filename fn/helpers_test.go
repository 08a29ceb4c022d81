package fn

import (
	"context"
	"flag"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the function's output")

// dmXR is a DataVisualisation as the Data Manager creates it, with every
// spec.imDataManager field set.
const dmXR = `
apiVersion: squonk.it/v1
kind: DataVisualisation
metadata:
  name: instance-3af1f24e
  namespace: im-data-manager
spec:
  imDataManager:
    taskId: task-8da6f95a
    imageTag: 1.2.0
    serviceAccountName: dm-application
    resources:
      requests: {cpu: 500m, memory: 2Gi, storage: 1Gi}
      limits: {cpu: "1", memory: 2Gi, storage: 1Gi}
    securityContext: {runAsUser: 1002, runAsGroup: 101, fsGroup: 100}
    project: {claimName: dm-project-efb35c90, id: project-eb03b20f}
    ingressClass: nginx-internal
    ingressDomain: viz.example.org
    ingressTlsSecret: data-manager-api-tls
    ingressProxyBodySize: 500m
    imagePullSecrets: [svo-pullsecret, other-pullsecret]
    labels:
    - data-manager.informaticsmatters.com/instance=instance-3af1f24e
    - data-manager.informaticsmatters.com/instance-id=instance-3af1f24e-id
    - data-manager.informaticsmatters.com/owner=dlister
    - data-manager.informaticsmatters.com/purpose=APPLICATION
`

// allowingDMXR is the environment of a platform that allows what dmXR picks
// for itself, with env added.
func allowingDMXR(env map[string]string) map[string]string {
	out := map[string]string{
		envAllowedIngressDomains:  "viz.example.org",
		envAllowedIngressClasses:  "nginx-internal",
		envAllowedTLSSecrets:      "data-manager-api-tls",
		envAllowedServiceAccounts: "dm-application",
	}
	maps.Copy(out, env)
	return out
}

// minimalXR has only the fields an instance cannot start without; the
// ingress domain comes from the function's settings.
const minimalXR = `
apiVersion: squonk.it/v1
kind: DataVisualisation
metadata: {name: viz-min, namespace: dm}
spec:
  imDataManager:
    imageTag: 0.1.6
    project: {claimName: project-claim, id: project-1}
`

const fullInput = `
apiVersion: viz.fn.squonk.it/v1beta1
kind: Input
ingressDomain: input.example.org
ingressCertIssuer: letsencrypt
image: registry.example.org/viz/app
ingressClass: input-class
imagePullSecret: input-pullsecret
nodeSelector: {key: example.org/pool, value: viz}
priorityClass: {apply: true, name: input-priority}
fsGroup: 2000
providerConfigRef: {kind: ProviderConfig, name: dm-cluster}
`

func toStruct(t *testing.T, y string) *structpb.Struct {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatalf("cannot convert YAML to JSON: %v", err)
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(j, s); err != nil {
		t.Fatalf("cannot convert JSON to a struct: %v", err)
	}
	return s
}

// patched returns xr, a YAML object, with patch applied.
func patched(t *testing.T, xr string, patch func(p *fieldpath.Paved) error) *structpb.Struct {
	t.Helper()
	if patch == nil {
		return toStruct(t, xr)
	}
	p := fieldpath.Pave(toStruct(t, xr).AsMap())
	if err := patch(p); err != nil {
		t.Fatalf("cannot patch the XR: %v", err)
	}
	s, err := structpb.NewStruct(p.UnstructuredContent())
	if err != nil {
		t.Fatalf("cannot convert the patched XR: %v", err)
	}
	return s
}

// observedObject is an observed provider-kubernetes Object with the supplied
// Ready and Synced condition statuses ("" leaves a condition out).
func observedObject(t *testing.T, ready, synced string) *fnv1.Resource {
	t.Helper()
	y := "apiVersion: kubernetes.m.crossplane.io/v1alpha1\nkind: Object\nstatus:\n  conditions:\n"
	if ready != "" {
		y += "  - {type: Ready, status: \"" + ready + "\"}\n"
	}
	if synced != "" {
		y += "  - {type: Synced, status: \"" + synced + "\"}\n"
	}
	return &fnv1.Resource{Resource: toStruct(t, y)}
}

// rolledOutStatus is the status of a Deployment of generation 1 that has
// rolled out its one replica.
const rolledOutStatus = `{observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [{type: Available, status: "True"}]}`

// observedDirect is an object of the direct mode, as Crossplane observes it:
// a Deployment of generation 1 with the supplied status ("" for none), a
// Service or an Ingress.
func observedDirect(t *testing.T, object resource.Name, status string) *fnv1.Resource {
	t.Helper()
	y := map[resource.Name]string{
		nameDeployment: `{apiVersion: apps/v1, kind: Deployment, metadata: {name: viz, generation: 1}, spec: {replicas: 1}}`,
		nameService:    `{apiVersion: v1, kind: Service, metadata: {name: viz}}`,
		nameIngress:    `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: viz}}`,
	}[object]
	r := toStruct(t, y)
	if status != "" {
		r.Fields["status"] = structpb.NewStructValue(toStruct(t, status))
	}
	return &fnv1.Resource{Resource: r}
}

// directInput selects the direct mode.
const directInput = "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, mode: Direct}"

func allObserved(t *testing.T, ready string) map[string]*fnv1.Resource {
	t.Helper()
	return map[string]*fnv1.Resource{
		string(nameDeployment): observedObject(t, ready, "True"),
		string(nameService):    observedObject(t, "True", "True"),
		string(nameIngress):    observedObject(t, "True", "True"),
	}
}

func newRequest(t *testing.T, xr *structpb.Struct, input string, observed map[string]*fnv1.Resource) *fnv1.RunFunctionRequest {
	t.Helper()
	req := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "tag"},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xr}, Resources: observed},
	}
	if input != "" {
		req.Input = toStruct(t, input)
	}
	return req
}

// testVersion is the release of the function under test.
const testVersion = "v0.2.0"

func newFunction(env map[string]string) *Function {
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	return NewFunction(logging.NewNopLogger(), DefaultSettings().WithEnvironment(lookup), testVersion)
}

func run(t *testing.T, f *Function, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	t.Helper()
	rsp, err := f.RunFunction(context.Background(), req)
	if err != nil {
		t.Fatalf("RunFunction returned an error; every failure must be a result: %v", err)
	}
	return rsp
}

// desiredValue returns the value at path of the response's desired composed
// resource name, or of the desired XR when name is "xr".
func desiredValue(t *testing.T, rsp *fnv1.RunFunctionResponse, name, path string) any {
	t.Helper()
	var s *structpb.Struct
	if name == "xr" {
		s = rsp.GetDesired().GetComposite().GetResource()
	} else {
		r, ok := rsp.GetDesired().GetResources()[name]
		if !ok {
			t.Fatalf("no desired composed resource %q", name)
		}
		s = r.GetResource()
	}
	v, err := fieldpath.Pave(s.AsMap()).GetValue(path)
	if err != nil {
		return "<absent: " + err.Error() + ">"
	}
	return v
}

const (
	podSpec         = "spec.forProvider.manifest.spec.template.spec"
	containerPath   = podSpec + ".containers[0]"
	ingressManifest = "spec.forProvider.manifest"
)

func ptrTo[T any](v T) *T {
	return &v
}

// desiredObjects counts the desired composed resources a response adds.
func desiredObjects(rsp *fnv1.RunFunctionResponse) []resource.Name {
	var names []resource.Name
	for n := range rsp.GetDesired().GetResources() {
		names = append(names, resource.Name(n))
	}
	return names
}

// cmpSorted compares string slices whatever their order.
var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// setController makes the DataVisualisation of the uid the controller of an
// observed composed resource; no uid (a preview) sets none.
func setController(t *testing.T, r *structpb.Struct, uid string) {
	t.Helper()
	if uid == "" {
		return
	}
	meta := r.GetFields()["metadata"].GetStructValue()
	if meta == nil {
		meta = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		r.Fields["metadata"] = structpb.NewStructValue(meta)
	}
	meta.Fields["ownerReferences"] = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
		structpb.NewStructValue(toStruct(t, `{apiVersion: squonk.it/v1, kind: DataVisualisation, name: viz-min, uid: `+uid+`, controller: true}`)),
	}})
}

// controlled returns observed composed resources as Crossplane composes
// them: the DataVisualisation of the uid their controller.
func controlled(t *testing.T, uid string, observed map[string]*fnv1.Resource) map[string]*fnv1.Resource {
	t.Helper()
	for _, r := range observed {
		setController(t, r.GetResource(), uid)
	}
	return observed
}

// conditionOf returns the response's condition of the type, or nil.
func conditionOf(rsp *fnv1.RunFunctionResponse, typ string) *fnv1.Condition {
	for _, c := range rsp.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// withPodTemplate sets the Pod template of an observed Deployment of the
// mode (in the provider mode, of its Object's manifest).
func withPodTemplate(t *testing.T, m mode, r *fnv1.Resource, pod *structpb.Value) *fnv1.Resource {
	t.Helper()
	path := templatePath(m)
	parent := r.GetResource()
	for _, f := range path[:len(path)-1] {
		next := parent.GetFields()[f].GetStructValue()
		if next == nil {
			next = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			parent.Fields[f] = structpb.NewStructValue(next)
		}
		parent = next
	}
	parent.Fields[path[len(path)-1]] = pod
	return r
}

// asApplied returns the request with its observed Deployment as Crossplane
// observes it once it has applied what f composes: with the Pod template f
// composes, unless the fixture carries one of its own.
func asApplied(t *testing.T, f *Function, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionRequest {
	t.Helper()
	for _, m := range []mode{modeProvider, modeDirect} {
		name := string(m.composedName(nameDeployment))
		observed, ok := req.GetObserved().GetResources()[name]
		if !ok || podTemplateOf(m, observed.GetResource()) != nil {
			continue
		}
		first := proto.Clone(req).(*fnv1.RunFunctionRequest) //nolint:forcetypeassert // A clone has its original's type.
		delete(first.GetObserved().GetResources(), name)
		composed, ok := run(t, f, first).GetDesired().GetResources()[name]
		if !ok {
			t.Fatalf("asApplied: the function composes no %s", name)
		}
		withPodTemplate(t, m, observed, podTemplateOf(m, composed.GetResource()))
	}
	return req
}
