//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scheme holds the built-in kinds the suite reads as Go types; Crossplane's
// and the project's kinds it reads as unstructured objects of their GVK.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// The kinds the suite has no Go type for.
var (
	gvkXR               = schema.GroupVersionKind{Group: "squonk.it", Version: "v1", Kind: "DataVisualisation"}
	gvkObject           = schema.GroupVersionKind{Group: "kubernetes.m.crossplane.io", Version: "v1alpha1", Kind: "Object"}
	gvkFunction         = schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "Function"}
	gvkFunctionRevision = schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "FunctionRevision"}
	gvkConfiguration    = schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "Configuration"}
	gvkCRD              = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
)

// newClient returns a client of the API server that cfg reaches, which can
// also watch.
func newClient(cfg *rest.Config) (client.WithWatch, error) {
	return client.NewWithWatch(cfg, client.Options{Scheme: scheme})
}

// as returns a client that acts as user, for the checks that a party may do
// only what the kit lets it.
func (c *cluster) as(user string) (client.Client, error) {
	cfg := rest.CopyConfig(c.restConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return newClient(cfg)
}

// unstructuredOf returns an empty object of a kind, named name in namespace.
func unstructuredOf(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// The objects the suite reads, by name, in the Data Manager's namespace.
func xrRef(name string) *unstructured.Unstructured { return unstructuredOf(gvkXR, dmNamespace, name) }

func deploymentRef(name string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace, Name: name}}
}

func serviceRef(name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace, Name: name}}
}

func ingressRef(name string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace, Name: name}}
}

// childRefs are the references of an instance's Deployment, Service and
// Ingress, as the function names them.
func childRefs(name string) []client.Object {
	return []client.Object{deploymentRef(name), serviceRef(name), ingressRef(name)}
}

// kindOf returns an object's kind, from the object or the scheme.
func kindOf(o client.Object) string {
	if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	gvks, _, err := scheme.ObjectKinds(o)
	if err != nil || len(gvks) == 0 {
		return fmt.Sprintf("%T", o)
	}
	return gvks[0].Kind
}

// get reads the object that ref names into ref; found is false when it does
// not exist.
func (c *cluster) get(ctx context.Context, ref client.Object) (found bool, err error) {
	err = c.kube.Get(ctx, client.ObjectKeyFromObject(ref), ref)
	if kerrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// objectsOf lists the provider-kubernetes Objects that an instance composed.
func (c *cluster) objectsOf(ctx context.Context, name string) ([]unstructured.Unstructured, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvkObject.GroupVersion().WithKind("ObjectList"))
	err := c.kube.List(ctx, l, client.InNamespace(dmNamespace), client.MatchingLabels{"crossplane.io/composite": name})
	return l.Items, err
}

// fieldOwner is the suite's name when it applies objects.
const fieldOwner = client.FieldOwner("e2e")

// apply applies objects with server-side apply, as `kubectl apply
// --server-side --force-conflicts` would, and waits for each CRD among them
// to be established, so that objects of its kind can follow.
func (c *cluster) apply(ctx context.Context, objs ...*unstructured.Unstructured) error {
	for _, o := range objs {
		o.SetResourceVersion("")
		if err := c.kube.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), fieldOwner, client.ForceOwnership); err != nil {
			return fmt.Errorf("cannot apply %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
		}
	}
	for _, o := range objs {
		if o.GroupVersionKind() == gvkCRD {
			if err := c.waitCondition(ctx, unstructuredOf(gvkCRD, "", o.GetName()), "Established"); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyFile applies the objects of a YAML file that keep keeps (all when
// keep is nil).
func (c *cluster) applyFile(ctx context.Context, file string, keep func(*unstructured.Unstructured) bool) error {
	objs, err := readObjects(file)
	if err != nil {
		return err
	}
	var kept []*unstructured.Unstructured
	for _, o := range objs {
		if keep == nil || keep(o) {
			kept = append(kept, o)
		}
	}
	return c.apply(ctx, kept...)
}

// notKind keeps the objects of every kind but one, for applyFile.
func notKind(kind string) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool { return u.GetKind() != kind }
}

// readObjects decodes the objects of a YAML (or JSON) file of one or more
// documents.
func readObjects(file string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(file) //nolint:gosec // The suite's and the repository's manifests.
	if err != nil {
		return nil, err
	}
	defer f.Close()
	objs, err := decodeObjects(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return objs, nil
}

// decodeObjects decodes the objects of a stream of YAML or JSON documents,
// skipping empty ones.
func decodeObjects(r io.Reader) ([]*unstructured.Unstructured, error) {
	d := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// testdata returns the path of a file under the suite's testdata/.
func testdata(elem ...string) string {
	return filepath.Join(append([]string{"testdata"}, elem...)...)
}

// readTemplate decodes the objects of a file under testdata/ once its
// $NAMES are filled in from values.
func readTemplate(file string, values map[string]string) ([]*unstructured.Unstructured, error) {
	y, err := expandTemplate(file, values)
	if err != nil {
		return nil, err
	}
	objs, err := decodeObjects(strings.NewReader(y))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return objs, nil
}

// expandTemplate returns a file under testdata/ with its $NAMES filled in
// from values; a name without a value is an error.
func expandTemplate(file string, values map[string]string) (string, error) {
	b, err := os.ReadFile(testdata(file))
	if err != nil {
		return "", err
	}
	var missing []string
	y := os.Expand(string(b), func(k string) string {
		v, ok := values[k]
		if !ok {
			missing = append(missing, k)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: no value for %s", file, strings.Join(missing, ", "))
	}
	return y, nil
}
