package fn

import (
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	"github.com/informaticsmatters/function-squonk2-viz/input/v1beta1"
)

// A mode is how the function composes an instance's Deployment, Service and
// Ingress: wrapped in provider-kubernetes Objects, which apply them, or
// directly, for Crossplane to apply.
type mode v1beta1.Mode

// The modes, and the Input's values for them.
const (
	modeProvider = mode(v1beta1.ModeProvider)
	modeDirect   = mode(v1beta1.ModeDirect)
)

// modes lists the modes, the default first.
var modes = []string{string(modeProvider), string(modeDirect)}

// directSuffix ends the names of the resources composed in the direct mode.
const directSuffix = "-direct"

// composedName is the name, in the Composition pipeline, of the composed
// resource that carries an object (named after its kind). Each mode has
// names of its own, so that Crossplane never takes one mode's composed
// resource for the other's when a DataVisualisation changes Composition: it
// deletes the old resource and composes the new one.
func (m mode) composedName(object resource.Name) resource.Name {
	if m == modeDirect {
		return object + directSuffix
	}
	return object
}

// resources returns the composed resources that carry the manifests, keyed
// by their composed resource names.
func (m mode) resources(ms []manifest, pc providerConfigRef) (map[resource.Name]*structpb.Struct, error) {
	if m == modeDirect {
		return direct(ms)
	}
	return wrap(ms, pc)
}

// state returns how far the composed resource that carries an object has
// got, from what Crossplane observes of it.
func (m mode) state(req *fnv1.RunFunctionRequest, object resource.Name) state {
	r, ok := req.GetObserved().GetResources()[string(m.composedName(object))]
	switch {
	case !ok:
		return stateMissing
	case m == modeDirect:
		return directState(object, r.GetResource())
	default:
		return objectState(r.GetResource())
	}
}
