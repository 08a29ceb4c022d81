package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// TestRunFunction checks what docs/behaviour.md says the function composes,
// and how its settings apply, through RunFunction, one rule per case, by the
// values it puts in the response.
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
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"deployment|" + containerPath + ".image":                                                            "ghcr.io/informaticsmatters/squonk2-viz-app:0.1.6",
				"deployment|" + containerPath + ".resources.requests.cpu":                                           "10m",
				"deployment|" + containerPath + ".resources.requests.memory":                                        "256Mi",
				"deployment|" + containerPath + ".resources.limits.cpu":                                             "1",
				"deployment|" + containerPath + ".resources.limits.memory":                                          "1Gi",
				"deployment|" + podSpec + ".serviceAccountName":                                                     "default",
				"deployment|" + podSpec + ".securityContext.runAsUser":                                              float64(1000),
				"deployment|" + podSpec + ".securityContext.runAsGroup":                                             float64(100),
				"deployment|" + podSpec + ".securityContext.fsGroup":                                                float64(100),
				"deployment|" + podSpec + ".nodeSelector[informaticsmatters.com/purpose-application]":               "yes",
				"deployment|" + podSpec + ".imagePullSecrets":                                                       "<absent: spec.forProvider.manifest.spec.template.spec.imagePullSecrets: no such field>",
				"deployment|" + podSpec + ".priorityClassName":                                                      "<absent: spec.forProvider.manifest.spec.template.spec.priorityClassName: no such field>",
				"deployment|" + containerPath + ".env[2].value":                                                     "viz-min",
				"deployment|" + containerPath + ".env[3].value":                                                     "Unknown",
				"ingress|" + ingressManifest + ".spec.ingressClassName":                                             "nginx",
				"ingress|" + ingressManifest + ".metadata.annotations[nginx.ingress.kubernetes.io/proxy-body-size]": "1m",
				"ingress|spec.providerConfigRef":                                                                    map[string]any{"kind": "ClusterProviderConfig", "name": "default"},
				"xr|status.viz.url":                                                                                 "https://env.example.org/viz-min",
			},
		},
		"EnvironmentWinsOverDefaults": {
			reason: "Each operator environment variable replaces its built-in default.",
			env: map[string]string{
				envIngressDomain: "env.example.org", envImage: "env.example.org/viz", envIngressClass: "env-class",
				envImagePullSecret: "env-pullsecret", envNodeSelectorKey: "env.example.org/pool", envNodeSelectorValue: "env",
				envApplyPriorityClass: "yes", envPriorityClassName: "env-priority", envIngressTLSSecret: "env-tls",
			},
			xr: minimalXR,
			want: want{
				"deployment|" + containerPath + ".image":                        "env.example.org/viz:0.1.6",
				"deployment|" + podSpec + ".imagePullSecrets[0].name":           "env-pullsecret",
				"deployment|" + podSpec + ".nodeSelector[env.example.org/pool]": "env",
				"deployment|" + podSpec + ".priorityClassName":                  "env-priority",
				"ingress|" + ingressManifest + ".spec.ingressClassName":         "env-class",
				"ingress|" + ingressManifest + ".spec.tls[0].secretName":        "env-tls",
				"xr|status.viz.url": "https://env.example.org/viz-min",
			},
		},
		"InputWinsOverEnvironment": {
			reason: "Each Input field replaces the environment variable of the same setting.",
			env: map[string]string{
				envIngressDomain: "env.example.org", envImage: "env.example.org/viz", envIngressClass: "env-class",
				envImagePullSecret: "env-pullsecret", envPriorityClassName: "env-priority", envIngressCertIssuer: "env-issuer",
			},
			input: fullInput,
			xr:    minimalXR,
			want: want{
				"deployment|" + containerPath + ".image":                                               "registry.example.org/viz/app:0.1.6",
				"deployment|" + podSpec + ".imagePullSecrets[0].name":                                  "input-pullsecret",
				"deployment|" + podSpec + ".nodeSelector[example.org/pool]":                            "viz",
				"deployment|" + podSpec + ".priorityClassName":                                         "input-priority",
				"deployment|" + podSpec + ".securityContext.fsGroup":                                   float64(2000),
				"ingress|" + ingressManifest + ".spec.ingressClassName":                                "input-class",
				"ingress|" + ingressManifest + ".metadata.annotations[cert-manager.io/cluster-issuer]": "letsencrypt",
				"service|spec.providerConfigRef":                                                       map[string]any{"kind": "ProviderConfig", "name": "dm-cluster"},
				"xr|status.viz.url":                                                                    "https://input.example.org/viz-min",
			},
		},
		"InputEmptyStringClearsEnvironment": {
			reason: "An Input field set to the empty string turns off the environment's value.",
			env:    map[string]string{envIngressDomain: "env.example.org", envIngressTLSSecret: "env-tls", envImagePullSecret: "env-pullsecret"},
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, ingressTlsSecret: '', imagePullSecret: '', nodeSelector: {key: ''}}",
			xr:     minimalXR,
			want: want{
				"ingress|" + ingressManifest + ".spec.tls":    "<absent: spec.forProvider.manifest.spec.tls: no such field>",
				"deployment|" + podSpec + ".imagePullSecrets": "<absent: spec.forProvider.manifest.spec.template.spec.imagePullSecrets: no such field>",
				"deployment|" + podSpec + ".nodeSelector":     "<absent: spec.forProvider.manifest.spec.template.spec.nodeSelector: no such field>",
			},
		},
		"XRWinsOverInput": {
			reason: "The DataVisualisation's own ingress settings and pull secrets replace the Input's.",
			input:  fullInput,
			xr:     dmXR,
			env:    allowingDMXR(nil),
			want: want{
				"deployment|" + podSpec + ".imagePullSecrets":            []any{map[string]any{"name": "svo-pullsecret"}, map[string]any{"name": "other-pullsecret"}},
				"ingress|" + ingressManifest + ".spec.ingressClassName":  "nginx-internal",
				"ingress|" + ingressManifest + ".spec.rules[0].host":     "viz.example.org",
				"ingress|" + ingressManifest + ".spec.tls[0].secretName": "data-manager-api-tls",
				"xr|status.viz.url": "https://viz.example.org/instance-3af1f24e",
			},
		},
		"EmptyPullSecretListReplacesDefault": {
			reason: "A per-instance list of pull secrets replaces the default, even when it is empty.",
			env:    map[string]string{envIngressDomain: "env.example.org", envImagePullSecret: "env-pullsecret"},
			xr:     minimalXR,
			patch:  func(p *fieldpath.Paved) error { return p.SetValue("spec.imDataManager.imagePullSecrets", []any{}) },
			want: want{
				"deployment|" + podSpec + ".imagePullSecrets": "<absent: spec.forProvider.manifest.spec.template.spec.imagePullSecrets: no such field>",
			},
		},
		"LatestTagIsAlwaysPulled": {
			reason: "The moving tag latest, in any case, is pulled every time.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch:  func(p *fieldpath.Paved) error { return p.SetValue("spec.imDataManager.imageTag", "LaTeSt") },
			want:   want{"deployment|" + containerPath + ".imagePullPolicy": "Always"},
		},
		"StableTagIsAlwaysPulled": {
			reason: "The moving tag stable is pulled every time.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch:  func(p *fieldpath.Paved) error { return p.SetValue("spec.imDataManager.imageTag", "stable") },
			want:   want{"deployment|" + containerPath + ".imagePullPolicy": "Always"},
		},
		"VersionTagIsPulledIfNotPresent": {
			reason: "A fixed version tag is pulled only when the node lacks it.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want:   want{"deployment|" + containerPath + ".imagePullPolicy": "IfNotPresent"},
		},
		"TLSSecretWinsOverCertIssuer": {
			reason: "With a TLS secret the Ingress uses it and asks cert-manager for nothing.",
			env:    map[string]string{envIngressDomain: "env.example.org", envIngressCertIssuer: "issuer", envIngressTLSSecret: "wildcard-tls"},
			xr:     minimalXR,
			want: want{
				"ingress|" + ingressManifest + ".spec.tls":             []any{map[string]any{"hosts": []any{"env.example.org"}, "secretName": "wildcard-tls"}},
				"ingress|" + ingressManifest + ".metadata.annotations": map[string]any{"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
			},
		},
		"CertIssuerWithoutTLSSecret": {
			reason: "Without a TLS secret but with an issuer, cert-manager fills the secret <name>-tls.",
			env:    map[string]string{envIngressDomain: "env.example.org", envIngressCertIssuer: "issuer"},
			xr:     minimalXR,
			want: want{
				"ingress|" + ingressManifest + ".spec.tls":                                             []any{map[string]any{"hosts": []any{"env.example.org"}, "secretName": "viz-min-tls"}},
				"ingress|" + ingressManifest + ".metadata.annotations[cert-manager.io/cluster-issuer]": "issuer",
			},
		},
		"NeitherTLSSecretNorIssuer": {
			reason: "Without a TLS secret or an issuer the Ingress has no TLS section.",
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			want: want{
				"ingress|" + ingressManifest + ".spec.tls":             "<absent: spec.forProvider.manifest.spec.tls: no such field>",
				"ingress|" + ingressManifest + ".metadata.annotations": map[string]any{"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
				"xr|status.viz.url": "https://env.example.org/viz-min",
			},
		},
		"LabelsGoOnThePodAndNameTheInstance": {
			reason: "DM labels join the selector label on the Pod, and the instance-id and owner labels fill the DM_ variables.",
			xr:     dmXR,
			env:    allowingDMXR(nil),
			want: want{
				"deployment|spec.forProvider.manifest.spec.template.metadata.labels": map[string]any{
					"deployment":             "instance-3af1f24e",
					"app.kubernetes.io/name": "squonk2-viz",
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
			env:    map[string]string{envIngressDomain: "env.example.org"},
			xr:     minimalXR,
			patch: func(p *fieldpath.Paved) error {
				return p.SetValue("spec.imDataManager.labels", []any{"deployment=viz-min"})
			},
			want: want{
				"deployment|spec.forProvider.manifest.spec.template.metadata.labels": map[string]any{"deployment": "viz-min", "app.kubernetes.io/name": "squonk2-viz"},
			},
		},
		"URLIsWrittenBeforeAnyObjectExists": {
			reason: "status.viz.url is written as soon as the resources are composed, before Crossplane creates any Object (TestRunFunctionReadiness checks what is ready then).",
			env:    map[string]string{envIngressDomain: "env.example.org"},
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
