package fn

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// Where an earlier call left the template a later call keeps.
const (
	keptInStatus = "status"   // status.template, as this release writes it
	keptInObject = "object"   // an earlier release: the Object's manifest only
	keptLive     = "live"     // an earlier release, direct: the live Deployment only
	keptNowhere  = "new"      // a new instance
	keptEdited   = "edited"   // status.template, and a hand-edited live Deployment
	firstCall    = "earlier"  // the template the earlier call composed
	secondCall   = "this one" // the template this call composes afresh
)

// TestRunFunctionKeepsThePodTemplate checks which Pod template an instance's
// Deployment carries when the function's settings change under it: the one
// it runs until its own spec changes or a rollout reaches it, and what its
// TemplateCurrent condition and status.template say. Each case composes the
// instance once with the earlier settings, as Crossplane would record it, and
// then again.
func TestRunFunctionKeepsThePodTemplate(t *testing.T) {
	earlier := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const older = `{INGRESS_DOMAIN: viz.example.org, SVO_POD_NODE_SELECTOR_VALUE: old-pool}`
	cases := map[string]struct {
		reason    string
		mode      string // the Input's mode
		kept      string
		env       string // the settings of this call
		newSpec   bool   // this call's spec.imDataManager differs
		want      string // which call's template the Deployment carries
		condition *fnv1.Condition
		ttl       time.Duration
	}{
		"ANewInstanceTakesTheCurrentTemplate": {
			reason: "An instance composed for the first time gets the current template, recorded in its status.",
			kept:   keptNowhere, env: `{INGRESS_DOMAIN: viz.example.org}`, want: secondCall,
			condition: templateCurrent(),
		},
		"UnchangedSettingsAreCurrent": {
			reason: "When nothing changed, the instance runs the current template.",
			kept:   keptInStatus, env: older, want: secondCall,
			condition: templateCurrent(),
		},
		"ANewSettingKeepsTheTemplateAndSaysWhatDiffers": {
			reason: "A changed node selector leaves a running instance's template alone, and its condition names the field.",
			kept:   keptInStatus, env: `{INGRESS_DOMAIN: viz.example.org}`, want: firstCall,
			condition: olderTemplate("runs the Pod template composed by 2026-11-01T10:00:00Z; the current one differs in " +
				"spec.template.spec.nodeSelector[informaticsmatters.com/purpose-application]. It takes the current one when spec.imDataManager changes."),
		},
		"ANewSpecTakesTheCurrentTemplate": {
			reason: "When the Data Manager changes the instance's spec, it gets the current template.",
			kept:   keptInStatus, env: `{INGRESS_DOMAIN: viz.example.org}`, newSpec: true, want: secondCall,
			condition: templateCurrent(),
		},
		"AnEarlierReleaseKeepsTheObjectsManifest": {
			reason: "An instance an earlier release composed (no status.template) keeps the template of its Object's manifest.",
			kept:   keptInObject, env: `{INGRESS_DOMAIN: viz.example.org}`, want: firstCall,
			condition: olderTemplate("runs the Pod template composed by an earlier release; the current one differs in " +
				"spec.template.spec.nodeSelector[informaticsmatters.com/purpose-application]. It takes the current one when spec.imDataManager changes."),
		},
		"AnEarlierReleaseOfTheSameTemplateIsCurrent": {
			reason: "In the direct mode an earlier release's live Deployment, with the API server's defaults, is the current template when it has all of it.",
			mode:   "Direct", kept: keptLive, env: older, want: secondCall,
			condition: templateCurrent(),
		},
		"AHandEditIsUndone": {
			reason: "What is kept is what the function composed, not the live Deployment a hand edit changed.",
			mode:   "Direct", kept: keptEdited, env: older, want: secondCall,
			condition: templateCurrent(),
		},
		"ARolloutThatReachedTheInstanceGivesTheCurrentTemplate": {
			reason: "A rollout that started after the template was composed, all at once, gives the current template.",
			kept:   keptInStatus, env: `{INGRESS_DOMAIN: viz.example.org, SVO_ROLLOUT_START: "2026-12-01T09:00:00Z", SVO_ROLLOUT_OVER: "0"}`, want: secondCall,
			condition: templateCurrent(),
		},
		"ARolloutOnItsWayAsksForACallWhenItReachesTheInstance": {
			reason: "Before the rollout reaches the instance, it keeps its template, says when, and has Crossplane call then.",
			kept:   keptInStatus, env: `{INGRESS_DOMAIN: viz.example.org, SVO_ROLLOUT_START: "2026-12-01T10:00:00Z", SVO_ROLLOUT_OVER: "10h"}`, want: firstCall,
			condition: olderTemplate("runs the Pod template composed by 2026-11-01T10:00:00Z; the current one differs in " +
				"spec.template.spec.nodeSelector[informaticsmatters.com/purpose-application]. It takes the current one when spec.imDataManager changes, " +
				"or at 2026-12-01T12:54:06Z, when the rollout reaches it."),
			ttl: 2*time.Hour + 54*time.Minute + 6*time.Second + 721253788, // uid-1's moment of the ten hours.
		},
		"ARolloutBeforeTheTemplateWasComposedDoesNotReachIt": {
			reason: "A rollout rolls each template composed before it began, once: not one composed since.",
			kept:   keptInStatus, env: `{INGRESS_DOMAIN: viz.example.org, SVO_ROLLOUT_START: "2026-10-01T09:00:00Z", SVO_ROLLOUT_OVER: "0"}`, want: firstCall,
			condition: olderTemplate("runs the Pod template composed by 2026-11-01T10:00:00Z; the current one differs in " +
				"spec.template.spec.nodeSelector[informaticsmatters.com/purpose-application]. It takes the current one when spec.imDataManager changes."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			input := "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, mode: Provider}"
			composed := nameDeployment
			if tc.mode == "Direct" {
				input, composed = directInput, directNames[nameDeployment]
			}
			xr := func(tag string) *structpb.Struct {
				return patched(t, minimalXR, func(p *fieldpath.Paved) error {
					if err := p.SetString("metadata.uid", "uid-1"); err != nil {
						return err
					}
					return p.SetString("spec.imDataManager.imageTag", tag)
				})
			}
			first := newFunction(envOf(t, older))
			first.now = func() time.Time { return earlier }
			before := run(t, first, newRequest(t, xr("0.1.6"), input, nil))
			earlierTemplate := podTemplateOf(mode(tc.mode), before.GetDesired().GetResources()[string(composed)].GetResource())

			observedXR := xr("0.1.6")
			if tc.newSpec {
				observedXR = xr("0.1.7")
			}
			var observed map[string]*fnv1.Resource
			switch tc.kept {
			case keptInStatus, keptEdited:
				observedXR.Fields["status"] = before.GetDesired().GetComposite().GetResource().GetFields()["status"]
			}
			switch tc.kept {
			case keptInStatus, keptInObject:
				observed = map[string]*fnv1.Resource{string(composed): before.GetDesired().GetResources()[string(composed)]}
			case keptLive, keptEdited:
				live := proto.Clone(before.GetDesired().GetResources()[string(composed)].GetResource()).(*structpb.Struct) //nolint:forcetypeassert // A clone.
				p := fieldpath.Pave(live.AsMap())
				if err := p.SetString("spec.template.spec.dnsPolicy", "ClusterFirst"); err != nil {
					t.Fatal(err)
				}
				if tc.kept == keptEdited {
					if err := p.SetString("spec.template.spec.containers[0].image", "registry.example.org/other:6.6.6"); err != nil {
						t.Fatal(err)
					}
				}
				s, err := structpb.NewStruct(p.UnstructuredContent())
				if err != nil {
					t.Fatal(err)
				}
				observed = map[string]*fnv1.Resource{string(composed): {Resource: s}}
			}

			f := newFunction(envOf(t, tc.env))
			f.now = func() time.Time { return now }
			rsp := run(t, f, newRequest(t, observedXR, input, controlled(t, "uid-1", observed)))
			if len(rsp.GetResults()) > 0 && rsp.GetResults()[0].GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
				t.Fatalf("%s\nFatal: %s", tc.reason, rsp.GetResults()[0].GetMessage())
			}
			got := podTemplateOf(mode(tc.mode), rsp.GetDesired().GetResources()[string(composed)].GetResource())
			current := podTemplateOf(mode(tc.mode), run(t, f, newRequest(t, observedXR, input, nil)).GetDesired().GetResources()[string(composed)].GetResource())
			want := map[string]*structpb.Value{firstCall: earlierTemplate, secondCall: current}[tc.want]
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nthe Deployment's Pod template: want the %s call's, -want +got:\n%s", tc.reason, tc.want, diff)
			}
			if diff := cmp.Diff(want, desiredStatusField(rsp, "template", "pod"), protocmp.Transform()); diff != "" {
				t.Errorf("%s\nstatus.template.pod: want the template composed, -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.condition, conditionOf(rsp, typeTemplateCurrent), protocmp.Transform()); diff != "" {
				t.Errorf("%s\nthe TemplateCurrent condition: -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.ttl, rsp.GetMeta().GetTtl().AsDuration()); diff != "" {
				t.Errorf("%s\nthe TTL: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func templateCurrent() *fnv1.Condition {
	return &fnv1.Condition{Type: typeTemplateCurrent, Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: reasonCurrent, Target: fnv1.Target_TARGET_COMPOSITE.Enum()}
}

func olderTemplate(message string) *fnv1.Condition {
	return &fnv1.Condition{
		Type: typeTemplateCurrent, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonOlderTemplate, Message: &message,
		Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
	}
}

// envOf reads an environment written as a YAML map.
func envOf(t *testing.T, y string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range toStruct(t, y).AsMap() {
		env[k], _ = v.(string)
	}
	return env
}

// desiredStatusField returns a field under the desired DataVisualisation's
// status.
func desiredStatusField(rsp *fnv1.RunFunctionResponse, path ...string) *structpb.Value {
	v := rsp.GetDesired().GetComposite().GetResource().GetFields()["status"]
	for _, f := range path {
		v = v.GetStructValue().GetFields()[f]
	}
	return v
}

// TestDifferencesNamesEachField checks the paths the TemplateCurrent
// condition names.
func TestDifferencesNamesEachField(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   string
		want   []string
	}{
		"Equal": {
			reason: "Equal templates differ nowhere.",
			a:      `{spec: {containers: [{name: viz}]}}`, b: `{spec: {containers: [{name: viz}]}}`,
		},
		"AValueAKeyAndAListItem": {
			reason: "A changed value, a key only one has, and an item of a list of the same length are each named by path.",
			a:      `{metadata: {labels: {a.org/x: "1"}}, spec: {containers: [{image: a}], priorityClassName: p}}`,
			b:      `{metadata: {labels: {a.org/x: "2"}}, spec: {containers: [{image: b}]}}`,
			want:   []string{"t.metadata.labels[a.org/x]", "t.spec.containers[0].image", "t.spec.priorityClassName"},
		},
		"ListsOfAnotherLength": {
			reason: "A list of another length is named whole.",
			a:      `{spec: {imagePullSecrets: [{name: a}]}}`, b: `{spec: {imagePullSecrets: [{name: a}, {name: b}]}}`,
			want: []string{"t.spec.imagePullSecrets"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := differences("t", structpb.NewStructValue(toStruct(t, tc.a)), structpb.NewStructValue(toStruct(t, tc.b)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
