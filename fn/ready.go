package fn

import (
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// A State is how far a composed Object has got.
type State int

// The states of a composed Object.
const (
	// StateMissing: Crossplane has not created the Object yet.
	StateMissing State = iota
	// StateUnready: the Object exists, but is not Ready (for the
	// Deployment: not Available), or its last sync failed.
	StateUnready
	// StateReady: the Object is Ready and Synced.
	StateReady
)

func (s State) String() string {
	switch s {
	case StateReady:
		return "ready"
	case StateUnready:
		return "not ready"
	default:
		return "not created yet"
	}
}

// ObservedState returns the state of the observed composed resource name. It
// reads only the Object's conditions, straight from the request, rather than
// converting every observed resource (whose status holds the whole live
// object) to a map.
func ObservedState(req *fnv1.RunFunctionRequest, name resource.Name) State {
	r, ok := req.GetObserved().GetResources()[string(name)]
	if !ok {
		return StateMissing
	}
	ready, synced := false, true
	for _, c := range structField(r.GetResource(), "status").GetStructValue().GetFields()["conditions"].GetListValue().GetValues() {
		cs := c.GetStructValue()
		status := structField(cs, "status").GetStringValue()
		switch structField(cs, "type").GetStringValue() {
		case "Ready":
			ready = status == "True"
		case "Synced":
			synced = status != "False"
		}
	}
	if ready && synced {
		return StateReady
	}
	return StateUnready
}

func structField(s *structpb.Struct, name string) *structpb.Value {
	return s.GetFields()[name]
}

// Readiness returns the readiness of each composed resource from its observed
// state, and a summary of those that are not ready, for example
// "deployment not ready, ingress not created yet", or "" when all are.
func Readiness(states map[resource.Name]State) (map[resource.Name]fnv1.Ready, string) {
	ready := make(map[resource.Name]fnv1.Ready, len(ComposedNames))
	var waiting []string
	for _, name := range ComposedNames {
		if states[name] == StateReady {
			ready[name] = fnv1.Ready_READY_TRUE
			continue
		}
		ready[name] = fnv1.Ready_READY_FALSE
		waiting = append(waiting, string(name)+" "+states[name].String())
	}
	return ready, strings.Join(waiting, ", ")
}
