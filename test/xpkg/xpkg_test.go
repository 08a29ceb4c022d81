//go:build integration

// Package xpkg opens the built Crossplane packages and checks what is inside:
// the package metadata, the CRDs or the XRD and Composition, and for the
// Function the embedded runtime image.
package xpkg

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var (
	functionXpkg      = flag.String("function-xpkg", "", "path of the Function package")
	configurationXpkg = flag.String("configuration-xpkg", "", "path of the Configuration package")
	arch              = flag.String("arch", "amd64", "architecture of the Function package")
	dmNamespaces      = flag.String("dm-namespaces", "im-data-manager", "the DM_NAMESPACES the Configuration was built with")
	defaultMode       = flag.String("default-mode", "provider", "the DEFAULT_MODE the Configuration was built with")
	version           = flag.String("version", "", "the VERSION both packages were built with")
)

// contents is what a package image holds: its files by path, with their
// tar headers, from every layer.
type contents struct {
	config  *v1.ConfigFile
	files   map[string][]byte
	headers map[string]*tar.Header
}

func open(t *testing.T, path string) contents {
	t.Helper()
	if path == "" {
		t.Fatal("run with -function-xpkg and -configuration-xpkg (make test-xpkg does)")
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatalf("cannot open %s: %v", path, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("cannot read the image config of %s: %v", path, err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	c := contents{config: cfg, files: map[string][]byte{}, headers: map[string]*tar.Header{}}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("cannot read a layer of %s: %v", path, err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(h.Name, "./")
			c.files[name], c.headers[name] = b, h
		}
		_ = rc.Close()
	}
	return c
}

// objects parses the package.yaml of a package into its documents.
func (c contents) objects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	pkg, ok := c.files["package.yaml"]
	if !ok {
		t.Fatalf("no package.yaml in the package; files: %v", keys(c.files))
	}
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(pkg), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("cannot parse package.yaml: %v", err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func kinds(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetAPIVersion()+" "+o.GetKind()+" "+o.GetName())
	}
	return out
}

func TestFunctionPackage(t *testing.T) {
	c := open(t, *functionXpkg)

	want := []string{
		"meta.pkg.crossplane.io/v1 Function function-squonk2-viz",
		"apiextensions.k8s.io/v1 CustomResourceDefinition inputs.viz.fn.squonk.it",
	}
	objs := c.objects(t)
	if diff := cmp.Diff(want, kinds(objs)); diff != "" {
		t.Errorf("package.yaml: -want, +got:\n%s", diff)
	}
	caps, _, _ := unstructured.NestedStringSlice(objs[0].Object, "spec", "capabilities")
	if diff := cmp.Diff([]string{"composition"}, caps); diff != "" {
		t.Errorf("Function spec.capabilities: -want, +got:\n%s", diff)
	}

	cfg := c.config.Config
	if diff := cmp.Diff([]string{"/function"}, cfg.Entrypoint); diff != "" {
		t.Errorf("runtime image entrypoint: -want, +got:\n%s", diff)
	}
	if cfg.User != "65532:65532" {
		t.Errorf("runtime image user: want 65532:65532 (non-root), got %q", cfg.User)
	}
	if _, ok := cfg.ExposedPorts["9443/tcp"]; !ok {
		t.Errorf("runtime image ports: want 9443/tcp, got %v", cfg.ExposedPorts)
	}
	if c.config.OS != "linux" || c.config.Architecture != *arch {
		t.Errorf("runtime image platform: want linux/%s, got %s/%s", *arch, c.config.OS, c.config.Architecture)
	}
	h, ok := c.headers["function"]
	if !ok {
		t.Fatalf("no /function in the runtime image; files: %v", keys(c.files))
	}
	if h.Mode&0o111 == 0 || h.Uid != 65532 {
		t.Errorf("/function: want an executable owned by 65532, got mode %o uid %d", h.Mode, h.Uid)
	}
	if !bytes.HasPrefix(c.files["function"], []byte("\x7fELF")) {
		t.Errorf("/function is not an ELF binary")
	}
}

func TestConfigurationPackage(t *testing.T) {
	c := open(t, *configurationXpkg)
	objs := c.objects(t)
	got := kinds(objs)
	want := []string{
		"meta.pkg.crossplane.io/v1 Configuration configuration-squonk2-viz",
		"apiextensions.crossplane.io/v1 Composition datavisualisations-direct.squonk.it",
		"apiextensions.crossplane.io/v1 Composition datavisualisations.squonk.it",
		"apiextensions.crossplane.io/v2 CompositeResourceDefinition datavisualisations.squonk.it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("package.yaml: -want, +got:\n%s", diff)
	}
	// Each Composition is labelled with its mode, which its Input selects
	// (the provider mode by default).
	compositions := map[string]string{}
	for _, o := range objs {
		if o.GetKind() != "Composition" {
			continue
		}
		pipeline, _, _ := unstructured.NestedSlice(o.Object, "spec", "pipeline")
		if len(pipeline) != 1 {
			t.Fatalf("Composition %s: want one pipeline step, got %d", o.GetName(), len(pipeline))
		}
		mode, _, _ := unstructured.NestedString(pipeline[0].(map[string]any), "input", "mode") //nolint:forcetypeassert // A pipeline step.
		if mode == "" {
			mode = "Provider"
		}
		if got := o.GetLabels()["mode"]; !strings.EqualFold(got, mode) {
			t.Errorf("Composition %s: label mode %q, but its Input's mode is %s", o.GetName(), got, mode)
		}
		compositions[strings.ToLower(mode)] = o.GetName()
		madeFor, _, _ := unstructured.NestedString(pipeline[0].(map[string]any), //nolint:forcetypeassert // A pipeline step.
			"input", "metadata", "annotations", "viz.fn.squonk.it/function-version")
		if madeFor != *version {
			t.Errorf("Composition %s: its Input's viz.fn.squonk.it/function-version is %q, want the release built, %q", o.GetName(), madeFor, *version)
		}
	}

	deps, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "dependsOn")
	var packages []string
	for _, d := range deps {
		p, _, _ := unstructured.NestedString(d.(map[string]any), "package") //nolint:forcetypeassert // dependsOn holds objects.
		packages = append(packages, p)
		if v, _, _ := unstructured.NestedString(d.(map[string]any), "version"); p == "ghcr.io/informaticsmatters/function-squonk2-viz" && v != *version { //nolint:forcetypeassert // dependsOn holds objects.
			t.Errorf("Configuration spec.dependsOn: the Function at %q, want exactly the release built, %q", v, *version)
		}
	}
	wantDeps := []string{"ghcr.io/informaticsmatters/function-squonk2-viz", "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes"}
	if diff := cmp.Diff(wantDeps, packages); diff != "" {
		t.Errorf("Configuration spec.dependsOn: -want, +got:\n%s", diff)
	}
	if v, _, _ := unstructured.NestedString(objs[0].Object, "spec", "crossplane", "version"); v == "" {
		t.Error("Configuration spec.crossplane.version: want a Crossplane version constraint")
	}

	xrd := objs[len(objs)-1]
	ann, _, _ := unstructured.NestedStringMap(xrd.Object, "spec", "metadata", "annotations")
	for _, k := range []string{
		"data-manager.informaticsmatters.com/application",
		"data-manager.informaticsmatters.com/application-namespaces",
		"data-manager.informaticsmatters.com/application-url-location",
	} {
		if ann[k] == "" {
			t.Errorf("XRD spec.metadata.annotations: want %s", k)
		}
	}
	if got := ann["data-manager.informaticsmatters.com/application-namespaces"]; got != *dmNamespaces {
		t.Errorf("XRD application-namespaces: want the build's DM_NAMESPACES %q, got %q", *dmNamespaces, got)
	}
	if ann["data-manager.informaticsmatters.com/application-url-location"] != "viz.url" {
		t.Errorf("XRD application-url-location: want viz.url, got %q", ann["data-manager.informaticsmatters.com/application-url-location"])
	}
	if got, _, _ := unstructured.NestedString(xrd.Object, "spec", "defaultCompositionRef", "name"); got != compositions[*defaultMode] {
		t.Errorf("XRD spec.defaultCompositionRef: want the %s mode's Composition %q (the build's DEFAULT_MODE), got %q", *defaultMode, compositions[*defaultMode], got)
	}
	if scope, _, _ := unstructured.NestedString(xrd.Object, "spec", "scope"); scope != "Namespaced" {
		t.Errorf("XRD spec.scope: want Namespaced, got %q", scope)
	}
}
