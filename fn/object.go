package fn

import (
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
)

// The provider-kubernetes namespaced Object that wraps each manifest.
const (
	ObjectAPIVersion = "kubernetes.m.crossplane.io/v1alpha1"
	ObjectKind       = "Object"
)

// The names of the composed resources in the Composition pipeline. Crossplane
// shows them to users, for example in "Unready resources: deployment".
const (
	NameDeployment resource.Name = "deployment"
	NameService    resource.Name = "service"
	NameIngress    resource.Name = "ingress"
)

// ComposedNames lists the composed resources in the order they are reported.
var ComposedNames = []resource.Name{NameDeployment, NameService, NameIngress}

// A ReadinessPolicy is the provider-kubernetes policy that decides when an Object
// is ready, from the object it manages.
type ReadinessPolicy struct {
	Policy   string
	CELQuery string
}

var (
	// deploymentAvailable holds a Deployment's Object unready until the
	// Deployment reports Available.
	deploymentAvailable = ReadinessPolicy{
		Policy:   "DeriveFromCelQuery",
		CELQuery: `has(object.status) && has(object.status.conditions) && object.status.conditions.exists(c, c.type == "Available" && c.status == "True")`,
	}
	// created makes an Object ready once its object exists: a Service and an
	// Ingress have nothing more to wait for that every cluster reports.
	created = ReadinessPolicy{Policy: "SuccessfulCreate"}
)

// Compose returns the instance's Deployment, Service and Ingress, each
// wrapped in a provider-kubernetes Object, keyed by their composed resource
// names, as the protobuf structs a response carries.
func Compose(i *Instance) (map[resource.Name]*structpb.Struct, error) {
	out := make(map[resource.Name]*structpb.Struct, len(ComposedNames))
	for _, c := range []struct {
		name      resource.Name
		manifest  runtime.Object
		readiness ReadinessPolicy
	}{
		{name: NameDeployment, manifest: Deployment(i), readiness: deploymentAvailable},
		{name: NameService, manifest: Service(i), readiness: created},
		{name: NameIngress, manifest: Ingress(i), readiness: created},
	} {
		o, err := Object(c.manifest, c.readiness, i.ProviderConfigRef)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot compose the %s", c.name)
		}
		if out[c.name], err = structpb.NewStruct(o.Object); err != nil {
			return nil, errors.Wrapf(err, "cannot convert the %s", c.name)
		}
	}
	return out, nil
}

// Object wraps a manifest in a provider-kubernetes namespaced Object. The
// Object's own name is left to Crossplane, which generates one from the
// DataVisualisation's name and puts it in the DataVisualisation's namespace.
func Object(manifest runtime.Object, r ReadinessPolicy, pc ProviderConfigRef) (*composed.Unstructured, error) {
	m, err := Manifest(manifest)
	if err != nil {
		return nil, err
	}
	readiness := map[string]any{"policy": r.Policy}
	if r.CELQuery != "" {
		readiness["celQuery"] = r.CELQuery
	}
	o := composed.New()
	o.Object = map[string]any{
		"apiVersion": ObjectAPIVersion,
		"kind":       ObjectKind,
		"spec": map[string]any{
			"providerConfigRef": map[string]any{"kind": pc.Kind, "name": pc.Name},
			"readiness":         readiness,
			"forProvider":       map[string]any{"manifest": m},
		},
	}
	return o, nil
}

// Manifest converts a typed Kubernetes object to the manifest an Object
// applies: only the fields that were set. It drops status, and the nulls and
// empty objects that a typed struct's zero values leave behind, so that the
// provider's server-side apply owns no field the function did not set.
func Manifest(o runtime.Object) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, errors.Wrapf(err, "cannot convert %T to a manifest", o)
	}
	delete(m, "status")
	prune(m)
	return m, nil
}

// prune removes nulls and empty objects from m, deepest first, and reports
// whether m is left empty.
func prune(m map[string]any) bool {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			if prune(v) {
				delete(m, k)
			}
		case []any:
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		}
	}
	return len(m) == 0
}
