//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

type gvrType = schema.GroupVersionResource

// The kinds the suite reads.
var (
	gvrXR         = schema.GroupVersionResource{Group: "squonk.it", Version: "v1", Resource: "datavisualisations"}
	gvrObject     = schema.GroupVersionResource{Group: "kubernetes.m.crossplane.io", Version: "v1alpha1", Resource: "objects"}
	gvrDeployment = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrService    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrIngress    = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	gvrPod        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrBinding    = schema.GroupVersionResource{Version: "v1", Resource: "bindings"}
	gvrCRD        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// get returns the object, or nil when it does not exist.
func (c *cluster) get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	u, err := c.client.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if kerrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// list returns the objects of a kind in the Data Manager's namespace that
// match a label selector.
func (c *cluster) list(ctx context.Context, gvr schema.GroupVersionResource, selector string) ([]unstructured.Unstructured, error) {
	l, err := c.client.Resource(gvr).Namespace(dmNamespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// condition returns the status and message of an object's condition.
func condition(u *unstructured.Unstructured, typ string) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return s, r, msg
	}
	return "", "", ""
}

// fromYAML parses a YAML object.
func fromYAML(y string) (map[string]any, error) {
	out := map[string]any{}
	err := yaml.Unmarshal([]byte(y), &out)
	return out, err
}

// subset returns the differences where got lacks or changes a value of want.
// Objects compare key by key and lists element by element, so that want can
// leave out what the API server defaults.
func subset(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %v", path, got)}
		}
		var diffs []string
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing, want %v", path, k, v))
				continue
			}
			diffs = append(diffs, subset(path+"."+k, v, gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	default:
		// YAML numbers are float64 and the API server's int64: compare as text.
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		return nil
	}
}

// checkSubset fails with every difference between want (YAML) and got.
func checkSubset(want string, got *unstructured.Unstructured) error {
	w, err := fromYAML(want)
	if err != nil {
		return err
	}
	if diffs := subset(got.GetKind(), w, got.Object); len(diffs) > 0 {
		return fmt.Errorf("%s %s/%s differs from docs/behaviour.md:\n%s", got.GetKind(), got.GetNamespace(), got.GetName(), strings.Join(diffs, "\n"))
	}
	return nil
}
