package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestObservedState(t *testing.T) {
	cases := map[string]struct {
		reason   string
		observed map[string]*fnv1.Resource
		want     state
	}{
		"Missing":        {reason: "An Object Crossplane has not created is missing.", want: stateMissing},
		"NoConditions":   {reason: "A new Object without conditions is not ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "", "")}, want: stateUnready},
		"ReadyFalse":     {reason: "Ready=False is not ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "False", "True")}, want: stateUnready},
		"ReadyUnsynced":  {reason: "Ready=True with Synced=False is not ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "False")}, want: stateUnready},
		"ReadyNoSynced":  {reason: "Ready=True without a Synced condition is ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "")}, want: stateReady},
		"ReadyAndSynced": {reason: "Ready=True and Synced=True is ready.", observed: map[string]*fnv1.Resource{"deployment": observedObject(t, "True", "True")}, want: stateReady},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := &fnv1.RunFunctionRequest{Observed: &fnv1.State{Resources: tc.observed}}
			if got := observedState(req, nameDeployment); got != tc.want {
				t.Errorf("%s\nobservedState(...): want %s, got %s", tc.reason, tc.want, got)
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
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
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
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
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
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
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
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: reasonAvailable,
				Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
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
				if c.GetType() == typeResourcesReady {
					cond = c
				}
			}
			if diff := cmp.Diff(tc.wantCond, cond, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): %s condition: -want, +got:\n%s", tc.reason, typeResourcesReady, diff)
			}
		})
	}
}
