package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// pod is a required Pod of the instance viz-min with the supplied status.
func pod(t *testing.T, name, created, status string) *fnv1.Resource {
	t.Helper()
	return &fnv1.Resource{Resource: toStruct(t, `{apiVersion: v1, kind: Pod, metadata: {name: `+name+`, namespace: dm, creationTimestamp: "`+created+`", labels: {deployment: viz-min}}, status: `+status+`}`)}
}

// TestRunFunctionSaysWhyItHasNotStarted checks the Started condition: from
// the instance's claim, Deployment and Pods, as Crossplane fetches and
// observes them, it says the first failure a start meets, with the
// cluster's own message, or what the start waits for; and a Warning result
// (an Event on the DataVisualisation) only when the instance enters a
// failure.
func TestRunFunctionSaysWhyItHasNotStarted(t *testing.T) {
	const deadline = `{observedGeneration: 1, conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]}`
	cases := map[string]struct {
		reason      string
		input       string
		observed    func(t *testing.T) map[string]*fnv1.Resource
		required    func(t *testing.T) map[string]*fnv1.Resources
		xrCondition string // the reason of the DataVisualisation's Started condition, as observed
		want        *fnv1.Condition
		wantWarning string
	}{
		"NothingFetchedYetIsStarting": {
			reason: "Before Crossplane fetches anything, the instance is starting, waiting for its Pod.",
			want:   started("False", reasonStarting, messageStarting),
		},
		"TheClaimDoesNotExist": {
			reason: "A claim that Crossplane fetched and did not find is named, with the field that names it.",
			required: func(*testing.T) map[string]*fnv1.Resources {
				return map[string]*fnv1.Resources{requiredClaim: {}}
			},
			want:        started("False", reasonClaimNotFound, "the PersistentVolumeClaim dm/project-claim (spec.imDataManager.project.claimName) does not exist"),
			wantWarning: "ClaimNotFound: the PersistentVolumeClaim dm/project-claim (spec.imDataManager.project.claimName) does not exist",
		},
		"AFailureAlreadyReportedWarnsNoMore": {
			reason: "An instance that stays in a failure has its condition, and no second Warning.",
			required: func(*testing.T) map[string]*fnv1.Resources {
				return map[string]*fnv1.Resources{requiredClaim: {}}
			},
			xrCondition: reasonClaimNotFound,
			want:        started("False", reasonClaimNotFound, "the PersistentVolumeClaim dm/project-claim (spec.imDataManager.project.claimName) does not exist"),
		},
		"TheImageCannotBePulled": {
			reason: "ImagePullBackOff names the image and carries the kubelet's message.",
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return map[string]*fnv1.Resources{requiredPods: {Items: []*fnv1.Resource{pod(t, "viz-min-1", "2026-12-01T10:00:00Z",
					`{containerStatuses: [{name: viz, image: "ghcr.io/informaticsmatters/squonk2-viz-app:9.9", state: {waiting: {reason: ImagePullBackOff, message: "Back-off pulling image"}}}]}`)}}}
			},
			want:        started("False", "ImagePullBackOff", "the image ghcr.io/informaticsmatters/squonk2-viz-app:9.9: Back-off pulling image"),
			wantWarning: "ImagePullBackOff: the image ghcr.io/informaticsmatters/squonk2-viz-app:9.9: Back-off pulling image",
		},
		"TheContainerCrashes": {
			reason: "CrashLoopBackOff says the last exit code.",
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return map[string]*fnv1.Resources{requiredPods: {Items: []*fnv1.Resource{pod(t, "viz-min-1", "2026-12-01T10:00:00Z",
					`{containerStatuses: [{name: viz, state: {waiting: {reason: CrashLoopBackOff, message: "back-off 10s"}}, lastState: {terminated: {exitCode: 137, reason: OOMKilled}}}]}`)}}}
			},
			want:        started("False", "CrashLoopBackOff", "the container viz exited with code 137 (OOMKilled); back-off 10s"),
			wantWarning: "CrashLoopBackOff: the container viz exited with code 137 (OOMKilled); back-off 10s",
		},
		"ThePodCannotBeScheduled": {
			reason: "Unschedulable carries the scheduler's message.",
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return map[string]*fnv1.Resources{requiredPods: {Items: []*fnv1.Resource{pod(t, "viz-min-1", "2026-12-01T10:00:00Z",
					`{conditions: [{type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}]}`)}}}
			},
			want:        started("False", reasonUnschedulable, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."),
			wantWarning: "Unschedulable: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
		},
		"AStartingPodsStageIsNotWritten": {
			reason: "While nothing fails, the condition says the same whatever stage the Pod is in, so that each stage does not write the status again.",
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return map[string]*fnv1.Resources{requiredPods: {Items: []*fnv1.Resource{
					pod(t, "viz-min-new", "2026-12-01T10:05:00Z", `{conditions: [{type: PodScheduled, status: "True"}], containerStatuses: [{name: viz, state: {waiting: {reason: ContainerCreating}}}]}`),
				}}}
			},
			want: started("False", reasonStarting, messageStarting),
		},
		"TheDeadlineNamesTheNewestPodsStage": {
			reason: "Past the start deadline the condition names the stage the newest Pod waits in.",
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, mode: Direct, startDeadline: 5m}",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{"deployment-direct": observedDirect(t, nameDeployment, deadline)}
			},
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return map[string]*fnv1.Resources{requiredPods: {Items: []*fnv1.Resource{
					pod(t, "viz-min-new", "2026-12-01T10:05:00Z", `{conditions: [{type: PodScheduled, status: "True"}], containerStatuses: [{name: viz, state: {waiting: {reason: ContainerCreating}}}]}`),
					pod(t, "viz-min-old", "2026-12-01T10:00:00Z", `{conditions: [{type: PodScheduled, status: "True"}], containerStatuses: [{name: viz, state: {running: {}}}]}`),
				}}}
			},
			want: started("False", reasonStartDeadlineExceeded,
				"not started within the start deadline (5m0s); last waiting for: the container viz of the Pod viz-min-new to start (ContainerCreating)"),
			wantWarning: "StartDeadlineExceeded: not started within the start deadline (5m0s); last waiting for: the container viz of the Pod viz-min-new to start (ContainerCreating)",
		},
		"TheDeploymentCannotMakeItsPod": {
			reason: "ReplicaFailure carries the Deployment's message (here, in the direct mode, from the Deployment Crossplane observes).",
			input:  directInput,
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{"deployment-direct": observedDirect(t, nameDeployment,
					`{conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate, message: "pods \"viz-min-1\" is forbidden: exceeded quota"}]}`)}
			},
			want:        started("False", reasonReplicaFailure, `FailedCreate: pods "viz-min-1" is forbidden: exceeded quota`),
			wantWarning: `ReplicaFailure: FailedCreate: pods "viz-min-1" is forbidden: exceeded quota`,
		},
		"TheStartDeadlinePassed": {
			reason: "Past the start deadline (the Deployment's progress deadline) the condition says so, naming the deadline and what it last waited for.",
			input:  "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, mode: Direct, startDeadline: 5m}",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return map[string]*fnv1.Resource{"deployment-direct": observedDirect(t, nameDeployment, deadline)}
			},
			required: func(t *testing.T) map[string]*fnv1.Resources {
				t.Helper()
				return map[string]*fnv1.Resources{requiredPods: {Items: []*fnv1.Resource{pod(t, "viz-min-1", "2026-12-01T10:00:00Z", `{conditions: [{type: PodScheduled, status: "True"}]}`)}}}
			},
			want:        started("False", reasonStartDeadlineExceeded, "not started within the start deadline (5m0s); last waiting for: the Pod viz-min-1 to be Ready (its readiness probe)"),
			wantWarning: "StartDeadlineExceeded: not started within the start deadline (5m0s); last waiting for: the Pod viz-min-1 to be Ready (its readiness probe)",
		},
		"AReadyDeploymentHasStarted": {
			reason: "Once the Deployment is ready the instance has started, and the condition clears.",
			observed: func(t *testing.T) map[string]*fnv1.Resource {
				t.Helper()
				return allObserved(t, "True")
			},
			xrCondition: "ImagePullBackOff",
			want:        started("True", reasonStarted, ""),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			xr := minimalXR
			if tc.xrCondition != "" {
				xr += "status: {conditions: [{type: Started, status: \"False\", reason: " + tc.xrCondition + "}]}\n"
			}
			var observed map[string]*fnv1.Resource
			if tc.observed != nil {
				observed = tc.observed(t)
			}
			req := newRequest(t, toStruct(t, xr), tc.input, observed)
			if tc.required != nil {
				req.RequiredResources = tc.required(t)
			}
			f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
			rsp := run(t, f, asApplied(t, f, req))
			got := conditionOf(rsp, typeStarted)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s\n%s condition: -want, +got:\n%s", tc.reason, typeStarted, diff)
			}
			var warning string
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_WARNING {
					warning = r.GetMessage()
				}
			}
			if warning != tc.wantWarning {
				t.Errorf("%s\nWarning result: want %q, got %q", tc.reason, tc.wantWarning, warning)
			}
			for _, key := range []string{requiredPods, requiredClaim} {
				if rsp.GetRequirements().GetResources()[key] == nil {
					t.Errorf("%s\nthe function does not require the instance's %s", tc.reason, key)
				}
			}
		})
	}
}

func started(status, reason, message string) *fnv1.Condition {
	c := &fnv1.Condition{Type: typeStarted, Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: reason, Target: fnv1.Target_TARGET_COMPOSITE.Enum()}
	if status == "True" {
		c.Status = fnv1.Status_STATUS_CONDITION_TRUE
	}
	if message != "" {
		c.Message = &message
	}
	return c
}
