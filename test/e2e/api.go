//go:build e2e && (load || upgrade)

package e2e

import (
	"context"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var gvkXRD = schema.GroupVersionKind{Group: "apiextensions.crossplane.io", Version: "v2", Kind: "CompositeResourceDefinition"}

// installAPI installs the DataVisualisation API as example/platform says,
// with example/platform/configuration.yaml. Its dependencies are installed
// already, but provider-kubernetes not as a package (the suite cannot pull
// it), so dependency resolution is off from the start: were it on even for a
// moment, the package manager would install the Function a second time,
// under its own name.
func installAPI(ctx context.Context) error {
	objs, err := readObjects(filepath.Join(c.cfg.repo, "example", "platform", "configuration.yaml"))
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := unstructured.SetNestedField(o.Object, true, "spec", "skipDependencyResolution"); err != nil {
			return err
		}
	}
	if err := c.apply(ctx, objs...); err != nil {
		return err
	}
	if err := c.waitCondition(ctx, unstructuredOf(gvkConfiguration, "", "configuration-squonk2-viz"), "Healthy"); err != nil {
		return err
	}
	return c.waitCondition(ctx, unstructuredOf(gvkXRD, "", "datavisualisations.squonk.it"), "Established")
}
