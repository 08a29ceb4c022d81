package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation/field"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/informaticsmatters/function-squonk2-viz/input/v1beta1"
)

// comparePaths compares settings, and field paths by the path they print.
var comparePaths = cmp.Options{
	cmp.Comparer(func(a, b *field.Path) bool { return a.String() == b.String() }),
	cmp.AllowUnexported(Settings{}),
}

func envLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestSettingsWithEnvironment(t *testing.T) {
	envPath := func(name string) *field.Path { return field.NewPath("env").Key(name) }
	cases := map[string]struct {
		reason string
		env    map[string]string
		want   func(s *Settings)
	}{
		"NoEnvironmentKeepsDefaults": {
			reason: "With no variables set the built-in defaults stand.",
			want:   func(*Settings) {},
		},
		"EveryVariableOverridesItsSetting": {
			reason: "Each operator variable replaces its default and records where it came from.",
			env: map[string]string{
				envIngressDomain: "d.org", envIngressTLSSecret: "tls", envIngressCertIssuer: "issuer", envImage: "r.org/img",
				envIngressClass: "cls", envImagePullSecret: "pull", envNodeSelectorKey: "k", envNodeSelectorValue: "v",
				envApplyPriorityClass: "true", envPriorityClassName: "prio",
			},
			want: func(s *Settings) {
				s.ingressDomain = setting[string]{Value: "d.org", From: envPath(envIngressDomain)}
				s.ingressTLSSecret = setting[string]{Value: "tls", From: envPath(envIngressTLSSecret)}
				s.ingressCertIssuer = setting[string]{Value: "issuer", From: envPath(envIngressCertIssuer)}
				s.image = setting[string]{Value: "r.org/img", From: envPath(envImage)}
				s.ingressClass = setting[string]{Value: "cls", From: envPath(envIngressClass)}
				s.imagePullSecret = setting[string]{Value: "pull", From: envPath(envImagePullSecret)}
				s.nodeSelectorKey = setting[string]{Value: "k", From: envPath(envNodeSelectorKey)}
				s.nodeSelectorValue = setting[string]{Value: "v", From: envPath(envNodeSelectorValue)}
				s.applyPriorityClass = setting[bool]{Value: true, From: envPath(envApplyPriorityClass)}
				s.priorityClassName = setting[string]{Value: "prio", From: envPath(envPriorityClassName)}
			},
		},
		"AnyValueAppliesThePriorityClass": {
			reason: "As with the operator, any value of SVO_APPLY_POD_PRIORITY_CLASS, even 'no', applies the class.",
			env:    map[string]string{envApplyPriorityClass: "no"},
			want: func(s *Settings) {
				s.applyPriorityClass = setting[bool]{Value: true, From: envPath(envApplyPriorityClass)}
			},
		},
		"ListsAreCommaSeparated": {
			reason: "An SVO_ALLOWED_* list is split on commas, each item trimmed, empty ones dropped; the maxima are read as they are.",
			env: map[string]string{
				envAllowedIngressDomains: "a.org, b.org,,", envAllowedIngressClasses: "internal", envAllowedTLSSecrets: "tls-a,tls-b",
				envAllowedServiceAccounts: "dm-application", envAllowedLabelPrefixes: "example.org/",
				envMaxCPU: "2", envMaxMemory: "8Gi", envMaxProxyBodySize: "0",
			},
			want: func(s *Settings) {
				s.allowedIngressDomains = setting[[]string]{Value: []string{"a.org", "b.org"}, From: envPath(envAllowedIngressDomains)}
				s.allowedIngressClasses = setting[[]string]{Value: []string{"internal"}, From: envPath(envAllowedIngressClasses)}
				s.allowedTLSSecrets = setting[[]string]{Value: []string{"tls-a", "tls-b"}, From: envPath(envAllowedTLSSecrets)}
				s.allowedServiceAccounts = setting[[]string]{Value: []string{"dm-application"}, From: envPath(envAllowedServiceAccounts)}
				s.allowedLabelPrefixes = setting[[]string]{Value: []string{"example.org/"}, From: envPath(envAllowedLabelPrefixes)}
				s.maxCPU = setting[string]{Value: "2", From: envPath(envMaxCPU)}
				s.maxMemory = setting[string]{Value: "8Gi", From: envPath(envMaxMemory)}
				s.maxProxyBodySize = setting[string]{Value: "0", From: envPath(envMaxProxyBodySize)}
			},
		},
		"EmptyVariablesCountAsUnset": {
			reason: "A variable set to the empty string leaves the default in place.",
			env:    map[string]string{envImage: "", envApplyPriorityClass: ""},
			want:   func(*Settings) {},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			want := DefaultSettings()
			tc.want(&want)
			got := DefaultSettings().WithEnvironment(envLookup(tc.env))
			if diff := cmp.Diff(want, got, comparePaths); diff != "" {
				t.Errorf("%s\nWithEnvironment(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSettingsWithInput(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := map[string]struct {
		reason string
		input  *v1beta1.Input
		want   func(s *Settings)
	}{
		"NoInput": {
			reason: "A Composition without an Input changes nothing.",
			want:   func(*Settings) {},
		},
		"EmptyInput": {
			reason: "An Input with no fields changes nothing.",
			input:  &v1beta1.Input{},
			want:   func(*Settings) {},
		},
		"EveryFieldOverridesItsSetting": {
			reason: "Each Input field replaces the setting below it and records the field path.",
			input: &v1beta1.Input{
				IngressDomain: str("d.org"), IngressTLSSecret: str("tls"), IngressCertIssuer: str("issuer"), Image: str("r.org/img"),
				IngressClass: str("cls"), ImagePullSecret: str("pull"),
				NodeSelector:      &v1beta1.NodeSelector{Key: str("k"), Value: str("v")},
				PriorityClass:     &v1beta1.PriorityClass{Apply: ptrTo(true), Name: str("prio")},
				FSGroup:           ptrTo(int64(7)),
				Mode:              ptrTo(v1beta1.ModeDirect),
				ProviderConfigRef: &v1beta1.ProviderConfigReference{Kind: "ProviderConfig", Name: "pc"},
			},
			want: func(s *Settings) {
				s.ingressDomain = setting[string]{Value: "d.org", From: inputPath.Child("ingressDomain")}
				s.ingressTLSSecret = setting[string]{Value: "tls", From: inputPath.Child("ingressTlsSecret")}
				s.ingressCertIssuer = setting[string]{Value: "issuer", From: inputPath.Child("ingressCertIssuer")}
				s.image = setting[string]{Value: "r.org/img", From: inputPath.Child("image")}
				s.ingressClass = setting[string]{Value: "cls", From: inputPath.Child("ingressClass")}
				s.imagePullSecret = setting[string]{Value: "pull", From: inputPath.Child("imagePullSecret")}
				s.nodeSelectorKey = setting[string]{Value: "k", From: inputPath.Child("nodeSelector", "key")}
				s.nodeSelectorValue = setting[string]{Value: "v", From: inputPath.Child("nodeSelector", "value")}
				s.applyPriorityClass = setting[bool]{Value: true, From: inputPath.Child("priorityClass", "apply")}
				s.priorityClassName = setting[string]{Value: "prio", From: inputPath.Child("priorityClass", "name")}
				s.fsGroup = setting[int64]{Value: 7, From: inputPath.Child("fsGroup")}
				s.mode = setting[mode]{Value: modeDirect, From: inputPath.Child("mode")}
				s.providerConfigRef = setting[providerConfigRef]{Value: providerConfigRef{Kind: "ProviderConfig", Name: "pc"}, From: inputPath.Child("providerConfigRef")}
			},
		},
		"AllowedAndMaximaOverrideTheirSettings": {
			reason: "The Input's allowed lists and maxima replace the environment's, and an empty list allows nothing beyond the configured value.",
			input: &v1beta1.Input{
				Allowed: &v1beta1.Allowed{IngressDomains: []string{"a.org"}, ServiceAccounts: []string{}},
				Maxima:  &v1beta1.Maxima{CPU: str("4"), ProxyBodySize: str("10m")},
			},
			want: func(s *Settings) {
				s.allowedIngressDomains = setting[[]string]{Value: []string{"a.org"}, From: inputPath.Child("allowed", "ingressDomains")}
				s.allowedServiceAccounts = setting[[]string]{Value: []string{}, From: inputPath.Child("allowed", "serviceAccounts")}
				s.maxCPU = setting[string]{Value: "4", From: inputPath.Child("maxima", "cpu")}
				s.maxProxyBodySize = setting[string]{Value: "10m", From: inputPath.Child("maxima", "proxyBodySize")}
			},
		},
		"ApplyFalseTurnsThePriorityClassOff": {
			reason: "An Input can turn off a priority class that the environment applies.",
			input:  &v1beta1.Input{PriorityClass: &v1beta1.PriorityClass{Apply: ptrTo(false)}},
			want: func(s *Settings) {
				s.applyPriorityClass = setting[bool]{Value: false, From: inputPath.Child("priorityClass", "apply")}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			base := DefaultSettings().WithEnvironment(envLookup(map[string]string{envApplyPriorityClass: "1"}))
			want := base
			tc.want(&want)
			if diff := cmp.Diff(want, base.withInput(tc.input), comparePaths); diff != "" {
				t.Errorf("%s\nwithInput(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSettingsValidate(t *testing.T) {
	cases := map[string]struct {
		reason string
		env    map[string]string
		want   string
	}{
		"DefaultsAreValid": {
			reason: "The built-in defaults need nothing more, bar an ingress domain, which the XR may bring.",
		},
		"BadImageNamesTheVariable": {
			reason: "An image with a tag is rejected, naming the variable.",
			env:    map[string]string{envImage: "ghcr.io/org/app:1.0"},
			want:   `env[SVO_IMAGE]: Invalid value: "ghcr.io/org/app:1.0"`,
		},
		"BadPriorityClassIsCheckedOnlyWhenApplied": {
			reason: "A bad priority class name matters once the class is applied.",
			env:    map[string]string{envApplyPriorityClass: "y", envPriorityClassName: "Bad Name"},
			want:   `env[SVO_DEFAULT_POD_PRIORITY_CLASS]: Invalid value: "Bad Name"`,
		},
		"BadNodeSelectorValue": {
			reason: "A node selector value must be a valid label value.",
			env:    map[string]string{envNodeSelectorValue: "not ok"},
			want:   `env[SVO_POD_NODE_SELECTOR_VALUE]: Invalid value: "not ok"`,
		},
		"BadCertIssuer": {
			reason: "A cert-manager issuer must be a valid object name.",
			env:    map[string]string{envIngressCertIssuer: "Lets Encrypt"},
			want:   `env[INGRESS_CERT_ISSUER]: Invalid value: "Lets Encrypt"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ""
			if errs := DefaultSettings().WithEnvironment(envLookup(tc.env)).Validate(); len(errs) > 0 {
				got = errs.ToAggregate().Error()
			}
			if tc.want == "" && got != "" || tc.want != "" && !contains(got, tc.want) {
				t.Errorf("%s\nValidate(): want %q, got %q", tc.reason, tc.want, got)
			}
		})
	}
}

func TestSettingsAllows(t *testing.T) {
	cases := map[string]struct {
		reason string
		env    map[string]string
		dm     imDataManager
		want   []string // each error's text, in order
	}{
		"NothingPickedIsAllowed": {
			reason: "A DataVisualisation that picks nothing of its own gets the platform's values.",
		},
		"TheConfiguredValuesAreAllowed": {
			reason: "Naming the configured value, or the default service account, is always allowed.",
			env:    map[string]string{envIngressDomain: "viz.example.org", envIngressTLSSecret: "viz-tls"},
			dm:     imDataManager{IngressDomain: "viz.example.org", IngressClass: "nginx", IngressTLSSecret: "viz-tls", ServiceAccountName: "default"},
		},
		"ListedValuesAreAllowed": {
			reason: "A value an SVO_ALLOWED_* list names is allowed.",
			env: map[string]string{
				envAllowedIngressDomains: "staging.example.org", envAllowedIngressClasses: "internal",
				envAllowedTLSSecrets: "staging-tls", envAllowedServiceAccounts: "dm-application",
			},
			dm: imDataManager{IngressDomain: "staging.example.org", IngressClass: "internal", IngressTLSSecret: "staging-tls", ServiceAccountName: "dm-application"},
		},
		"EveryOtherValueIsRefusedNamingWhatIsAllowed": {
			reason: "Each value the platform does not allow is an error naming the field, the value, what is allowed and where the list comes from.",
			env:    map[string]string{envIngressDomain: "viz.example.org", envAllowedIngressDomains: "staging.example.org"},
			dm:     imDataManager{IngressDomain: "shop.other.example", IngressClass: "internal", IngressTLSSecret: "other-tls", ServiceAccountName: "data-manager"},
			want: []string{
				`spec.imDataManager.ingressClass: Invalid value: "internal": is not a value the platform allows: it allows "nginx" (the configured value, and default.allowed.ingressClasses)`,
				`spec.imDataManager.ingressDomain: Invalid value: "shop.other.example": is not a value the platform allows: it allows "viz.example.org", "staging.example.org" (the configured value, and env[SVO_ALLOWED_INGRESS_DOMAINS])`,
				`spec.imDataManager.ingressTlsSecret: Invalid value: "other-tls": is not a value the platform allows: it allows none (the configured value, and default.allowed.tlsSecrets)`,
				`spec.imDataManager.serviceAccountName: Invalid value: "data-manager": is not a value the platform allows: it allows "default" (the configured value, and default.allowed.serviceAccounts)`,
			},
		},
		"AMalformedValueIsRefusedForItsForm": {
			reason: "A value of the wrong form is refused for that, before what the platform allows.",
			dm:     imDataManager{IngressDomain: "10.1.2.3"},
			want:   []string{`spec.imDataManager.ingressDomain: Invalid value: "10.1.2.3": must be a DNS name, not an IP address`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, err := range DefaultSettings().WithEnvironment(envLookup(tc.env)).allows(&tc.dm) {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nallows(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRunFunctionSaysWhichReleaseAnInputNeeds checks the Fatal result for an
// Input field this Function does not know: a Configuration newer than the
// Function names the release its Compositions were built for.
func TestRunFunctionSaysWhichReleaseAnInputNeeds(t *testing.T) {
	cases := map[string]struct {
		reason string
		input  string
		want   string
	}{
		"ANewerConfiguration": {
			reason: "An Input built for a newer release names it, and this one.",
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, metadata: {annotations: {viz.fn.squonk.it/function-version: v0.3.0}}, rollout2: {start: x}}",
			want: `cannot read the function's Input (input): unknown field "rollout2": the Configuration is newer than this Function: ` +
				"its Composition was built for function-squonk2-viz v0.3.0 (the Input's annotation viz.fn.squonk.it/function-version), " +
				"and this Function is v0.2.0; install function-squonk2-viz v0.3.0",
		},
		"AMisspeltSettingOfThisRelease": {
			reason: "An Input built for this release with a field it does not know has a misspelt setting.",
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, metadata: {annotations: {viz.fn.squonk.it/function-version: v0.2.0}}, ingressDomian: e.org}",
			want: `cannot read the function's Input (input): unknown field "ingressDomian": ` +
				"this Function (function-squonk2-viz v0.2.0) has no such setting; see the README's Configuration",
		},
		"AnInputOfNoRelease": {
			reason: "An Input that names no release, as one written by hand, has a misspelt setting.",
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, ingressDomian: e.org}",
			want: `cannot read the function's Input (input): unknown field "ingressDomian": ` +
				"this Function (function-squonk2-viz v0.2.0) has no such setting; see the README's Configuration",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := run(t, newFunction(map[string]string{envIngressDomain: "e.org"}), newRequest(t, toStruct(t, minimalXR), tc.input, nil))
			var got string
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					got = r.GetMessage()
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nthe Fatal result: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
