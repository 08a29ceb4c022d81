package fn

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// The provider-kubernetes namespaced Object that wraps each manifest.
const (
	objectAPIVersion = "kubernetes.m.crossplane.io/v1alpha1"
	objectKind       = "Object"
)

// object wraps a manifest in a provider-kubernetes namespaced Object, with
// the readiness policy of its kind. The Object's own name is left to
// Crossplane, which generates one from the DataVisualisation's name and puts
// it in the DataVisualisation's namespace. The Object watches the object it
// manages, so that the provider hears at once of a change (readiness, an
// edit, a deletion) instead of at its next poll; the provider needs
// --enable-watches for it. Its management policies leave out Delete: when
// the DataVisualisation is deleted, the Object goes at once, and the garbage
// collector deletes the object, which the DataVisualisation owns (see
// objectMeta).
func object(manifest map[string]any, r readinessPolicy, pc providerConfigRef) map[string]any {
	readiness := map[string]any{"policy": r.policy}
	if r.celQuery != "" {
		readiness["celQuery"] = r.celQuery
	}
	return map[string]any{
		"apiVersion": objectAPIVersion,
		"kind":       objectKind,
		"spec": map[string]any{
			"providerConfigRef":  map[string]any{"kind": pc.Kind, "name": pc.Name},
			"readiness":          readiness,
			"watch":              true,
			"managementPolicies": []any{"Observe", "Create", "Update", "LateInitialize"},
			"forProvider":        map[string]any{"manifest": manifest},
		},
	}
}

// toManifest converts a typed Kubernetes object to the manifest an Object
// applies: only the fields that were set. It drops status, and the nulls and
// empty objects that a typed struct's zero values leave behind, so that the
// provider's server-side apply owns no field the function did not set.
func toManifest(o runtime.Object) (map[string]any, error) {
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

// withObjectOwners returns the provider mode's resources with each manifest
// naming its Object, once Crossplane observes the Object (it has a uid only
// then), as an owner beside the DataVisualisation, and the states with each
// object whose owner is new this call updating. The garbage collector
// deletes an object only when all its owners are gone: when the
// DataVisualisation is deleted, it deletes each Object first and its object
// after, so that no Object, still there, makes its object again once the
// collector has deleted it. A new owner changes the Object's spec, so the
// object is updating until the provider has applied it. The owner is added
// once the provider has synced the Object (it has created the object), so
// that the new spec does not race the provider's own writes to the Object,
// while the instance is not Ready or has never been (as from its creation
// until its Pod runs, or while a new Pod template rolls out), and kept once
// applied: a release leaves a running instance as it is.
func withObjectOwners(req *fnv1.RunFunctionRequest, resources map[resource.Name]*structpb.Struct, states map[resource.Name]state, uid string) (map[resource.Name]*structpb.Struct, map[resource.Name]state) {
	if uid == "" {
		return resources, states // A preview owns nothing.
	}
	running := wasReady(req) && !slices.ContainsFunc(composedNames, func(n resource.Name) bool { return states[n] != stateReady })
	var outResources map[resource.Name]*structpb.Struct
	var outStates map[resource.Name]state
	for _, name := range composedNames {
		observed := req.GetObserved().GetResources()[string(modeProvider.composedName(name))].GetResource()
		owner, objectUID := objectOwner(observed)
		if owner == nil {
			continue
		}
		applied := ownedBy(manifestOf(observed), objectUID)
		if !applied && (running || !synced(observed)) {
			continue
		}
		if outResources == nil {
			outResources, outStates = maps.Clone(resources), maps.Clone(states) // The cached resources are shared.
		}
		o := proto.Clone(resources[name]).(*structpb.Struct) //nolint:forcetypeassert // A clone has its original's type.
		owners := metadata(manifestOf(o))["ownerReferences"].GetListValue()
		owners.Values = append(owners.Values, owner)
		outResources[name] = o
		if !applied {
			outStates[name] = min(outStates[name], stateUpdating)
		}
	}
	if outResources == nil {
		return resources, states
	}
	return outResources, outStates
}

// wasReady reports whether the DataVisualisation is Ready, as Crossplane
// last wrote it.
func wasReady(req *fnv1.RunFunctionRequest) bool {
	return statusCondition(req.GetObserved().GetComposite().GetResource(), "Ready")["status"].GetStringValue() == "True"
}

// objectOwner returns an owner reference to an observed Object, and its
// uid; nil when Crossplane observes none (or one without a uid).
func objectOwner(observed *structpb.Struct) (*structpb.Value, string) {
	meta := metadata(observed)
	name, uid := meta["name"].GetStringValue(), meta["uid"].GetStringValue()
	if name == "" || uid == "" {
		return nil, ""
	}
	return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
		"apiVersion": structpb.NewStringValue(objectAPIVersion),
		"kind":       structpb.NewStringValue(objectKind),
		"name":       structpb.NewStringValue(name),
		"uid":        structpb.NewStringValue(uid),
	}}), uid
}

// manifestOf returns the manifest that an Object applies.
func manifestOf(object *structpb.Struct) *structpb.Struct {
	return object.GetFields()["spec"].GetStructValue().GetFields()["forProvider"].GetStructValue().GetFields()["manifest"].GetStructValue()
}

// synced reports whether provider-kubernetes has synced an Object's current
// spec: its Synced condition is True, for the Object's generation when it
// names one.
func synced(object *structpb.Struct) bool {
	c := statusCondition(object, "Synced")
	observed := c["observedGeneration"].GetNumberValue() // 0: not said, as objectState reads it.
	return c["status"].GetStringValue() == "True" && (observed == 0 || observed >= metadata(object)["generation"].GetNumberValue())
}
