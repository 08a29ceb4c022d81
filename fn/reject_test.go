package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func setField(path string, v any) func(p *fieldpath.Paved) error {
	return func(p *fieldpath.Paved) error { return p.SetValue(path, v) }
}

func removeField(path string) func(p *fieldpath.Paved) error {
	return func(p *fieldpath.Paved) error { return p.DeleteField(path) }
}

// TestRunFunctionRejectsBadInput is the bad-input matrix of docs/behaviour.md:
// every input that cannot become a working instance gets one Fatal result
// whose message names the field and the bad value, the same answer every
// time, an InputValid=False condition that carries it, and nothing composed.
func TestRunFunctionRejectsBadInput(t *testing.T) {
	const dm = "spec.imDataManager."
	cases := map[string]struct {
		env       map[string]string
		input     string
		patch     func(p *fieldpath.Paved) error
		wantField string
		wantValue string
	}{
		"MissingImageTag":            {patch: removeField(dm + "imageTag"), wantField: dm + "imageTag", wantValue: "Required value"},
		"EmptyImageTag":              {patch: setField(dm+"imageTag", ""), wantField: dm + "imageTag", wantValue: "Required value"},
		"ImageTagWithSpaces":         {patch: setField(dm+"imageTag", "1.2 beta"), wantField: dm + "imageTag", wantValue: `"1.2 beta"`},
		"ImageTagLikeADigest":        {patch: setField(dm+"imageTag", "sha256:0123abcd"), wantField: dm + "imageTag", wantValue: `"sha256:0123abcd"`},
		"ImageTagNotAString":         {patch: setField(dm+"imageTag", 1.2), wantField: dm + "imageTag", wantValue: "1.2"},
		"LabelWithoutEquals":         {patch: setField(dm+"labels", []any{"owner"}), wantField: dm + "labels[0]", wantValue: `"owner"`},
		"EmptyLabelEntry":            {patch: setField(dm+"labels", []any{"a=b", ""}), wantField: dm + "labels[1]", wantValue: `""`},
		"LabelKeyWithSpace":          {patch: setField(dm+"labels", []any{"bad key=x"}), wantField: dm + "labels[0]", wantValue: `"bad key=x"`},
		"LabelKeyWithBadPrefix":      {patch: setField(dm+"labels", []any{"Bad_Prefix.com/key=x"}), wantField: dm + "labels[0]", wantValue: `"Bad_Prefix.com/key=x"`},
		"LabelValueTooLong":          {patch: setField(dm+"labels", []any{"k=" + strings.Repeat("v", 64)}), wantField: dm + "labels[0]", wantValue: strings.Repeat("v", 64)},
		"LabelValueInvalid":          {patch: setField(dm+"labels", []any{"k=-bad-"}), wantField: dm + "labels[0]", wantValue: `"k=-bad-"`},
		"DuplicateLabelKey":          {patch: setField(dm+"labels", []any{"k=a", "k=b"}), wantField: dm + "labels[1]", wantValue: `"k=b"`},
		"LabelChangesSelector":       {patch: setField(dm+"labels", []any{"deployment=other"}), wantField: dm + "labels[0]", wantValue: `"deployment=other"`},
		"LabelNotAString":            {patch: setField(dm+"labels", []any{"a=b", 42.0}), wantField: dm + "labels[1]", wantValue: "42"},
		"LabelsNotAList":             {patch: setField(dm+"labels", "a=b"), wantField: dm + "labels", wantValue: `"a=b"`},
		"AbsoluteProjectID":          {patch: setField(dm+"project.id", "/etc"), wantField: dm + "project.id", wantValue: `"/etc"`},
		"ProjectIDEscapes":           {patch: setField(dm+"project.id", "p/../../etc"), wantField: dm + "project.id", wantValue: `"p/../../etc"`},
		"MissingProjectID":           {patch: removeField(dm + "project.id"), wantField: dm + "project.id", wantValue: "Required value"},
		"MissingClaim":               {patch: removeField(dm + "project.claimName"), wantField: dm + "project.claimName", wantValue: "Required value"},
		"MissingProject":             {patch: removeField(dm + "project"), wantField: dm + "project.claimName", wantValue: "Required value"},
		"InvalidClaimName":           {patch: setField(dm+"project.claimName", "Bad Claim"), wantField: dm + "project.claimName", wantValue: `"Bad Claim"`},
		"NoIngressDomainAnywhere":    {env: map[string]string{}, wantField: dm + "ingressDomain", wantValue: "INGRESS_DOMAIN"},
		"IngressDomainIsIP":          {patch: setField(dm+"ingressDomain", "10.1.2.3"), wantField: dm + "ingressDomain", wantValue: `"10.1.2.3"`},
		"IngressDomainInvalid":       {patch: setField(dm+"ingressDomain", "viz_example.org"), wantField: dm + "ingressDomain", wantValue: `"viz_example.org"`},
		"IngressTLSSecretInvalid":    {patch: setField(dm+"ingressTlsSecret", "TLS!"), wantField: dm + "ingressTlsSecret", wantValue: `"TLS!"`},
		"IngressClassInvalid":        {patch: setField(dm+"ingressClass", "Nginx Class"), wantField: dm + "ingressClass", wantValue: `"Nginx Class"`},
		"ProxyBodySizeInvalid":       {patch: setField(dm+"ingressProxyBodySize", "lots"), wantField: dm + "ingressProxyBodySize", wantValue: `"lots"`},
		"CPUDoesNotParse":            {patch: setField(dm+"resources.limits.cpu", "two"), wantField: dm + "resources.limits.cpu", wantValue: `"two"`},
		"MemoryDoesNotParse":         {patch: setField(dm+"resources.requests.memory", "2 GB"), wantField: dm + "resources.requests.memory", wantValue: `"2 GB"`},
		"StorageDoesNotParse":        {patch: setField(dm+"resources.limits.storage", "big"), wantField: dm + "resources.limits.storage", wantValue: `"big"`},
		"NegativeMemory":             {patch: setField(dm+"resources.limits.memory", "-1Gi"), wantField: dm + "resources.limits.memory", wantValue: `"-1Gi"`},
		"RequestAboveLimit":          {patch: setField(dm+"resources.requests.cpu", "2"), wantField: dm + "resources.requests.cpu", wantValue: `"2"`},
		"ResourcesNotAnObject":       {patch: setField(dm+"resources", "big"), wantField: dm + "resources", wantValue: `"big"`},
		"RunAsUserRoot":              {patch: setField(dm+"securityContext.runAsUser", 0.0), wantField: dm + "securityContext.runAsUser", wantValue: "Invalid value: 0"},
		"RunAsUserNegative":          {patch: setField(dm+"securityContext.runAsUser", -5.0), wantField: dm + "securityContext.runAsUser", wantValue: "-5"},
		"RunAsUserTooLarge":          {patch: setField(dm+"securityContext.runAsUser", 4294967296.0), wantField: dm + "securityContext.runAsUser", wantValue: "4294967296"},
		"RunAsUserFraction":          {patch: setField(dm+"securityContext.runAsUser", 1000.5), wantField: dm + "securityContext.runAsUser", wantValue: "1000.5"},
		"RunAsUserString":            {patch: setField(dm+"securityContext.runAsUser", "1000"), wantField: dm + "securityContext.runAsUser", wantValue: `"1000"`},
		"RunAsGroupNegative":         {patch: setField(dm+"securityContext.runAsGroup", -1.0), wantField: dm + "securityContext.runAsGroup", wantValue: "-1"},
		"ServiceAccountInvalid":      {patch: setField(dm+"serviceAccountName", "Bad_SA"), wantField: dm + "serviceAccountName", wantValue: `"Bad_SA"`},
		"PullSecretsNotAList":        {patch: setField(dm+"imagePullSecrets", "svo-pullsecret"), wantField: dm + "imagePullSecrets", wantValue: `"svo-pullsecret"`},
		"PullSecretDuplicated":       {patch: setField(dm+"imagePullSecrets", []any{"a", "a"}), wantField: dm + "imagePullSecrets[1]", wantValue: `"a"`},
		"PullSecretInvalid":          {patch: setField(dm+"imagePullSecrets", []any{"Bad Secret"}), wantField: dm + "imagePullSecrets[0]", wantValue: `"Bad Secret"`},
		"ImDataManagerNotAnObject":   {patch: setField("spec.imDataManager", "x"), wantField: "spec.imDataManager", wantValue: `"x"`},
		"MissingNamespace":           {patch: removeField("metadata.namespace"), wantField: "metadata.namespace", wantValue: "Required value"},
		"EnvironmentImageHasTag":     {env: map[string]string{envIngressDomain: "e.org", envImage: "ghcr.io/org/app:1"}, wantField: "env[SVO_IMAGE]", wantValue: `"ghcr.io/org/app:1"`},
		"EnvironmentNodeSelectorKey": {env: map[string]string{envIngressDomain: "e.org", envNodeSelectorKey: "bad key"}, wantField: "env[SVO_POD_NODE_SELECTOR_KEY]", wantValue: `"bad key"`},
		"InputFSGroupNegative":       {input: "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, fsGroup: -1}", wantField: "input.fsGroup", wantValue: "-1"},
		"InputProviderConfigKind":    {input: "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, providerConfigRef: {kind: Secret, name: x}}", wantField: "input.providerConfigRef.kind", wantValue: `"Secret"`},
		"InputFieldOfWrongType":      {input: "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, fsGroup: x}", wantField: "Input.fsGroup", wantValue: "string"},
		"InputUnknownField":          {input: "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, ingressDomian: typo.org}", wantField: "Input", wantValue: "ingressDomian"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = map[string]string{envIngressDomain: "env.example.org"}
			}
			f := newFunction(env)
			req := newRequest(t, patched(t, minimalXR, tc.patch), tc.input, nil)
			rsp := run(t, f, req)

			if n := len(rsp.GetResults()); n != 1 {
				t.Fatalf("RunFunction(...): want exactly one result, got %d: %v", n, rsp.GetResults())
			}
			r := rsp.GetResults()[0]
			if r.GetSeverity() != fnv1.Severity_SEVERITY_FATAL {
				t.Errorf("RunFunction(...): want a Fatal result, got %s", r.GetSeverity())
			}
			for _, want := range []string{tc.wantField, tc.wantValue} {
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
			again := run(t, f, newRequest(t, patched(t, minimalXR, tc.patch), tc.input, nil))
			if diff := cmp.Diff(rsp, again, protocmp.Transform()); diff != "" {
				t.Errorf("RunFunction(...): the same input gave another answer: -first, +second:\n%s", diff)
			}
		})
	}
}
