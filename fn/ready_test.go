package fn

import (
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestObjectState(t *testing.T) {
	cases := map[string]struct {
		reason string
		object *fnv1.Resource
		want   state
	}{
		"NoConditions":   {reason: "A new Object without conditions is not ready.", object: observedObject(t, "", ""), want: stateUnready},
		"ReadyFalse":     {reason: "Ready=False is not ready.", object: observedObject(t, "False", "True"), want: stateUnready},
		"ReadyUnsynced":  {reason: "Ready=True with Synced=False is not ready.", object: observedObject(t, "True", "False"), want: stateUnready},
		"ReadyNoSynced":  {reason: "Ready=True without a Synced condition is ready.", object: observedObject(t, "True", ""), want: stateReady},
		"ReadyAndSynced": {reason: "Ready=True and Synced=True is ready.", object: observedObject(t, "True", "True"), want: stateReady},
		"SyncedThisGeneration": {
			reason: "Ready=True, synced at the Object's generation, is ready.",
			object: &fnv1.Resource{Resource: toStruct(t, `{metadata: {generation: 2}, status: {conditions: [{type: Ready, status: "True"}, {type: Synced, status: "True", observedGeneration: 2}]}}`)},
			want:   stateReady,
		},
		"SyncedAnEarlierGeneration": {
			reason: "An Object whose spec changed since its provider synced it is being updated: its Ready is that of what it applied before.",
			object: &fnv1.Resource{Resource: toStruct(t, `{metadata: {generation: 3}, status: {conditions: [{type: Ready, status: "True"}, {type: Synced, status: "True", observedGeneration: 2}]}}`)},
			want:   stateUpdating,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := objectState(tc.object.GetResource()); got != tc.want {
				t.Errorf("%s\nobjectState(...): want %s, got %s", tc.reason, tc.want, got)
			}
		})
	}
}

// earlierPod is the Pod template of an instance's earlier spec.
const earlierPod = `{spec: {containers: [{name: viz, image: "app:0.9"}]}}`

// specChangedXR is minimalXR after its spec changed: its status.template
// records the Pod template composed for the earlier spec.
const specChangedXR = minimalXR + `
status:
  template:
    pod: ` + earlierPod + `
    forSpec: sha256:0000000000000000000000000000000000000000000000000000000000000000
`

// TestRunFunctionReadiness checks that composed readiness follows the
// observed Objects, and that the XR's ResourcesReady condition says why.
func TestRunFunctionReadiness(t *testing.T) {
	cases := map[string]struct {
		reason    string
		input     string
		xr        string // minimalXR unless set
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
				Message: ptrTo("Waiting for: deployment, service, ingress"),
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
				Message: ptrTo("Waiting for: deployment"),
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
				Message: ptrTo("Waiting for: ingress"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"DirectNothingObserved": {
			reason: "In the direct mode, objects that do not exist yet are not ready, under the direct mode's names.",
			input:  directInput,
			observed: func(*testing.T) map[string]*fnv1.Resource {
				return nil
			},
			wantReady: map[string]fnv1.Ready{"deployment-direct": fnv1.Ready_READY_FALSE, "service-direct": fnv1.Ready_READY_FALSE, "ingress-direct": fnv1.Ready_READY_FALSE},
			wantCond: &fnv1.Condition{
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
				Message: ptrTo("Waiting for: deployment-direct, service-direct, ingress-direct"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"DirectDeploymentNotRolledOut": {
			reason: "In the direct mode, the function itself holds the Deployment not ready until it has rolled out; the Service and the Ingress are ready as they exist.",
			input:  directInput,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{
					"deployment-direct": observedDirect(t, nameDeployment, `{observedGeneration: 1, replicas: 1, unavailableReplicas: 1}`),
					"service-direct":    observedDirect(t, nameService, ""),
					"ingress-direct":    observedDirect(t, nameIngress, ""),
				}
			},
			wantReady: map[string]fnv1.Ready{"deployment-direct": fnv1.Ready_READY_FALSE, "service-direct": fnv1.Ready_READY_TRUE, "ingress-direct": fnv1.Ready_READY_TRUE},
			wantCond: &fnv1.Condition{
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
				Message: ptrTo("Waiting for: deployment-direct"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"DirectAllReady": {
			reason: "In the direct mode, a rolled-out Deployment, a Service and an Ingress make every composed resource ready.",
			input:  directInput,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{
					"deployment-direct": observedDirect(t, nameDeployment, rolledOutStatus),
					"service-direct":    observedDirect(t, nameService, ""),
					"ingress-direct":    observedDirect(t, nameIngress, ""),
				}
			},
			wantReady: map[string]fnv1.Ready{"deployment-direct": fnv1.Ready_READY_TRUE, "service-direct": fnv1.Ready_READY_TRUE, "ingress-direct": fnv1.Ready_READY_TRUE},
			wantCond: &fnv1.Condition{
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: reasonAvailable,
				Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"ReadyOnThePodOfAnEarlierSpec": {
			reason: "Crossplane observes before it applies: once the spec changed, a Ready Object whose manifest carries the earlier Pod template is about to roll out, so the XR is not Ready on the old Pod.",
			xr:     specChangedXR,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				o := allObserved(t, "True")
				withPodTemplate(t, modeProvider, o["deployment"], structpb.NewStructValue(toStruct(t, earlierPod)))
				return o
			},
			wantReady: map[string]fnv1.Ready{"deployment": fnv1.Ready_READY_FALSE, "service": fnv1.Ready_READY_TRUE, "ingress": fnv1.Ready_READY_TRUE},
			wantCond: &fnv1.Condition{
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
				Message: ptrTo("Waiting for: deployment"),
				Target:  fnv1.Target_TARGET_COMPOSITE.Enum(),
			},
		},
		"DirectRolledOutOnThePodOfAnEarlierSpec": {
			reason: "In the direct mode, once the spec changed, a rolled-out Deployment observed before this call's new Pod template is applied is not ready.",
			input:  directInput,
			xr:     specChangedXR,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{
					"deployment-direct": withPodTemplate(t, modeDirect, observedDirect(t, nameDeployment, rolledOutStatus),
						structpb.NewStructValue(toStruct(t, earlierPod))),
					"service-direct": observedDirect(t, nameService, ""),
					"ingress-direct": observedDirect(t, nameIngress, ""),
				}
			},
			wantReady: map[string]fnv1.Ready{"deployment-direct": fnv1.Ready_READY_FALSE, "service-direct": fnv1.Ready_READY_TRUE, "ingress-direct": fnv1.Ready_READY_TRUE},
			wantCond: &fnv1.Condition{
				Type: typeResourcesReady, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reasonWaiting,
				Message: ptrTo("Waiting for: deployment-direct"),
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
			xr := minimalXR
			if tc.xr != "" {
				xr = tc.xr
			}
			rsp := run(t, f, asApplied(t, f, newRequest(t, toStruct(t, xr), tc.input, tc.observed(t))))
			got := map[string]fnv1.Ready{}
			for n, r := range rsp.GetDesired().GetResources() {
				got[n] = r.GetReady()
			}
			if diff := cmp.Diff(tc.wantReady, got); diff != "" {
				t.Errorf("%s\nRunFunction(...): composed readiness: -want, +got:\n%s", tc.reason, diff)
			}
			cond := conditionOf(rsp, typeResourcesReady)
			if diff := cmp.Diff(tc.wantCond, cond, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): %s condition: -want, +got:\n%s", tc.reason, typeResourcesReady, diff)
			}
		})
	}
}

// TestDeploymentReadinessRule checks the one rule of a Deployment's
// readiness, as each mode applies it, on the states a Deployment passes
// through: the provider mode's query, evaluated as provider-kubernetes does
// (cel-go, the observed object as "object"), and the direct mode's
// rolledOut.
func TestDeploymentReadinessRule(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("object", cel.AnyType))
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(readinessPolicies[nameDeployment].celQuery)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	program, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	const available = `{type: Available, status: "True"}`
	cases := map[string]struct {
		reason     string
		deployment string
		want       bool
		// providerWant, when set, is the provider mode's answer where it
		// differs: its policy is part of every Object's spec, which a
		// release does not rewrite under running instances.
		providerWant *bool
	}{
		"JustCreated": {
			reason:     "A Deployment the controller has not seen yet has no status.",
			deployment: `{metadata: {generation: 1}, spec: {replicas: 1}}`,
		},
		"AvailableWithItsReplica": {
			reason:     "The current generation, observed, with its updated replica available: ready.",
			deployment: `{metadata: {generation: 1}, spec: {replicas: 1}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [` + available + `]}}`,
			want:       true,
		},
		"ChangeNotObservedYet": {
			reason:     "After a change, the status still describes the old generation's Pod: not ready.",
			deployment: `{metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [` + available + `]}}`,
		},
		"NewPodNotAvailableYet": {
			reason:     "The new generation's Pod is created but not available (Recreate took the old one down): not ready.",
			deployment: `{metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, unavailableReplicas: 1, conditions: [{type: Available, status: "False"}]}}`,
		},
		"OnlyTheOldPodAvailable": {
			reason:     "An available Pod that is not of the current template does not count.",
			deployment: `{metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 2, replicas: 1, availableReplicas: 1, conditions: [` + available + `]}}`,
		},
		"ScaledByHand": {
			reason:     "Scaled to 3 by hand, with one replica available: not ready until it is put back.",
			deployment: `{metadata: {generation: 3}, spec: {replicas: 3}, status: {observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 1, conditions: [` + available + `]}}`,
		},
		"OldReplicaSetStatusNotCaughtUp": {
			reason: "Recreate has started the new Pod, and the old ReplicaSet's stale status still counts its Pod available: " +
				"two replicas, one updated, one available. Not ready in the direct mode; the provider mode's policy still says ready.",
			deployment:   `{metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1, conditions: [` + available + `]}}`,
			providerWant: ptr.To(true),
		},
		"CountsRightButNotAvailable": {
			reason:     "Every count right, but the Available condition False: not ready.",
			deployment: `{metadata: {generation: 1}, spec: {replicas: 1}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [{type: Available, status: "False"}]}}`,
		},
		"NoConditions": {
			reason:     "Every count right, but no conditions yet: not ready.",
			deployment: `{metadata: {generation: 1}, spec: {replicas: 1}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1}}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var object map[string]any
			if err := yaml.Unmarshal([]byte(tc.deployment), &object); err != nil {
				t.Fatal(err)
			}
			got, _, err := program.Eval(map[string]any{"object": object})
			if err != nil {
				t.Fatalf("%s\nEval(...): %v", tc.reason, err)
			}
			if want := ptr.Deref(tc.providerWant, tc.want); got.Value() != want {
				t.Errorf("%s\nprovider mode: Eval(...): want %v, got %v", tc.reason, want, got.Value())
			}
			if got := rolledOut(toStruct(t, tc.deployment)); got != tc.want {
				t.Errorf("%s\ndirect mode: rolledOut(...): want %v, got %v", tc.reason, tc.want, got)
			}
		})
	}
}
