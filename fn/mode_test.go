package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

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

func TestModeState(t *testing.T) {
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
			reason: "A Deployment is ready once rolled out.",
			mode:   modeDirect, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment-direct": observedDirect(t, nameDeployment, rolledOutStatus)},
			want:     stateReady,
		},
		"DirectDeploymentNotRolledOut": {
			reason: "A Deployment without status is not ready.",
			mode:   modeDirect, object: nameDeployment,
			observed: map[string]*fnv1.Resource{"deployment-direct": observedDirect(t, nameDeployment, "")},
			want:     stateUnready,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Resources: tc.observed}}
			if got := tc.mode.state(req, tc.object); got != tc.want {
				t.Errorf("%s\n%s.state(..., %s): want %s, got %s", tc.reason, tc.mode, tc.object, tc.want, got)
			}
		})
	}
}
