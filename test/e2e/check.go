//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// condition returns the status, reason and message of an object's
// condition. A condition written for an earlier generation of the object
// (its observedGeneration behind metadata.generation) says nothing of the
// current spec, and reads as Unknown: Crossplane v2.4 can write an XR's
// conditions back as it read them from its cache at the start of a
// reconcile, for a moment, before the reconcile sets the current ones
// (crossplane/crossplane#7658).
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
		if g, ok := m["observedGeneration"].(int64); ok && g < u.GetGeneration() {
			return "Unknown", "ObservedGenerationBehind", fmt.Sprintf("written for generation %d of %d: %s %s %s", g, u.GetGeneration(), s, r, msg)
		}
		return s, r, msg
	}
	return "", "", ""
}

// podReady reports whether a Pod is Ready.
func podReady(p *corev1.Pod) bool {
	if p == nil || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// vizImage returns the image of a Deployment's viz container.
func vizImage(d *appsv1.Deployment) string {
	for i := range d.Spec.Template.Spec.Containers {
		if ct := &d.Spec.Template.Spec.Containers[i]; ct.Name == "viz" {
			return ct.Image
		}
	}
	return ""
}

// checkSubset fails with every difference between the expected subset in
// a file under testdata/ (its $NAMES filled in from values) and got.
func checkSubset(file string, values map[string]string, got client.Object) error {
	objs, err := readTemplate(file, values)
	if err != nil {
		return err
	}
	have, err := runtime.DefaultUnstructuredConverter.ToUnstructured(got)
	if err != nil {
		return err
	}
	kind := kindOf(got)
	if diffs := subset(kind, objs[0].Object, have); len(diffs) > 0 {
		return fmt.Errorf("%s %s/%s differs from %s (docs/behaviour.md):\n%s", kind, got.GetNamespace(), got.GetName(), file, strings.Join(diffs, "\n"))
	}
	return nil
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
		// YAML numbers decode as int64 or float64, the API server's as int64:
		// compare as text.
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		return nil
	}
}

// readiness says what an instance's readiness rests on, for a failure
// message: its Ready and ResourcesReady conditions, its Objects (kind,
// creation, generation and conditions), its Deployment's generation and
// status, and its Pods.
func readiness(ctx context.Context, name string) string {
	var says []string
	xr := xrRef(name)
	if err := c.kube.Get(ctx, client.ObjectKeyFromObject(xr), xr); err == nil {
		for _, typ := range []string{"Ready", "ResourcesReady"} {
			s, r, m := condition(xr, typ)
			says = append(says, fmt.Sprintf("%s=%s %s %q", typ, s, r, m))
		}
	}
	objects := &unstructured.UnstructuredList{}
	objects.SetGroupVersionKind(gvkObject.GroupVersion().WithKind("ObjectList"))
	if err := c.kube.List(ctx, objects, client.InNamespace(dmNamespace), client.MatchingLabels{"crossplane.io/composite": name}); err == nil {
		for _, o := range objects.Items {
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "forProvider", "manifest", "kind")
			conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
			says = append(says, fmt.Sprintf("Object %s (%s) created %s, generation %d, conditions %v", o.GetName(), kind,
				o.GetCreationTimestamp().UTC().Format(time.RFC3339), o.GetGeneration(), conds))
		}
	}
	d := deploymentRef(name)
	if err := c.kube.Get(ctx, client.ObjectKeyFromObject(d), d); err == nil {
		says = append(says, fmt.Sprintf("Deployment generation %d, status %+v", d.Generation, d.Status))
	}
	pods := &corev1.PodList{}
	if err := c.kube.List(ctx, pods, client.InNamespace(dmNamespace), client.MatchingLabels{"deployment": name}); err == nil {
		for i := range pods.Items {
			p := &pods.Items[i]
			says = append(says, fmt.Sprintf("Pod %s %s ready=%t deleting=%t", p.Name, p.Status.Phase, podReady(p), p.DeletionTimestamp != nil))
		}
	}
	return strings.Join(says, "; ")
}
