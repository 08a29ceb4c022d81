package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// settingsCM is the settings ConfigMap as Crossplane fetches it.
func settingsCM(t *testing.T, version, data string) map[string]*fnv1.Resources {
	t.Helper()
	return map[string]*fnv1.Resources{requiredSettings: {Items: []*fnv1.Resource{{Resource: toStruct(t,
		`{apiVersion: v1, kind: ConfigMap, metadata: {name: fn, namespace: crossplane-system, resourceVersion: "`+version+`"}, data: `+data+`}`)}}}}
}

// TestRunFunctionReadsItsSettingsConfigMap checks the settings ConfigMap
// that SVO_SETTINGS_CONFIGMAP names: required of Crossplane on every call,
// so that Crossplane watches it, and once fetched, its data are the
// settings in place of the environment.
func TestRunFunctionReadsItsSettingsConfigMap(t *testing.T) {
	env := map[string]string{envSettingsConfigMap: "crossplane-system/fn", envIngressDomain: "env.example.org", envImagePullSecret: "env-pull"}
	cases := map[string]struct {
		reason   string
		required map[string]*fnv1.Resources
		want     map[string]any // values by desired resource and path
		fatal    string
	}{
		"BeforeItIsFetchedTheEnvironmentStandsIn": {
			reason: "Crossplane's first call of a reconcile has no ConfigMap yet: the environment's settings are used.",
			want: map[string]any{
				"xr|status.viz.url": "https://env.example.org/viz-min", "deployment|" + podSpec + ".imagePullSecrets[0].name": "env-pull",
			},
		},
		"ItsValuesReplaceTheEnvironment": {
			reason:   "Once fetched, the ConfigMap's values are the settings, and one it lacks is gone, though the environment has it.",
			required: settingsCM(t, "7", "{INGRESS_DOMAIN: cm.example.org}"),
			want: map[string]any{
				"xr|status.viz.url": "https://cm.example.org/viz-min", "deployment|" + podSpec + ".imagePullSecrets": "<absent>",
			},
		},
		"ABadValueNamesItsKey": {
			reason:   "A value that is no setting is a Fatal result naming the ConfigMap's key.",
			required: settingsCM(t, "8", "{INGRESS_DOMAIN: cm.example.org, SVO_MAX_CPU: lots}"),
			fatal:    `configMap[crossplane-system/fn].data[SVO_MAX_CPU]: Invalid value: "lots"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newRequest(t, toStruct(t, minimalXR), "", nil)
			req.RequiredResources = tc.required
			rsp := run(t, newFunction(env), req)
			want := &fnv1.ResourceSelector{
				ApiVersion: "v1", Kind: "ConfigMap", Namespace: ptrTo("crossplane-system"),
				Match: &fnv1.ResourceSelector_MatchName{MatchName: "fn"},
			}
			if diff := cmp.Diff(want, rsp.GetRequirements().GetResources()[requiredSettings], protocmp.Transform()); diff != "" {
				t.Errorf("%s\nthe ConfigMap required: -want +got:\n%s", tc.reason, diff)
			}
			if tc.fatal != "" {
				if len(rsp.GetResults()) == 0 || !strings.Contains(rsp.GetResults()[0].GetMessage(), tc.fatal) {
					t.Errorf("%s\nwant a Fatal result containing %q, got %v", tc.reason, tc.fatal, rsp.GetResults())
				}
				return
			}
			for at, v := range tc.want {
				name, path, _ := strings.Cut(at, "|")
				got := desiredValue(t, rsp, name, path)
				if s, ok := got.(string); ok && v == "<absent>" && strings.HasPrefix(s, "<absent") {
					continue
				}
				if diff := cmp.Diff(v, got); diff != "" {
					t.Errorf("%s\n%s: -want +got:\n%s", tc.reason, at, diff)
				}
			}
		})
	}
}

// TestRunFunctionComposesAfreshForANewConfigMap checks that a cached
// composition is not served once the settings ConfigMap has changed.
func TestRunFunctionComposesAfreshForANewConfigMap(t *testing.T) {
	f := newFunction(map[string]string{envSettingsConfigMap: "crossplane-system/fn"})
	xr := patched(t, minimalXR, func(p *fieldpath.Paved) error {
		if err := p.SetString("metadata.uid", "uid-1"); err != nil {
			return err
		}
		return p.SetNumber("metadata.generation", 1)
	})
	for _, tc := range []struct{ version, domain string }{{"1", "a.example.org"}, {"1", "a.example.org"}, {"2", "b.example.org"}} {
		req := newRequest(t, xr, "", nil)
		req.RequiredResources = settingsCM(t, tc.version, "{INGRESS_DOMAIN: "+tc.domain+"}")
		if got := desiredValue(t, run(t, f, req), "xr", "status.viz.url"); got != "https://"+tc.domain+"/viz-min" {
			t.Errorf("ConfigMap version %s: want the URL of %s, got %v", tc.version, tc.domain, got)
		}
	}
}
