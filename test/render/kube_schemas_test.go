//go:build integration

package render

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

// The Kubernetes module whose OpenAPI schemas validate the objects that
// the direct mode composes, at the release the end-to-end suite runs
// (test/tools/k8s pins it).
const kubernetesModule = "k8s.io/kubernetes"

// A kubeKind is a built-in kind the direct mode composes, and where its
// schema is in the Kubernetes OpenAPI v3 spec.
type kubeKind struct {
	group, version, kind, plural, spec, schema string
}

var kubeKinds = []kubeKind{
	{group: "apps", version: "v1", kind: "Deployment", plural: "deployments", spec: "apis__apps__v1_openapi.json", schema: "io.k8s.api.apps.v1.Deployment"},
	{group: "", version: "v1", kind: "Service", plural: "services", spec: "api__v1_openapi.json", schema: "io.k8s.api.core.v1.Service"},
	{group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", spec: "apis__networking.k8s.io__v1_openapi.json", schema: "io.k8s.api.networking.v1.Ingress"},
}

// writeKubeSchemas writes, for each built-in kind the direct mode composes,
// a CRD whose schema is the kind's own, from the Kubernetes OpenAPI v3 spec
// in the module cache, so that crossplane beta validate, which knows only
// CRDs, checks the directly composed objects offline: their fields, types,
// enums and required fields. What only the API server's validation code
// checks (such as a DNS-label name) the end-to-end suite's dry run does.
func writeKubeSchemas(t *testing.T, dir string) {
	t.Helper()
	specs := filepath.Join(testenv.ModuleDir(t, kubernetesModule, pinned(t, "test/tools/k8s", kubernetesModule)), "api", "openapi-spec", "v3")
	for _, k := range kubeKinds {
		var spec struct {
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(specs, k.spec))), &spec); err != nil {
			t.Fatalf("cannot read %s: %v", k.spec, err)
		}
		root, err := crdSchema(spec.Components.Schemas, spec.Components.Schemas[k.schema], 0)
		if err != nil {
			t.Fatalf("%s: %v", k.schema, err)
		}
		root["properties"].(map[string]any)["metadata"] = map[string]any{"type": "object"} //nolint:forcetypeassert // An object's schema.
		name := k.plural + "." + k.group
		if k.group == "" {
			name = k.plural + ".core"
		}
		crd := map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": name},
			"spec": map[string]any{
				"group": k.group,
				"names": map[string]any{"kind": k.kind, "plural": k.plural},
				"scope": "Namespaced",
				"versions": []any{map[string]any{
					"name": k.version, "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": root},
				}},
			},
		}
		b, err := yaml.Marshal(crd)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "kubernetes-"+strings.ToLower(k.kind)+".yaml"), string(b))
	}
}

// crdSchema returns an OpenAPI v3 schema as a CRD's schema: references
// resolved, an int-or-string or a quantity as CRDs say it, and what does not
// validate (descriptions, defaults, the API server's merge hints) left out.
func crdSchema(all map[string]map[string]any, s map[string]any, depth int) (map[string]any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("schema nested over 32 deep: a cycle?")
	}
	if ref, ok := refOf(s); ok {
		target, found := all[strings.TrimPrefix(ref, "#/components/schemas/")]
		if !found {
			return nil, fmt.Errorf("no schema %s", ref)
		}
		return crdSchema(all, target, depth+1)
	}
	if _, ok := s["oneOf"]; ok { // IntOrString and Quantity: an integer or number, or a string.
		return map[string]any{"x-kubernetes-int-or-string": true}, nil
	}
	out := map[string]any{}
	for k, v := range s {
		switch k {
		case "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) { //nolint:forcetypeassert // The OpenAPI spec's shape.
				var err error
				if props[name], err = crdSchema(all, p.(map[string]any), depth+1); err != nil { //nolint:forcetypeassert // The OpenAPI spec's shape.
					return nil, fmt.Errorf("%s: %w", name, err)
				}
			}
			out[k] = props
		case "items", "additionalProperties":
			sub, ok := v.(map[string]any)
			if !ok {
				out[k] = v
				continue
			}
			var err error
			if out[k], err = crdSchema(all, sub, depth+1); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		case "type", "format", "enum", "required", "x-kubernetes-preserve-unknown-fields":
			out[k] = v
		}
	}
	if _, typed := out["type"]; !typed && out["properties"] != nil {
		out["type"] = "object"
	}
	return out, nil
}

// refOf returns the schema a schema refers to, directly or as the single
// member of an allOf, which is how the spec wraps a reference with a
// description.
func refOf(s map[string]any) (string, bool) {
	if ref, ok := s["$ref"].(string); ok {
		return ref, true
	}
	if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
		if m, ok := all[0].(map[string]any); ok {
			ref, ok := m["$ref"].(string)
			return ref, ok
		}
	}
	return "", false
}
