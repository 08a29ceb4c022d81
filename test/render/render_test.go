//go:build integration

// Package render renders every example of the repository with the crossplane
// CLI against the function, compares the output with the example's expected
// output, and validates it against the XRD and the CRDs.
package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

var (
	crossplane = flag.String("crossplane", "", "path of the crossplane CLI")
	function   = flag.String("function", "", "path of the function binary")
	repo       = flag.String("repo", "", "path of the repository")
	update     = flag.Bool("update", false, "rewrite each example's expected output")
)

// The modules whose CRDs the validation uses, at the versions the test
// module (the crossplane CLI's) and test/tools/provider-kubernetes pin.
const (
	crossplaneModule   = "github.com/crossplane/crossplane/v2"
	providerKubernetes = "github.com/crossplane-contrib/provider-kubernetes"
	certManager        = "github.com/cert-manager/cert-manager"
)

// pinned is the version of module that the go.mod in dir, relative to the
// repository, requires.
func pinned(t *testing.T, dir, module string) string {
	t.Helper()
	v, err := testenv.Pinned(filepath.Join(*repo, dir), module)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A renderCase is an example folder: an xr.yaml, optionally its own
// composition.yaml, observed.yaml and required-resources.yaml (what
// Crossplane finds when the function asks), and its expected output: expected.yaml,
// or expected-error.txt when the function rejects the XR.
type renderCase struct {
	name, dir string
}

func cases(t *testing.T) []renderCase {
	t.Helper()
	root := filepath.Join(*repo, "example")
	out := []renderCase{{name: "example", dir: root}}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "xr.yaml")); e.IsDir() && err == nil {
			out = append(out, renderCase{name: e.Name(), dir: filepath.Join(root, e.Name())})
		}
	}
	if len(out) < 6 {
		t.Fatalf("found %d example cases in %s, want the main example and at least 5 folders", len(out), root)
	}
	return out
}

func setup(t *testing.T) string {
	t.Helper()
	if *crossplane == "" || *function == "" || *repo == "" {
		t.Fatal("run with -crossplane, -function and -repo (make test-render does)")
	}
	return testenv.StartFunction(t, *function)
}

// renderArgs returns the crossplane render arguments of a case.
func renderArgs(c renderCase, addr string, extra ...string) []string {
	composition := filepath.Join(c.dir, "composition.yaml")
	if _, err := os.Stat(composition); err != nil {
		composition = filepath.Join(*repo, "example", "composition.yaml")
	}
	args := []string{
		"render", filepath.Join(c.dir, "xr.yaml"), composition, filepath.Join(*repo, "example", "functions.yaml"),
		"--function-annotations=render.crossplane.io/runtime-development-target=" + addr,
	}
	if observed := filepath.Join(c.dir, "observed.yaml"); fileExists(observed) {
		args = append(args, "--observed-resources="+observed)
	}
	if required := filepath.Join(c.dir, "required-resources.yaml"); fileExists(required) {
		args = append(args, "--required-resources="+required)
	}
	return append(args, extra...)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestRender(t *testing.T) {
	addr := setup(t)
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			r := testenv.Run(nil, *crossplane, renderArgs(c, addr, "--include-function-results")...)
			wantErrFile := filepath.Join(c.dir, "expected-error.txt")
			if fileExists(wantErrFile) {
				if *update {
					writeFile(t, wantErrFile, r.Stderr)
				}
				want := strings.TrimSpace(readFile(t, wantErrFile))
				if r.Err == nil {
					t.Fatalf("crossplane render succeeded; want it to fail with:\n%s\ngot:\n%s", want, r.Stdout)
				}
				if diff := cmp.Diff(want, strings.TrimSpace(r.Stderr)); diff != "" {
					t.Errorf("crossplane render error: -want (%s), +got:\n%s", wantErrFile, diff)
				}
				return
			}
			if r.Err != nil {
				t.Fatalf("crossplane render: %v\n%s", r.Err, r.Stderr)
			}
			wantFile := filepath.Join(c.dir, "expected.yaml")
			if *update {
				writeFile(t, wantFile, r.Stdout)
			}
			if diff := cmp.Diff(readFile(t, wantFile), r.Stdout); diff != "" {
				t.Errorf("crossplane render: -want (%s), +got:\n%s", wantFile, diff)
			}
		})
	}
}

// validator validates resources with crossplane beta validate, offline,
// against the XRD, the function's Input CRD, provider-kubernetes' CRDs and
// cert-manager's Certificate CRD.
type validator struct {
	extensions, cache, image string
}

func newValidator(t *testing.T) validator {
	t.Helper()
	ext := t.TempDir()
	copyFile(t, filepath.Join(*repo, "package", "configuration", "xrd.yaml"), filepath.Join(ext, "xrd.yaml"))
	inputs, err := filepath.Glob(filepath.Join(*repo, "package", "input", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("cannot find the Input CRD in package/input: %v", err)
	}
	for _, in := range inputs {
		copyFile(t, in, filepath.Join(ext, filepath.Base(in)))
	}
	pk := testenv.ModuleDir(t, providerKubernetes, pinned(t, "test/tools/provider-kubernetes", providerKubernetes))
	for _, crd := range []string{"objects", "clusterproviderconfigs", "providerconfigs"} {
		copyFile(t, filepath.Join(pk, "package", "crds", "kubernetes.m.crossplane.io_"+crd+".yaml"), filepath.Join(ext, crd+".yaml"))
	}
	// The kit's Certificate (example/data-manager/certificate.yaml).
	cm := testenv.ModuleDir(t, certManager, testenv.CertManagerVersion)
	copyFile(t, filepath.Join(cm, "deploy", "crds", "crd-certificates.yaml"), filepath.Join(ext, "certificates.yaml"))
	// The built-in kinds the direct mode composes.
	writeKubeSchemas(t, ext)

	// beta validate always loads Crossplane's own CRDs from the package of a
	// Crossplane image, which it would download. Seed its cache with the CRDs
	// from the Crossplane module instead, under an image name of our own.
	cache := t.TempDir()
	crossplaneVersion := pinned(t, "test", crossplaneModule)
	core := filepath.Join(cache, "local.invalid", "crossplane", "crossplane@"+crossplaneVersion)
	if err := os.MkdirAll(core, 0o750); err != nil {
		t.Fatal(err)
	}
	crds, err := filepath.Glob(filepath.Join(testenv.ModuleDir(t, crossplaneModule, crossplaneVersion), "cluster", "crds", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("cannot find Crossplane's CRDs: %v", err)
	}
	var all []string
	for _, f := range crds {
		all = append(all, readFile(t, f))
	}
	writeFile(t, filepath.Join(core, "package.yaml"), strings.Join(all, "\n---\n"))
	return validator{extensions: ext, cache: cache, image: "local.invalid/crossplane/crossplane:" + crossplaneVersion}
}

func (v validator) validate(resources []byte) testenv.Result {
	return testenv.Run(resources, *crossplane, "beta", "validate", v.extensions, "-",
		"--cache-dir="+v.cache, "--crossplane-image="+v.image, "--error-on-missing-schemas")
}

// TestValidate checks each rendered example, XR and composed Objects,
// against the schemas the API server would apply.
func TestValidate(t *testing.T) {
	addr := setup(t)
	v := newValidator(t)
	for _, c := range cases(t) {
		if fileExists(filepath.Join(c.dir, "expected-error.txt")) {
			continue // Nothing is rendered: TestRender checks the error.
		}
		t.Run(c.name, func(t *testing.T) {
			r := testenv.Run(nil, *crossplane, renderArgs(c, addr, "--include-full-xr")...)
			if r.Err != nil {
				t.Fatalf("crossplane render: %v\n%s", r.Err, r.Stderr)
			}
			got := v.validate([]byte(r.Stdout))
			if got.Err != nil {
				t.Fatalf("crossplane beta validate: %v\n%s%s", got.Err, got.Stdout, got.Stderr)
			}
			if !strings.Contains(got.Stdout, "0 missing schemas") || !strings.Contains(got.Stdout, "0 failure cases") {
				t.Errorf("crossplane beta validate: want no missing schema and no failure, got:\n%s", got.Stdout)
			}
		})
	}
}

// TestValidateExampleManifests validates every manifest in example/ whose
// schema is a CRD: Crossplane's (Composition, Function, Provider,
// Configuration, DeploymentRuntimeConfig) and provider-kubernetes'. The
// Kubernetes kinds among them (RBAC, ConfigMaps, admission policies, the
// NetworkPolicy, the quota) are decoded strictly by TestKitManifestsDecodeStrictly
// and validated by the real API server of the end-to-end suite, which applies
// them.
//
// TestCrossplaneValuesAreTheChartsKeys checks the kit's Helm values for
// Crossplane; the end-to-end suite runs Crossplane with them.
func TestValidateExampleManifests(t *testing.T) {
	if *crossplane == "" || *repo == "" {
		t.Fatal("run with -crossplane and -repo (make test-render does)")
	}
	v := newValidator(t)
	var files []string
	err := filepath.WalkDir(filepath.Join(*repo, "example"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		switch filepath.Base(path) {
		case "expected.yaml", "observed.yaml", "xr.yaml", "required-resources.yaml": // Rendered, and validated, by TestValidate; or render input.
			return nil
		case "crossplane-values.yaml": // Helm values: TestCrossplaneValuesAreTheChartsKeys.
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Kubernetes kinds, by the apiVersion of the document itself: a
	// nested apiVersion (an Object's manifest, a Composition's Input) does
	// not count.
	kubernetes := map[string]bool{"v1": true, "rbac.authorization.k8s.io/v1": true, "admissionregistration.k8s.io/v1": true, "networking.k8s.io/v1": true}
	var docs []string
	for _, f := range files {
		for i, doc := range strings.Split(readFile(t, f), "\n---\n") {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil || head.APIVersion == "" || head.Kind == "" {
				t.Fatalf("%s, document %d: not a manifest with an apiVersion and a kind (%v)", f, i+1, err)
			}
			if kubernetes[head.APIVersion] {
				t.Logf("%s: %s %s is validated by TestKitManifestsDecodeStrictly and the end-to-end suite's API server", f, head.APIVersion, head.Kind)
				continue
			}
			docs = append(docs, doc)
		}
	}
	got := v.validate([]byte(strings.Join(docs, "\n---\n")))
	if got.Err != nil {
		t.Fatalf("crossplane beta validate of %d manifests from %d files: %v\n%s%s", len(docs), len(files), got.Err, got.Stdout, got.Stderr)
	}
	if !strings.Contains(got.Stdout, "0 missing schemas") || !strings.Contains(got.Stdout, "0 failure cases") {
		t.Errorf("crossplane beta validate: want no missing schema and no failure, got:\n%s", got.Stdout)
	}
	t.Logf("%s", got.Stdout)
}

// TestValidateRejectsBrokenResources proves the validation can fail: an XR that
// breaks the XRD's schema is reported, and so is a directly composed object
// that breaks its kind's schema.
func TestValidateRejectsBrokenResources(t *testing.T) {
	if *crossplane == "" || *repo == "" {
		t.Fatal("run with -crossplane and -repo (make test-render does)")
	}
	v := newValidator(t)
	xr := readFile(t, filepath.Join(*repo, "example", "xr.yaml"))
	// The objects the direct mode composes, without the partial XR render prints.
	direct := readFile(t, filepath.Join(*repo, "example", "direct", "expected.yaml"))
	_, objects, ok := strings.Cut(direct, "\n---\napiVersion: apps/v1")
	if !ok {
		t.Fatal("example/direct/expected.yaml has no Deployment after the XR")
	}
	direct = "apiVersion: apps/v1" + objects
	cases := map[string]struct {
		broken, want string
	}{
		"ContainerPortAString":      {broken: strings.Replace(direct, "containerPort: 5170", "containerPort: http", 1), want: "containerPort"},
		"DeploymentReplicasAString": {broken: strings.Replace(direct, "replicas: 1", "replicas: one", 1), want: "replicas"},
		"ServicePortAString":        {broken: strings.Replace(direct, "\n    port: 5170", "\n    port: http", 1), want: "port"},
		"IngressUnknownField":       {broken: strings.Replace(direct, "ingressClassName:", "ingressClassNmae:", 1), want: "ingressClassNmae"},
		"ImageTagMissing":           {broken: strings.Replace(xr, "imageTag: 1.2.0", "taskId2: x", 1), want: "imageTag"},
		"RunAsUserAString":          {broken: strings.Replace(xr, "runAsUser: 1002", "runAsUser: root", 1), want: "runAsUser"},
		"LabelsNotAList":            {broken: strings.Replace(xr, "labels:\n", "labels: oops\n  unused:\n", 1), want: "labels"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.broken == xr {
				t.Fatal("the example XR changed: this case no longer breaks them")
			}
			got := v.validate([]byte(tc.broken))
			if got.Err == nil {
				t.Fatalf("crossplane beta validate accepted a broken XR:\n%s", got.Stdout)
			}
			if !strings.Contains(got.Stdout+got.Stderr, tc.want) {
				t.Errorf("crossplane beta validate: want an error naming %q, got:\n%s%s", tc.want, got.Stdout, got.Stderr)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s (make update-render writes expected output): %v", path, err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	writeFile(t, to, readFile(t, from))
}

// TestKitSharesOneCertificate checks that the kit's configuration uses one
// certificate per Data Manager namespace: the function's TLS Secret is the
// Secret of the namespace's Certificate for the domain, the render example
// is configured the same way, no issuer is set that would ask for a
// certificate per instance, and the rendered Ingress names the shared
// Secret.
func TestKitSharesOneCertificate(t *testing.T) {
	addr := setup(t)
	rc, err := testenv.KitRuntimeContainer(filepath.Join(*repo, "example", "platform", "function.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, e := range rc.Env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	var cert struct {
		Spec struct {
			SecretName string   `json:"secretName"`
			DNSNames   []string `json:"dnsNames"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(*repo, "example", "data-manager", "certificate.yaml"))), &cert); err != nil {
		t.Fatal(err)
	}
	var comp struct {
		Spec struct {
			Pipeline []struct {
				Input map[string]any `json:"input"`
			} `json:"pipeline"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(*repo, "example", "composition.yaml"))), &comp); err != nil {
		t.Fatal(err)
	}
	input := comp.Spec.Pipeline[0].Input
	want := map[string]any{
		"the function's INGRESS_TLS_SECRET":        env["INGRESS_TLS_SECRET"],
		"the function's INGRESS_DOMAIN":            env["INGRESS_DOMAIN"],
		"the function's INGRESS_CERT_ISSUER":       env["INGRESS_CERT_ISSUER"],
		"the render example's ingressTlsSecret":    input["ingressTlsSecret"],
		"the render example's ingressCertIssuer":   input["ingressCertIssuer"],
		"the render example's ingressDomain":       input["ingressDomain"],
		"the Certificate's Secret and dnsNames[0]": cert.Spec.SecretName + " " + cert.Spec.DNSNames[0],
	}
	if diff := cmp.Diff(map[string]any{
		"the function's INGRESS_TLS_SECRET":        cert.Spec.SecretName,
		"the function's INGRESS_DOMAIN":            cert.Spec.DNSNames[0],
		"the function's INGRESS_CERT_ISSUER":       "",
		"the render example's ingressTlsSecret":    cert.Spec.SecretName,
		"the render example's ingressCertIssuer":   nil,
		"the render example's ingressDomain":       cert.Spec.DNSNames[0],
		"the Certificate's Secret and dnsNames[0]": "squonk2-viz-tls squonk.example.org",
	}, want); diff != "" {
		t.Errorf("the kit's TLS settings disagree: -want, +got:\n%s", diff)
	}

	r := testenv.Run(nil, *crossplane, renderArgs(renderCase{name: "example", dir: filepath.Join(*repo, "example")}, addr)...)
	if r.Err != nil {
		t.Fatalf("crossplane render: %v\n%s", r.Err, r.Stderr)
	}
	var found bool
	for _, doc := range strings.Split(r.Stdout, "\n---\n") {
		var o struct {
			Spec struct {
				ForProvider struct {
					Manifest struct {
						Kind     string `json:"kind"`
						Metadata struct {
							Annotations map[string]string `json:"annotations"`
						} `json:"metadata"`
						Spec struct {
							TLS []struct {
								SecretName string `json:"secretName"`
							} `json:"tls"`
						} `json:"spec"`
					} `json:"manifest"`
				} `json:"forProvider"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatal(err)
		}
		m := o.Spec.ForProvider.Manifest
		if m.Kind != "Ingress" {
			continue
		}
		found = true
		if len(m.Spec.TLS) != 1 || m.Spec.TLS[0].SecretName != cert.Spec.SecretName {
			t.Errorf("the rendered Ingress's TLS: want the Secret %s, got %+v", cert.Spec.SecretName, m.Spec.TLS)
		}
		if issuer, ok := m.Metadata.Annotations["cert-manager.io/cluster-issuer"]; ok {
			t.Errorf("the rendered Ingress asks cert-manager for a certificate of its own (%s)", issuer)
		}
	}
	if !found {
		t.Errorf("crossplane render composed no Ingress:\n%s", r.Stdout)
	}
}

// TestCrossplaneValuesAreTheChartsKeys checks that every key the kit's Helm
// values for Crossplane (example/platform/crossplane-values.yaml) set is a
// key of the values of the chart of the Crossplane release the end-to-end
// suite runs, so that a misspelt key, which Helm would ignore, fails here.
func TestCrossplaneValuesAreTheChartsKeys(t *testing.T) {
	if *repo == "" {
		t.Fatal("run with -repo (make test-render does)")
	}
	core := testenv.ModuleDir(t, crossplaneModule, pinned(t, "test/tools/crossplane-core", crossplaneModule))
	var chart, kit map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(core, "cluster", "charts", "crossplane", "values.yaml"))), &chart); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(*repo, "example", "platform", "crossplane-values.yaml"))), &kit); err != nil {
		t.Fatal(err)
	}
	if len(kit) == 0 {
		t.Fatal("example/platform/crossplane-values.yaml sets nothing")
	}
	for k := range kit {
		if _, ok := chart[k]; !ok {
			t.Errorf("example/platform/crossplane-values.yaml sets %q, which Crossplane's chart does not have", k)
		}
	}
}
