//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A mode is one of the function's two ways of composing an instance, as a
// DataVisualisation selects it: the provider mode (the XRD's default
// Composition) or the direct mode (the Composition labelled mode: direct).
// Both suites run in each mode, with the mode's targets.
type mode struct {
	name        string
	composition string // its Composition, as the Configuration package names it
	prefix      string // of its instances' names, so that the modes never share one
	suffix      string // of its composed resources' names
	objects     int    // the provider-kubernetes Objects it composes per instance
	targets     *targets
}

// targets are a mode's targets for the live steps, on this 2-core machine,
// with the kit as it ships (docs/behaviour.md). The tables print each
// measurement beside its target; a run fails only past target + guard.
type targets struct {
	ready   time.Duration // Pod Ready -> DataVisualisation Ready, p95
	repair  time.Duration // a child deleted or edited by hand -> put back
	rollout time.Duration // imageTag changed -> Deployment updated
	delete  time.Duration // DataVisualisation deleted -> everything gone
	burst50 time.Duration // 50 created at once -> each Deployment, p95
	// The fleet's targets, reported beside the load benchmark's bursts and
	// never failing it: 200 created at once -> each Deployment, p95, and 50
	// Pods turning Ready at once -> each DataVisualisation Ready, p95. The
	// upgrade suite holds a create to burst200 while an upgrade recomposes
	// its whole fleet at once.
	burst200, podsReady50 time.Duration
}

// burstTargets are the targets of one burst: each Deployment present
// (checked against the guard when checked is set, else reported) and,
// once all their Pods turn Ready at once, each DataVisualisation Ready
// (reported).
type burstTargets struct {
	deployment, ready time.Duration
	checked           bool
}

var (
	providerMode = mode{name: "provider", composition: "datavisualisations.squonk.it", objects: 3, targets: &targets{
		ready: 2 * time.Second, repair: 3 * time.Second, rollout: 2 * time.Second, delete: 10 * time.Second, burst50: 5 * time.Second,
		burst200: 30 * time.Second, podsReady50: 10 * time.Second,
	}}
	directMode = mode{name: "direct", composition: "datavisualisations-direct.squonk.it", prefix: "d-", suffix: "-direct", targets: &targets{
		ready: time.Second, repair: 2 * time.Second, rollout: 2 * time.Second, delete: 5 * time.Second, burst50: 4 * time.Second,
		burst200: 10 * time.Second, podsReady50: 3 * time.Second,
	}}
	modes = []mode{providerMode, directMode}
)

// instance is the name of the mode's instance called name.
func (m mode) instance(name string) string {
	return m.prefix + name
}

// dataVisualisation is a DataVisualisation as the Data Manager creates it
// (testdata/datamanager/datavisualisation.yaml), with an image tag, in the
// mode: the direct mode's selects its Composition by label.
func (m mode) dataVisualisation(name, imageTag string) (*unstructured.Unstructured, error) {
	objs, err := readTemplate("datamanager/datavisualisation.yaml", map[string]string{"NAME": name, "NAMESPACE": dmNamespace})
	if err != nil {
		return nil, err
	}
	xr := objs[0]
	if err := unstructured.SetNestedField(xr.Object, imageTag, "spec", "imDataManager", "imageTag"); err != nil {
		return nil, err
	}
	if m == directMode {
		if err := unstructured.SetNestedField(xr.Object, "direct", "spec", "crossplane", "compositionSelector", "matchLabels", "mode"); err != nil {
			return nil, err
		}
	}
	return xr, nil
}

// waiting is the ResourcesReady message of an instance that waits only for
// its Deployment.
func (m mode) waiting() string {
	return "Waiting for: deployment" + m.suffix
}

// composedKinds are the kinds of the composed resources of one instance in
// the mode, sorted.
func (m mode) composedKinds() []string {
	if m == directMode {
		return []string{"Deployment", "Ingress", "Service"}
	}
	return []string{"Object", "Object", "Object"}
}

// checkComposed checks that the DataVisualisation composes exactly the
// mode's three resources, and that no Object is left of the other mode.
func (m mode) checkComposed(ctx context.Context, xr *unstructured.Unstructured) error {
	refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
	kinds := make([]string, 0, len(refs))
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		kind, _ := ref["kind"].(string)
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, m.composedKinds()) {
		return fmt.Errorf("%s composes %v, want %v", xr.GetName(), kinds, m.composedKinds())
	}
	objects, err := c.objectsOf(ctx, xr.GetName())
	if err != nil {
		return err
	}
	if len(objects) != m.objects {
		return fmt.Errorf("%s: want exactly %d Objects, got %d", xr.GetName(), m.objects, len(objects))
	}
	return nil
}
