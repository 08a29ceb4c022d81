package fn

import (
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/resource"
)

// directState returns the state of an object that Crossplane composed
// directly and observes. Crossplane derives no readiness for it: a
// Deployment is ready once rolled out (rolledOut), a Service and an Ingress
// once they exist.
func directState(object resource.Name, observed *structpb.Struct) state {
	if object == nameDeployment && !rolledOut(observed) {
		return stateUnready
	}
	return stateReady
}

// rolledOut reports whether a Deployment has observed its current
// generation and is Available with all its replicas updated and available,
// and none of an older template left: the rule of the provider mode's
// readiness policy (readinessPolicies), and, as kubectl's rollout status
// has it, status.replicas equal to spec.replicas. The Deployment controller
// sums its ReplicaSets' statuses, so for a moment after Recreate starts the
// new Pod the old ReplicaSet's stale status still counts an available
// replica, beside the updated one.
func rolledOut(d *structpb.Struct) bool {
	meta := d.GetFields()["metadata"].GetStructValue().GetFields()
	spec := d.GetFields()["spec"].GetStructValue().GetFields()
	status := d.GetFields()["status"].GetStructValue().GetFields()
	if !sameNumber(status["observedGeneration"], meta["generation"]) || !sameNumber(status["replicas"], spec["replicas"]) ||
		!sameNumber(status["updatedReplicas"], spec["replicas"]) || !sameNumber(status["availableReplicas"], spec["replicas"]) {
		return false
	}
	for _, c := range status["conditions"].GetListValue().GetValues() {
		cs := c.GetStructValue().GetFields()
		if cs["type"].GetStringValue() == "Available" {
			return cs["status"].GetStringValue() == "True"
		}
	}
	return false
}

// sameNumber reports whether two values are the same number; a missing
// value is no number.
func sameNumber(a, b *structpb.Value) bool {
	x, ok := a.GetKind().(*structpb.Value_NumberValue)
	y, ok2 := b.GetKind().(*structpb.Value_NumberValue)
	return ok && ok2 && x.NumberValue == y.NumberValue
}
