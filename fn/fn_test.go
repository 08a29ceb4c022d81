package fn

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
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

func allObserved(t *testing.T, ready string) map[string]*fnv1.Resource {
	t.Helper()
	return map[string]*fnv1.Resource{
		string(NameDeployment): observedObject(t, ready, "True"),
		string(NameService):    observedObject(t, "True", "True"),
		string(NameIngress):    observedObject(t, "True", "True"),
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

func newFunction(env map[string]string) *Function {
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	return NewFunction(logging.NewNopLogger(), DefaultSettings().WithEnvironment(lookup))
}

func run(t *testing.T, f *Function, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	t.Helper()
	rsp, err := f.RunFunction(context.Background(), req)
	if err != nil {
		t.Fatalf("RunFunction returned an error; every failure must be a result: %v", err)
	}
	return rsp
}

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
			env:    map[string]string{EnvIngressDomain: "env.example.org", EnvIngressCertIssuer: "env-issuer"},
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
		"MissingImageTag": {
			reason: "A DataVisualisation without an imageTag is rejected with a Fatal result that names the field, and nothing is composed.",
			xr:     strings.Replace(minimalXR, "imageTag: 0.1.6", "taskId: t", 1),
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var observed map[string]*fnv1.Resource
			if tc.observed != nil {
				observed = tc.observed(t)
			}
			rsp := run(t, newFunction(tc.env), newRequest(t, toStruct(t, tc.xr), tc.input, observed))

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
	podSpec       = "spec.forProvider.manifest.spec.template.spec"
	containerPath = podSpec + ".containers[0]"
	ingress       = "spec.forProvider.manifest"
)

// TestRunFunction checks the behaviour of SPEC sections 3 and 4 through
// RunFunction, one rule per case, by the values it puts in the response.
func TestRunFunction(t *testing.T) {
	type want map[string]any // "<resource>|<path>" -> value; resource "xr" is the desired XR.
	cases := map[string]struct {
		reason   string
		env      map[string]string
		input    string
		xr       string
		patch    func(p *fieldpath.Paved) error
		observed func(t *testing.T) map[string]*fnv1.Resource
		want     want
	}{
		"DefaultsApplyWhenOnlyRequiredFieldsAreSet": {
			reason: "An XR with only imageTag and project gets the operator's defaults.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"deployment|" + containerPath + ".image":                                                    "ghcr.io/informaticsmatters/squonk2-viz-app:0.1.6",
				"deployment|" + containerPath + ".resources.requests.cpu":                                   "10m",
				"deployment|" + containerPath + ".resources.requests.memory":                                "256Mi",
				"deployment|" + containerPath + ".resources.limits.cpu":                                     "1",
				"deployment|" + containerPath + ".resources.limits.memory":                                  "1Gi",
				"deployment|" + podSpec + ".serviceAccountName":                                             "default",
				"deployment|" + podSpec + ".securityContext.runAsUser":                                      float64(1000),
				"deployment|" + podSpec + ".securityContext.runAsGroup":                                     float64(100),
				"deployment|" + podSpec + ".securityContext.fsGroup":                                        float64(100),
				"deployment|" + podSpec + ".nodeSelector[informaticsmatters.com/purpose-application]":       "yes",
				"deployment|" + podSpec + ".imagePullSecrets":                                               "<absent: spec.forProvider.manifest.spec.template.spec.imagePullSecrets: no such field>",
				"deployment|" + podSpec + ".priorityClassName":                                              "<absent: spec.forProvider.manifest.spec.template.spec.priorityClassName: no such field>",
				"deployment|" + containerPath + ".env[2].value":                                             "viz-min",
				"deployment|" + containerPath + ".env[3].value":                                             "Unknown",
				"ingress|" + ingress + ".spec.ingressClassName":                                             "nginx",
				"ingress|" + ingress + ".metadata.annotations[nginx.ingress.kubernetes.io/proxy-body-size]": "1m",
				"ingress|spec.providerConfigRef":                                                            map[string]any{"kind": "ClusterProviderConfig", "name": "default"},
				"xr|status.viz.url":                                                                         "https://env.example.org/viz-min",
			},
		},
		"EnvironmentWinsOverDefaults": {
			reason: "Each operator environment variable replaces its built-in default.",
			env: map[string]string{
				EnvIngressDomain: "env.example.org", EnvImage: "env.example.org/viz", EnvIngressClass: "env-class",
				EnvImagePullSecret: "env-pullsecret", EnvNodeSelectorKey: "env.example.org/pool", EnvNodeSelectorValue: "env",
				EnvApplyPriorityClass: "yes", EnvPriorityClassName: "env-priority", EnvIngressTLSSecret: "env-tls",
			},
			xr: minimalXR,
			want: want{
				"deployment|" + containerPath + ".image":                        "env.example.org/viz:0.1.6",
				"deployment|" + podSpec + ".imagePullSecrets[0].name":           "env-pullsecret",
				"deployment|" + podSpec + ".nodeSelector[env.example.org/pool]": "env",
				"deployment|" + podSpec + ".priorityClassName":                  "env-priority",
				"ingress|" + ingress + ".spec.ingressClassName":                 "env-class",
				"ingress|" + ingress + ".spec.tls[0].secretName":                "env-tls",
				"xr|status.viz.url": "https://env.example.org/viz-min",
			},
		},
		"InputWinsOverEnvironment": {
			reason: "Each Input field replaces the environment variable of the same setting.",
			env: map[string]string{
				EnvIngressDomain: "env.example.org", EnvImage: "env.example.org/viz", EnvIngressClass: "env-class",
				EnvImagePullSecret: "env-pullsecret", EnvPriorityClassName: "env-priority", EnvIngressCertIssuer: "env-issuer",
			},
			input: fullInput,
			xr:    minimalXR,
			want: want{
				"deployment|" + containerPath + ".image":                                       "registry.example.org/viz/app:0.1.6",
				"deployment|" + podSpec + ".imagePullSecrets[0].name":                          "input-pullsecret",
				"deployment|" + podSpec + ".nodeSelector[example.org/pool]":                    "viz",
				"deployment|" + podSpec + ".priorityClassName":                                 "input-priority",
				"deployment|" + podSpec + ".securityContext.fsGroup":                           float64(2000),
				"ingress|" + ingress + ".spec.ingressClassName":                                "input-class",
				"ingress|" + ingress + ".metadata.annotations[cert-manager.io/cluster-issuer]": "letsencrypt",
				"service|spec.providerConfigRef":                                               map[string]any{"kind": "ProviderConfig", "name": "dm-cluster"},
				"xr|status.viz.url":                                                            "https://input.example.org/viz-min",
			},
		},
		"InputEmptyStringClearsEnvironment": {
			reason: "An Input field set to the empty string turns off the environment's value.",
			env:    map[string]string{EnvIngressDomain: "env.example.org", EnvIngressTLSSecret: "env-tls", EnvImagePullSecret: "env-pullsecret"},
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, ingressTlsSecret: '', imagePullSecret: '', nodeSelector: {key: ''}}",
			xr:     minimalXR,
			want: want{
				"ingress|" + ingress + ".spec.tls":            "<absent: spec.forProvider.manifest.spec.tls: no such field>",
				"deployment|" + podSpec + ".imagePullSecrets": "<absent: spec.forProvider.manifest.spec.template.spec.imagePullSecrets: no such field>",
				"deployment|" + podSpec + ".nodeSelector":     "<absent: spec.forProvider.manifest.spec.template.spec.nodeSelector: no such field>",
			},
		},
		"XRWinsOverInput": {
			reason: "The DataVisualisation's own ingress settings and pull secrets replace the Input's.",
			input:  fullInput,
			xr:     dmXR,
			want: want{
				"deployment|" + podSpec + ".imagePullSecrets":    []any{map[string]any{"name": "svo-pullsecret"}, map[string]any{"name": "other-pullsecret"}},
				"ingress|" + ingress + ".spec.ingressClassName":  "nginx-internal",
				"ingress|" + ingress + ".spec.rules[0].host":     "viz.example.org",
				"ingress|" + ingress + ".spec.tls[0].secretName": "data-manager-api-tls",
				"xr|status.viz.url":                              "https://viz.example.org/instance-3af1f24e",
			},
		},
		"EmptyPullSecretListReplacesDefault": {
			reason: "A per-instance list of pull secrets replaces the default, even when it is empty.",
			env:    map[string]string{EnvIngressDomain: "env.example.org", EnvImagePullSecret: "env-pullsecret"},
			xr:     minimalXR,
			patch:  func(p *fieldpath.Paved) error { return p.SetValue("spec.imDataManager.imagePullSecrets", []any{}) },
			want: want{
				"deployment|" + podSpec + ".imagePullSecrets": "<absent: spec.forProvider.manifest.spec.template.spec.imagePullSecrets: no such field>",
			},
		},
		"LatestTagIsAlwaysPulled": {
			reason: "The moving tag latest, in any case, is pulled every time.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch:  func(p *fieldpath.Paved) error { return p.SetValue("spec.imDataManager.imageTag", "LaTeSt") },
			want:   want{"deployment|" + containerPath + ".imagePullPolicy": "Always"},
		},
		"StableTagIsAlwaysPulled": {
			reason: "The moving tag stable is pulled every time.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch:  func(p *fieldpath.Paved) error { return p.SetValue("spec.imDataManager.imageTag", "stable") },
			want:   want{"deployment|" + containerPath + ".imagePullPolicy": "Always"},
		},
		"VersionTagIsPulledIfNotPresent": {
			reason: "A fixed version tag is pulled only when the node lacks it.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want:   want{"deployment|" + containerPath + ".imagePullPolicy": "IfNotPresent"},
		},
		"TLSSecretWinsOverCertIssuer": {
			reason: "With a TLS secret the Ingress uses it and asks cert-manager for nothing.",
			env:    map[string]string{EnvIngressDomain: "env.example.org", EnvIngressCertIssuer: "issuer", EnvIngressTLSSecret: "wildcard-tls"},
			xr:     minimalXR,
			want: want{
				"ingress|" + ingress + ".spec.tls":             []any{map[string]any{"hosts": []any{"env.example.org"}, "secretName": "wildcard-tls"}},
				"ingress|" + ingress + ".metadata.annotations": map[string]any{"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
			},
		},
		"CertIssuerWithoutTLSSecret": {
			reason: "Without a TLS secret but with an issuer, cert-manager fills the secret <name>-tls.",
			env:    map[string]string{EnvIngressDomain: "env.example.org", EnvIngressCertIssuer: "issuer"},
			xr:     minimalXR,
			want: want{
				"ingress|" + ingress + ".spec.tls":                                             []any{map[string]any{"hosts": []any{"env.example.org"}, "secretName": "viz-min-tls"}},
				"ingress|" + ingress + ".metadata.annotations[cert-manager.io/cluster-issuer]": "issuer",
			},
		},
		"NeitherTLSSecretNorIssuer": {
			reason: "Without a TLS secret or an issuer the Ingress has no TLS section.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"ingress|" + ingress + ".spec.tls":             "<absent: spec.forProvider.manifest.spec.tls: no such field>",
				"ingress|" + ingress + ".metadata.annotations": map[string]any{"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
				"xr|status.viz.url":                            "https://env.example.org/viz-min",
			},
		},
		"LabelsGoOnThePodAndNameTheInstance": {
			reason: "DM labels join the selector label on the Pod, and the instance-id and owner labels fill the DM_ variables.",
			xr:     dmXR,
			want: want{
				"deployment|spec.forProvider.manifest.spec.template.metadata.labels": map[string]any{
					"deployment": "instance-3af1f24e",
					"data-manager.informaticsmatters.com/instance":    "instance-3af1f24e",
					"data-manager.informaticsmatters.com/instance-id": "instance-3af1f24e-id",
					"data-manager.informaticsmatters.com/owner":       "dlister",
					"data-manager.informaticsmatters.com/purpose":     "APPLICATION",
				},
				"deployment|spec.forProvider.manifest.spec.selector.matchLabels": map[string]any{"deployment": "instance-3af1f24e"},
				"deployment|" + containerPath + ".env[2]":                        map[string]any{"name": "DM_INSTANCE_ID", "value": "instance-3af1f24e-id"},
				"deployment|" + containerPath + ".env[3]":                        map[string]any{"name": "DM_INSTANCE_OWNER", "value": "dlister"},
			},
		},
		"SelectorLabelWithTheSameValueIsHarmless": {
			reason: "A DM label deployment=<name> agrees with the selector, so it is accepted.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch: func(p *fieldpath.Paved) error {
				return p.SetValue("spec.imDataManager.labels", []any{"deployment=viz-min"})
			},
			want: want{
				"deployment|spec.forProvider.manifest.spec.template.metadata.labels": map[string]any{"deployment": "viz-min"},
			},
		},
		"NoObservedObjectsMeansNothingReady": {
			reason: "Before Crossplane creates the Objects, none is ready and the XR says it waits for all three.",
			env:    map[string]string{EnvIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"xr|status.viz.url": "https://env.example.org/viz-min",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var observed map[string]*fnv1.Resource
			if tc.observed != nil {
				observed = tc.observed(t)
			}
			rsp := run(t, newFunction(tc.env), newRequest(t, patched(t, tc.xr, tc.patch), tc.input, observed))
			for _, r := range rsp.GetResults() {
				t.Fatalf("%s\nRunFunction(...): unexpected result: %s", tc.reason, r.GetMessage())
			}
			for key, want := range tc.want {
				name, path, _ := strings.Cut(key, "|")
				if diff := cmp.Diff(want, desiredValue(t, rsp, name, path)); diff != "" {
					t.Errorf("%s\nRunFunction(...): %s %s: -want, +got:\n%s", tc.reason, name, path, diff)
				}
			}
		})
	}
}

// TestRunFunctionReadiness checks that composed readiness follows the
// observed Objects, and that the XR's ResourcesReady condition says why.
func TestRunFunctionReadiness(t *testing.T) {
	cases := map[string]struct {
		reason    string
		observed  func(t *testing.T) map[string]*fnv1.Resource
		wantReady map[string]fnv1.Ready
		wantCond  *fnv1.Condition
	}{
		"NothingObserved": {
			reason: "Objects that do not exist yet are not ready.",
			observed: func(*testing.T) map[string]*fnv1.Resource {
				return nil
			},
			wantReady: map[string]fnv1.Ready{"deployment": fnv1.Ready_READY_FALSE, "service": fnv1.Ready_READY_FALSE, "ingress": fnv1.Ready_READY_FALSE},
			wantCond: &fnv1.Condition{
				Type: TypeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: ReasonWaiting,
				Message: ptrTo("Waiting for: deployment not created yet, service not created yet, ingress not created yet"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"DeploymentNotAvailable": {
			reason: "The Deployment's Object is not Ready until the Deployment is Available, so the XR is not Ready either.",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return allObserved(t, "False")
			},
			wantReady: map[string]fnv1.Ready{"deployment": fnv1.Ready_READY_FALSE, "service": fnv1.Ready_READY_TRUE, "ingress": fnv1.Ready_READY_TRUE},
			wantCond: &fnv1.Condition{
				Type: TypeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: ReasonWaiting,
				Message: ptrTo("Waiting for: deployment not ready"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"SyncFailedIsNotReady": {
			reason: "An Object whose last sync failed is not ready, whatever its stale Ready condition says.",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				o := allObserved(t, "True")
				o["ingress"] = observedObject(t, "True", "False")
				return o
			},
			wantReady: map[string]fnv1.Ready{"deployment": fnv1.Ready_READY_TRUE, "service": fnv1.Ready_READY_TRUE, "ingress": fnv1.Ready_READY_FALSE},
			wantCond: &fnv1.Condition{
				Type: TypeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: ReasonWaiting,
				Message: ptrTo("Waiting for: ingress not ready"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"AllReady": {
			reason: "When every Object is Ready, every composed resource is ready and the condition is True.",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return allObserved(t, "True")
			},
			wantReady: map[string]fnv1.Ready{"deployment": fnv1.Ready_READY_TRUE, "service": fnv1.Ready_READY_TRUE, "ingress": fnv1.Ready_READY_TRUE},
			wantCond: &fnv1.Condition{
				Type: TypeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: ReasonAvailable,
				Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFunction(map[string]string{EnvIngressDomain: "env.example.org"})
			rsp := run(t, f, newRequest(t, toStruct(t, minimalXR), "", tc.observed(t)))
			got := map[string]fnv1.Ready{}
			for n, r := range rsp.GetDesired().GetResources() {
				got[n] = r.GetReady()
			}
			if diff := cmp.Diff(tc.wantReady, got); diff != "" {
				t.Errorf("%s\nRunFunction(...): composed readiness: -want, +got:\n%s", tc.reason, diff)
			}
			var cond *fnv1.Condition
			for _, c := range rsp.GetConditions() {
				if c.GetType() == TypeResourcesReady {
					cond = c
				}
			}
			if diff := cmp.Diff(tc.wantCond, cond, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): %s condition: -want, +got:\n%s", tc.reason, TypeResourcesReady, diff)
			}
		})
	}
}

// TestRunFunctionPassesEarlierStepsThrough checks that resources that earlier
// pipeline steps desired, and the XR status they set, survive this step.
func TestRunFunctionPassesEarlierStepsThrough(t *testing.T) {
	earlier := toStruct(t, "{apiVersion: v1, kind: ConfigMap, data: {a: b}}")
	req := newRequest(t, toStruct(t, minimalXR), "", nil)
	req.Desired = &fnv1.State{
		Composite: &fnv1.Resource{Resource: toStruct(t, "{status: {other: kept}}")},
		Resources: map[string]*fnv1.Resource{"earlier": {Resource: earlier, Ready: fnv1.Ready_READY_TRUE}},
	}
	rsp := run(t, newFunction(map[string]string{EnvIngressDomain: "env.example.org"}), req)

	want := &fnv1.Resource{Resource: toStruct(t, "{apiVersion: v1, kind: ConfigMap, data: {a: b}}"), Ready: fnv1.Ready_READY_TRUE}
	if diff := cmp.Diff(want, rsp.GetDesired().GetResources()["earlier"], protocmp.Transform()); diff != "" {
		t.Errorf("RunFunction(...): earlier step's resource: -want, +got:\n%s", diff)
	}
	if got := desiredValue(t, rsp, "xr", "status.other"); got != "kept" {
		t.Errorf("RunFunction(...): earlier step's XR status: want kept, got %v", got)
	}
	if n := len(rsp.GetDesired().GetResources()); n != 4 {
		t.Errorf("RunFunction(...): want 4 desired resources (1 earlier + 3 composed), got %d", n)
	}
}

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
