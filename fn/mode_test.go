package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// TestModesComposeTheSameManifests checks that the direct mode composes
// exactly the manifests that the provider mode's Objects apply.
func TestModesComposeTheSameManifests(t *testing.T) {
	cases := map[string]struct {
		reason string
		xr     string
		input  string
	}{
		"DataManagerXR": {
			reason: "A DataVisualisation with every field set.",
			xr:     dmXR,
		},
		"EveryInputSetting": {
			reason: "The Input's settings shape both modes' manifests alike.",
			xr:     minimalXR,
			input:  fullInput,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFunction(allowingDMXR(map[string]string{envIngressDomain: "env.example.org"}))
			provider := run(t, f, newRequest(t, toStruct(t, tc.xr), tc.input, nil))
			direct := run(t, f, newRequest(t, toStruct(t, tc.xr), tc.input+"\nmode: Direct", nil))
			for _, object := range composedNames {
				p := provider.GetDesired().GetResources()[string(modeProvider.composedName(object))].GetResource()
				d := direct.GetDesired().GetResources()[string(modeDirect.composedName(object))].GetResource()
				if p == nil || d == nil {
					t.Fatalf("%s\n%s: want it composed in both modes; provider: %v, direct: %v", tc.reason, object, p != nil, d != nil)
				}
				manifest := p.GetFields()["spec"].GetStructValue().GetFields()["forProvider"].GetStructValue().GetFields()["manifest"].GetStructValue()
				if diff := cmp.Diff(manifest, d, protocmp.Transform()); diff != "" {
					t.Errorf("%s\n%s: the provider mode's manifest, -want, and the direct mode's resource, +got:\n%s", tc.reason, object, diff)
				}
			}
		})
	}
}

// TestModeStates checks how far each mode says a composed resource has got,
// from what Crossplane observes and what the call composes.
func TestModeStates(t *testing.T) {
	pod := structpb.NewStructValue(toStruct(t, `{spec: {containers: [{name: viz, image: "app:1"}]}}`))
	newPod := structpb.NewStructValue(toStruct(t, `{spec: {containers: [{name: viz, image: "app:2"}]}}`))
	defaulted := structpb.NewStructValue(toStruct(t, `{spec: {containers: [{name: viz, image: "app:1", imagePullPolicy: IfNotPresent}], restartPolicy: Always}}`))
	cases := map[string]struct {
		reason   string
		mode     mode
		object   resource.Name
		observed map[string]*fnv1.Resource
		want     state
	}{
		"ProviderMissing": {
			reason: "An Object Crossplane has not created is missing.",
			mode:   modeProvider, object: nameDeployment, want: stateMissing,
		},
		"ProviderReadsItsOwnName": {
			reason: "The provider mode reads the Object under its own name, not the direct mode's.",
			mode:   modeProvider, object: nameService,
			observed: map[string]*fnv1.Resource{"service-direct": observedDirect(t, nameService, "")},
			want:     stateMissing,
		},
		"ProviderObject": {
			reason: "The provider mode reads the Object's conditions.",
			mode:   modeProvider, object: nameService,
			observed: map[string]*fnv1.Resource{"service": observedObject(t, "True", "True")},
			want:     stateReady,
		},
		"ProviderDeploymentOfThisTemplate": {
			reason: "A Ready Object whose manifest carries the Pod template composed now is ready.",
			mode:   modeProvider, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment": withPodTemplate(t, modeProvider, observedObject(t, "True", "True"), pod)},
			want:     stateReady,
		},
		"ProviderDeploymentOfAnOlderTemplate": {
			reason: "A Ready Object whose manifest carries another Pod template is about to roll out: its Ready is the old Pod's.",
			mode:   modeProvider, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment": withPodTemplate(t, modeProvider, observedObject(t, "True", "True"), newPod)},
			want:     stateUpdating,
		},
		"ProviderUnreadyDeploymentOfAnOlderTemplate": {
			reason: "An Object that is not Ready stays not ready, whatever its template.",
			mode:   modeProvider, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment": withPodTemplate(t, modeProvider, observedObject(t, "False", "True"), newPod)},
			want:     stateUnready,
		},
		"DirectMissing": {
			reason: "A Service Crossplane has not created is missing.",
			mode:   modeDirect, object: nameService, want: stateMissing,
		},
		"DirectReadsItsOwnName": {
			reason: "The direct mode does not take the provider mode's Object for its Deployment.",
			mode:   modeDirect, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "True")},
			want:     stateMissing,
		},
		"DirectServiceExists": {
			reason: "A Service is ready once it exists.",
			mode:   modeDirect, object: nameService,
			observed: map[string]*fnv1.Resource{"service-direct": observedDirect(t, nameService, "")},
			want:     stateReady,
		},
		"DirectIngressExists": {
			reason: "An Ingress is ready once it exists.",
			mode:   modeDirect, object: nameIngress,
			observed: map[string]*fnv1.Resource{"ingress-direct": observedDirect(t, nameIngress, "")},
			want:     stateReady,
		},
		"DirectDeploymentRolledOut": {
			reason: "A Deployment is ready once rolled out, its template the one composed now with the API server's defaults.",
			mode:   modeDirect, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment-direct": withPodTemplate(t, modeDirect, observedDirect(t, nameDeployment, rolledOutStatus), defaulted)},
			want:     stateReady,
		},
		"DirectDeploymentRolledOutOnAnOlderTemplate": {
			reason: "A rolled-out Deployment observed before this call's new template is applied is about to roll out.",
			mode:   modeDirect, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment-direct": withPodTemplate(t, modeDirect, observedDirect(t, nameDeployment, rolledOutStatus), newPod)},
			want:     stateUpdating,
		},
		"DirectDeploymentNotRolledOut": {
			reason: "A Deployment without status is not ready.",
			mode:   modeDirect, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment-direct": withPodTemplate(t, modeDirect, observedDirect(t, nameDeployment, ""), pod)},
			want:     stateUnready,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			desired := map[resource.Name]*structpb.Struct{
				nameDeployment: withPodTemplate(t, tc.mode, &fnv1.Resource{Resource: &structpb.Struct{Fields: map[string]*structpb.Value{}}}, pod).GetResource(),
			}
			req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Resources: tc.observed}}
			if got := tc.mode.states(req, desired)[tc.object]; got != tc.want {
				t.Errorf("%s\n%s.states(...)[%s]: want %s, got %s", tc.reason, tc.mode, tc.object, tc.want, got)
			}
		})
	}
}
