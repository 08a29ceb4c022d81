package fn

import (
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestObservedState(t *testing.T) {
	cases := map[string]struct {
		reason   string
		observed map[string]*fnv1.Resource
		want     State
	}{
		"Missing":        {reason: "An Object Crossplane has not created is missing.", want: StateMissing},
		"NoConditions":   {reason: "A new Object without conditions is not ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "", "")}, want: StateUnready},
		"ReadyFalse":     {reason: "Ready=False is not ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "False", "True")}, want: StateUnready},
		"ReadyUnsynced":  {reason: "Ready=True with Synced=False is not ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "False")}, want: StateUnready},
		"ReadyNoSynced":  {reason: "Ready=True without a Synced condition is ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "")}, want: StateReady},
		"ReadyAndSynced": {reason: "Ready=True and Synced=True is ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "True")}, want: StateReady},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Resources: tc.observed}}
			if got := ObservedState(req, NameDeployment); got != tc.want {
				t.Errorf("%s\nObservedState(...): want %s, got %s", tc.reason, tc.want, got)
			}
		})
	}
}
