package fn

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/errors"
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
