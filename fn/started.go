package fn

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

// The condition that says whether the instance has started (its Pod is
// Ready), and, while it has not, why: the reason and the cluster's own
// message.
const (
	typeStarted                 = "Started"
	reasonStarted               = "Started"
	reasonStarting              = "Starting"
	reasonClaimNotFound         = "ClaimNotFound"
	reasonUnschedulable         = "Unschedulable"
	reasonReplicaFailure        = "ReplicaFailure"
	reasonStartDeadlineExceeded = "StartDeadlineExceeded"
)

// failingWaitingReasons are the kubelet's reasons for a waiting container
// that will not start without a change: the condition carries each as its
// reason.
var failingWaitingReasons = []string{
	"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
	"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError",
}

// The names of the resources the function requires of Crossplane to say why
// an instance has not started: its Pods, by the selector label, and its
// Project claim. Crossplane watches what a function requires, so a change
// to either runs the function again.
const (
	requiredPods  = "pods"
	requiredClaim = "claim"
)

// A start is what the function watches of an instance to say why it has not
// started.
type start struct {
	namespace string
	selector  map[string]string
	claim     string
	deadline  string
}

// requirements are the resources a start is read from.
func (s start) requirements() map[string]*fnv1.ResourceSelector {
	return map[string]*fnv1.ResourceSelector{
		requiredPods: {
			ApiVersion: "v1", Kind: "Pod", Namespace: &s.namespace,
			Match: &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: s.selector}},
		},
		requiredClaim: {
			ApiVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: &s.namespace,
			Match: &fnv1.ResourceSelector_MatchName{MatchName: s.claim},
		},
	}
}

// A startState is whether an instance has started, and if not, why.
type startState struct {
	reason  string
	message string
	// failing is a cause that will not go away by waiting.
	failing bool
}

// readStart says how far the instance's start has got, from its
// Deployment's state and, as Crossplane observes them, its Deployment, its
// Pods and its claim (as the function required them): started once its
// Deployment is ready, else the first failure it finds, in the order a start
// meets them, else starting.
func readStart(req *fnv1.RunFunctionRequest, m mode, s start, deployment state) startState {
	if deployment == stateReady {
		return startState{reason: reasonStarted}
	}
	if claims, fetched := req.GetRequiredResources()[requiredClaim]; fetched && len(claims.GetItems()) == 0 {
		return startState{
			reason: reasonClaimNotFound, failing: true,
			message: fmt.Sprintf("the PersistentVolumeClaim %s/%s (spec.imDataManager.project.claimName) does not exist", s.namespace, s.claim),
		}
	}
	ps := pods(req)
	for _, c := range deploymentConditions(observedDeployment(req, m)) {
		switch {
		case c.Type == "ReplicaFailure" && c.Status == "True":
			return startState{reason: reasonReplicaFailure, message: c.Reason + ": " + c.Message, failing: true}
		case c.Type == "Progressing" && c.Status == "False" && c.Reason == "ProgressDeadlineExceeded":
			return startState{
				reason: reasonStartDeadlineExceeded, failing: true,
				message: fmt.Sprintf("not started within the start deadline (%s); last waiting for: %s", s.deadline, waitingFor(ps)),
			}
		}
	}
	for _, pod := range ps {
		if st, ok := podFailure(pod); ok {
			return st
		}
	}
	return startState{reason: reasonStarting, message: messageStarting}
}

// messageStarting is the Started condition's message while nothing stands
// in the way of the start. It names no stage of the Pod's (scheduled,
// pulled, started, ready): each would change the DataVisualisation's status,
// and make Crossplane reconcile it again, once more per stage. The start
// deadline's message says which stage the Pod last waited in.
const messageStarting = "waiting for its Pod to be scheduled, started and Ready"

// podFailure returns why a Pod cannot start, when it cannot.
func podFailure(pod *corev1.Pod) (startState, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return startState{reason: reasonUnschedulable, message: c.Message, failing: true}, true
		}
	}
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		w := cs.State.Waiting
		if w == nil || !slices.Contains(failingWaitingReasons, w.Reason) {
			continue
		}
		msg := w.Message
		switch w.Reason {
		case "CrashLoopBackOff":
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg = fmt.Sprintf("the container %s exited with code %d (%s); %s", cs.Name, t.ExitCode, t.Reason, w.Message)
			}
		case "ErrImagePull", "ImagePullBackOff", "InvalidImageName":
			msg = fmt.Sprintf("the image %s: %s", cs.Image, w.Message)
		}
		return startState{reason: w.Reason, message: msg, failing: true}, true
	}
	return startState{}, false
}

// waitingFor names the step a start waits on, from its newest Pod (ps are
// oldest first): to be scheduled, the containers to start, or to turn Ready.
func waitingFor(ps []*corev1.Pod) string {
	if len(ps) == 0 {
		return "the Deployment to create the Pod"
	}
	pod := ps[len(ps)-1]
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			return fmt.Sprintf("the Pod %s to be scheduled", pod.Name)
		}
	}
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		if w := cs.State.Waiting; w != nil {
			return fmt.Sprintf("the container %s of the Pod %s to start (%s)", cs.Name, pod.Name, w.Reason)
		}
	}
	return fmt.Sprintf("the Pod %s to be Ready (its readiness probe)", pod.Name)
}

// pods returns the instance's Pods that Crossplane fetched, oldest first.
func pods(req *fnv1.RunFunctionRequest) []*corev1.Pod {
	items := req.GetRequiredResources()[requiredPods].GetItems()
	out := make([]*corev1.Pod, 0, len(items))
	for _, item := range items {
		pod := &corev1.Pod{}
		if err := resource.AsObject(item.GetResource(), pod); err == nil {
			out = append(out, pod)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	return out
}

// observedDeployment returns the instance's Deployment as Crossplane
// observes it: composed directly, or as its Object last saw it.
func observedDeployment(req *fnv1.RunFunctionRequest, m mode) *structpb.Struct {
	r := req.GetObserved().GetResources()[string(m.composedName(nameDeployment))].GetResource()
	if r == nil || m == modeDirect {
		return r
	}
	return r.GetFields()["status"].GetStructValue().GetFields()["atProvider"].GetStructValue().
		GetFields()["manifest"].GetStructValue()
}

// A deploymentCondition is a condition of a Deployment's status.
type deploymentCondition struct {
	Type, Status, Reason, Message string
}

func deploymentConditions(d *structpb.Struct) []deploymentCondition {
	var out []deploymentCondition
	for _, c := range d.GetFields()["status"].GetStructValue().GetFields()["conditions"].GetListValue().GetValues() {
		f := c.GetStructValue().GetFields()
		out = append(out, deploymentCondition{
			Type: f["type"].GetStringValue(), Status: f["status"].GetStringValue(),
			Reason: f["reason"].GetStringValue(), Message: f["message"].GetStringValue(),
		})
	}
	return out
}

// setStarted says on the Started condition whether the instance has
// started, and why not. When it enters a failure (a reason the
// DataVisualisation's condition does not carry yet), a Warning result, which
// Crossplane records as an Event on it, says so once.
func setStarted(rsp *fnv1.RunFunctionResponse, req *fnv1.RunFunctionRequest, st startState) {
	if st.reason == reasonStarted {
		response.ConditionTrue(rsp, typeStarted, reasonStarted)
		return
	}
	response.ConditionFalse(rsp, typeStarted, st.reason).WithMessage(st.message)
	if st.failing && observedReason(req, typeStarted) != st.reason {
		response.Warning(rsp, errors.New(st.reason+": "+st.message)).WithReason(st.reason).TargetComposite()
	}
}

// observedReason is the reason of the DataVisualisation's condition of the
// type, as Crossplane observes it.
func observedReason(req *fnv1.RunFunctionRequest, typ string) string {
	return statusCondition(req.GetObserved().GetComposite().GetResource(), typ)["reason"].GetStringValue()
}

// joinRequirements merges the requirements of the ownership check and of
// the start.
func joinRequirements(sets ...map[string]*fnv1.ResourceSelector) map[string]*fnv1.ResourceSelector {
	out := map[string]*fnv1.ResourceSelector{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}
