package fn

import (
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

// A readinessPolicy is the provider-kubernetes policy that decides when an
// Object is ready, from the object it manages.
type readinessPolicy struct {
	policy   string
	celQuery string
}

// readinessPolicies gives each composed Object the policy of its kind. A
// Deployment's Object is ready once the Deployment has observed its current
// generation and is Available with its updated replicas, so that after a
// change the instance is not ready on its old Pod (the direct mode's rule,
// rolledOut, adds one check that this one lacks: it is part of every
// Object's spec); a Service's and an Ingress's once they exist, as they
// have nothing more to wait for that every cluster reports.
var readinessPolicies = map[resource.Name]readinessPolicy{
	nameDeployment: {
		policy: "DeriveFromCelQuery",
		celQuery: `has(object.status) && has(object.status.observedGeneration) && object.status.observedGeneration == object.metadata.generation` +
			` && has(object.status.updatedReplicas) && object.status.updatedReplicas == object.spec.replicas` +
			` && has(object.status.availableReplicas) && object.status.availableReplicas == object.spec.replicas` +
			` && has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Available" && c.status == "True")`,
	},
	nameService: {policy: "SuccessfulCreate"},
	nameIngress: {policy: "SuccessfulCreate"},
}

// The condition that says whether the instance's Deployment is available and
// its Service and Ingress exist.
const (
	typeResourcesReady = "ResourcesReady"
	reasonAvailable    = "Available"
	reasonWaiting      = "Waiting"
)

// A state is how far a composed resource has got.
type state int

// The states of a composed resource.
const (
	// stateMissing: Crossplane has not created it yet.
	stateMissing state = iota
	// stateUnready: it exists, but is not ready (for the Deployment: not
	// rolled out), or, for an Object, its last sync failed.
	stateUnready
	// stateUpdating: it was ready, but for what it was before a change not
	// yet rolled out: a Deployment observed before this call applies its new
	// Pod template, or an Object whose provider has not yet synced its new
	// spec.
	stateUpdating
	// stateReady: it is ready (for an Object: Ready and Synced).
	stateReady
)

func (s state) String() string {
	switch s {
	case stateReady:
		return "ready"
	case stateUnready:
		return "not ready"
	case stateUpdating:
		return "being updated"
	default:
		return "not created yet"
	}
}

// setResources adds the composed resources to the response, each under its
// mode's name and ready only in the state stateReady, leaves those of earlier
// pipeline steps as they were, and says on the ResourcesReady condition what
// the instance waits for. The message names the resources, not how far each
// has got: it changes only when one turns ready or unready, so that an
// instance's start writes its status, and so makes Crossplane reconcile it
// again, no more often than that.
func setResources(rsp *fnv1.RunFunctionResponse, m mode, resources map[resource.Name]*structpb.Struct, states map[resource.Name]state) {
	if rsp.GetDesired() == nil {
		rsp.Desired = &fnv1.State{}
	}
	if rsp.GetDesired().GetResources() == nil {
		rsp.Desired.Resources = make(map[string]*fnv1.Resource, len(resources))
	}
	var waiting []string
	for _, object := range composedNames {
		name := string(m.composedName(object))
		ready := fnv1.Ready_READY_TRUE
		if states[object] != stateReady {
			ready = fnv1.Ready_READY_FALSE
			waiting = append(waiting, name)
		}
		rsp.Desired.Resources[name] = &fnv1.Resource{Resource: resources[object], Ready: ready}
	}
	if len(waiting) > 0 {
		response.ConditionFalse(rsp, typeResourcesReady, reasonWaiting).WithMessage("Waiting for: " + strings.Join(waiting, ", "))
		return
	}
	response.ConditionTrue(rsp, typeResourcesReady, reasonAvailable)
}

// statusCondition returns the fields of an object's status condition of the
// type; nil when it has none.
func statusCondition(o *structpb.Struct, typ string) map[string]*structpb.Value {
	for _, c := range o.GetFields()["status"].GetStructValue().GetFields()["conditions"].GetListValue().GetValues() {
		if f := c.GetStructValue().GetFields(); f["type"].GetStringValue() == typ {
			return f
		}
	}
	return nil
}

// objectState returns the state of an observed provider-kubernetes Object.
// It reads only the Object's generation and conditions, straight from the
// request, rather than converting the Object (whose status holds the whole
// live object) to a map. An Object whose spec changed since
// provider-kubernetes last synced it (its Synced condition's
// observedGeneration is behind its generation) is being updated: its Ready
// condition is still that of what it applied before.
func objectState(o *structpb.Struct) state {
	ready, synced, syncedGeneration := false, true, 0.0
	for _, c := range o.GetFields()["status"].GetStructValue().GetFields()["conditions"].GetListValue().GetValues() {
		cs := c.GetStructValue().GetFields()
		status := cs["status"].GetStringValue()
		switch cs["type"].GetStringValue() {
		case "Ready":
			ready = status == "True"
		case "Synced":
			synced = status != "False"
			syncedGeneration = cs["observedGeneration"].GetNumberValue()
		}
	}
	generation := o.GetFields()["metadata"].GetStructValue().GetFields()["generation"].GetNumberValue()
	switch {
	case !ready || !synced:
		return stateUnready
	case syncedGeneration != 0 && syncedGeneration < generation:
		return stateUpdating
	}
	return stateReady
}
