package fn

import (
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/errors"
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

// directNames are the names of the resources composed in the direct mode:
// each object's name with the suffix -direct.
var directNames = map[resource.Name]resource.Name{
	nameDeployment: nameDeployment + "-direct",
	nameService:    nameService + "-direct",
	nameIngress:    nameIngress + "-direct",
}

// composedName is the name, in the Composition pipeline, of the composed
// resource that carries an object (named after its kind). Each mode has
// names of its own, so that Crossplane never takes one mode's composed
// resource for the other's when a DataVisualisation changes Composition: it
// deletes the old resource and composes the new one.
func (m mode) composedName(object resource.Name) resource.Name {
	if m == modeDirect {
		return directNames[object]
	}
	return object
}

// resources returns the composed resources that carry the manifests, keyed
// by their objects' names, as the protobuf structs a response carries: in
// the provider mode each manifest wrapped in a provider-kubernetes Object
// (object.go), in the direct mode each as it is, for Crossplane to apply.
// Crossplane makes the DataVisualisation their controller, as the manifests
// already say, and Kubernetes' garbage collector deletes them with it.
func (m mode) resources(ms []manifest, pc providerConfigRef) (map[resource.Name]*structpb.Struct, error) {
	out := make(map[resource.Name]*structpb.Struct, len(ms))
	for _, mf := range ms {
		o, err := toManifest(mf.object)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot compose the %s", mf.name)
		}
		if m == modeProvider {
			o = object(o, readinessPolicies[mf.name], pc)
		}
		if out[mf.name], err = structpb.NewStruct(o); err != nil {
			return nil, errors.Wrapf(err, "cannot convert the %s", mf.name)
		}
	}
	return out, nil
}

// states returns how far each composed resource has got, from what
// Crossplane observes of it and what this call composes. Crossplane observes
// before it applies: a Deployment whose observed Pod template lacks part of
// the one composed now is about to roll out, whatever its old Pod says, so
// that an instance is never Ready on the Pod of its previous spec.
func (m mode) states(req *fnv1.RunFunctionRequest, desired map[resource.Name]*structpb.Struct) map[resource.Name]state {
	out := make(map[resource.Name]state, len(composedNames))
	for _, object := range composedNames {
		r, ok := req.GetObserved().GetResources()[string(m.composedName(object))]
		switch {
		case !ok:
			out[object] = stateMissing
		case m == modeDirect:
			out[object] = directState(object, r.GetResource())
		default:
			out[object] = objectState(r.GetResource())
		}
		if object == nameDeployment && out[object] == stateReady &&
			!covers(podTemplateOf(m, r.GetResource()), podTemplateOf(m, desired[nameDeployment])) {
			out[object] = stateUpdating
		}
	}
	return out
}
