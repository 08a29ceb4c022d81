package fn

import (
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/resource"
)

// direct returns the manifests as they are, for Crossplane to apply, keyed
// by their objects' names. Crossplane makes the DataVisualisation their
// controller, as the manifests already say, and Kubernetes' garbage
// collector deletes them with it.
func direct(ms []manifest) (map[resource.Name]*structpb.Struct, error) {
	out := make(map[resource.Name]*structpb.Struct, len(ms))
	for _, m := range ms {
		o, err := toManifest(m.object)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot compose the %s", m.name)
		}
		if out[m.name], err = structpb.NewStruct(o); err != nil {
			return nil, errors.Wrapf(err, "cannot convert the %s", m.name)
		}
	}
	return out, nil
}

// directState returns the state of an object that Crossplane composed
// directly and observes. Crossplane derives no readiness for it: a
// Deployment is ready by the rule of the provider mode's readiness policy
// (readinessPolicies), a Service and an Ingress once they exist.
func directState(object resource.Name, observed *structpb.Struct) state {
	if object == nameDeployment && !rolledOut(observed) {
		return stateUnready
	}
	return stateReady
}

// rolledOut reports whether a Deployment has observed its current
// generation and is Available with all its replicas updated and available.
func rolledOut(d *structpb.Struct) bool {
	meta := d.GetFields()["metadata"].GetStructValue().GetFields()
	spec := d.GetFields()["spec"].GetStructValue().GetFields()
	status := d.GetFields()["status"].GetStructValue().GetFields()
	if !equal(status["observedGeneration"], meta["generation"]) ||
		!equal(status["updatedReplicas"], spec["replicas"]) || !equal(status["availableReplicas"], spec["replicas"]) {
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

// equal reports whether two values are the same number; a missing value is
// no number.
func equal(a, b *structpb.Value) bool {
	x, ok := a.GetKind().(*structpb.Value_NumberValue)
	y, ok2 := b.GetKind().(*structpb.Value_NumberValue)
	return ok && ok2 && x.NumberValue == y.NumberValue
}
