//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

// Versions of what the suite installs from the Go module proxy's sources.
const (
	crossplaneModule       = "github.com/crossplane/crossplane/v2"
	crossplaneVersion      = "v2.4.0"
	providerKubernetes     = "github.com/crossplane-contrib/provider-kubernetes"
	providerKubernetesVers = "v1.3.1"
	certManager            = "github.com/cert-manager/cert-manager"
	certManagerVersion     = "v1.17.2"

	// packageVersion is the tag the packages are pushed with.
	packageVersion = "v0.1.0"
)

// startCrossplane initialises Crossplane core (its CRDs and TLS secrets) and
// starts it, out of cluster, with the External package runtime: the suite
// runs the function and the provider itself. Crossplane runs as its service
// account, with the ClusterRoles its Helm chart makes and what the kit
// aggregates into them, so that a right the kit forgets fails the suite.
func (c *cluster) startCrossplane(ctx context.Context) error {
	if _, err := c.kubectl(ctx, "", "create", "namespace", "crossplane-system"); err != nil {
		return err
	}
	var err error
	if c.xfnCA, err = newCA("e2e-functions-ca"); err != nil {
		return err
	}
	client, err := c.xfnCA.issue("crossplane", nil)
	if err != nil {
		return err
	}
	if err := writeTLSDir(c.path("pki", "xfn-client"), client, c.xfnCA.pem); err != nil {
		return err
	}
	xp, err := testenv.FindModule(crossplaneModule, crossplaneVersion)
	if err != nil {
		return err
	}
	chart := filepath.Join(xp, "cluster", "charts", "crossplane")
	chartArgs, chartEnv, err := crossplaneChartDefaults(chart)
	if err != nil {
		return err
	}
	if err := c.crossplaneServiceAccount(ctx, chart); err != nil {
		return err
	}
	env := append([]string{
		"KUBECONFIG=", "KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=" + c.apiPort,
		"TLS_CLIENT_CERTS_DIR=" + c.path("pki", "xfn-client"),
	}, chartEnv...)
	// init applies Crossplane's CRDs and then objects of those kinds, which
	// fails until the CRDs are established: retry.
	err = waitFor(ctx, 90*time.Second, 2*time.Second, "crossplane core init", func() (bool, error) {
		p, err := c.ps.start("crossplane-init", env, "unshare", c.inPod("crossplane", c.path("crossplane-serviceaccount"),
			filepath.Join(c.cfg.bin, "crossplane-core"), "core", "init",
			"--cr-ds-path="+filepath.Join(xp, "cluster", "crds"), "--enable-webhooks=false",
			"--tlsca-secret-name=crossplane-root-ca", "--tls-client-secret-name=crossplane-tls-client")...)
		if err != nil {
			return false, fmt.Errorf("%w: %w", errFinal, err)
		}
		<-p.done
		if p.err != nil {
			return false, fmt.Errorf("%w:\n%s", p.err, p.tail(5))
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	cache := c.path("xpkg-cache")
	if err := os.MkdirAll(cache, 0o750); err != nil { // Crossplane needs it to exist.
		return err
	}
	// The chart's arguments, and what this machine needs: the suite plays
	// the package runtime (there is no kubelet), the API server cannot reach
	// a webhook Service (there is no cluster network), and the ports and
	// the cache are the machine's.
	c.crossplaneEnv = env
	c.crossplaneMetricsAddr = addr(ports[0])
	c.crossplaneArgs = append(append([]string{"core", "start"}, chartArgs...),
		"--package-runtime=Function=External;Provider=External", "--enable-webhooks=false", "--cache-dir="+cache,
		fmt.Sprintf("--metrics-port=%d", ports[0]), fmt.Sprintf("--health-probe-port=%d", ports[1]),
		fmt.Sprintf("--webhook-port=%d", ports[2]))
	return c.runCrossplane()
}

// runCrossplane starts Crossplane core as startCrossplane set it up.
func (c *cluster) runCrossplane() error {
	var err error
	c.crossplane, err = c.ps.start("crossplane", c.crossplaneEnv, "unshare",
		c.inPod("crossplane", c.path("crossplane-serviceaccount"), filepath.Join(c.cfg.bin, "crossplane-core"), c.crossplaneArgs...)...)
	return err
}

// serviceAccountDir is where a Pod finds its service account.
const serviceAccountDir = "/run/secrets/kubernetes.io/serviceaccount"

// inPod returns the arguments of unshare that run a command as in a Pod of a
// service account: the account's token, CA and namespace (in saDir) where a
// Pod has them, in a private mount namespace, for the in-cluster
// configuration and leader election.
func (c *cluster) inPod(process, saDir, command string, args ...string) []string {
	script := fmt.Sprintf(`mount -t tmpfs tmpfs /run && mkdir -p %[1]s && cp %[2]s/* %[1]s/ && exec "$@"`, serviceAccountDir, saDir)
	return append([]string{"--mount", "--", "sh", "-c", script, process, command}, args...)
}

// writeServiceAccount writes a service account's token, the cluster's CA and
// the namespace into dir, as a Pod of the account has them.
func (c *cluster) writeServiceAccount(ctx context.Context, namespace, account, dir string) error {
	token, err := c.kubectl(ctx, "", "-n", namespace, "create", "token", account, "--duration=2h")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for file, content := range map[string][]byte{"token": []byte(strings.TrimSpace(token)), "ca.crt": c.kubeCA.pem, "namespace": []byte(namespace)} {
		if err := os.WriteFile(filepath.Join(dir, file), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// crossplaneServiceAccount makes Crossplane's service account as its Helm
// chart does, with the chart's ClusterRoles and binding (rendered from the
// chart's templates with its default values), the rights Crossplane's RBAC
// manager would add (testdata/crossplane-system-rbac.yaml), and writes its
// token for runCrossplane.
func (c *cluster) crossplaneServiceAccount(ctx context.Context, chart string) error {
	if _, err := c.kubectl(ctx, "", "-n", "crossplane-system", "create", "serviceaccount", "crossplane"); err != nil {
		return err
	}
	for _, f := range []string{"clusterrole.yaml", "clusterrolebinding.yaml"} {
		manifest, err := renderChartTemplate(filepath.Join(chart, "templates", f))
		if err != nil {
			return err
		}
		if err := c.apply(ctx, manifest); err != nil {
			return fmt.Errorf("the chart's %s: %w", f, err)
		}
	}
	if err := c.applyFile(ctx, filepath.Join("testdata", "crossplane-system-rbac.yaml"), nil); err != nil {
		return err
	}
	return c.writeServiceAccount(ctx, "crossplane-system", "crossplane", c.path("crossplane-serviceaccount"))
}

// renderChartTemplate renders one of the Crossplane chart's RBAC templates
// as Helm would with the chart's default values (the RBAC manager deployed,
// the service account created, release namespace crossplane-system). The
// chart's labels helper is left out: nothing selects on those labels.
func renderChartTemplate(file string) (string, error) {
	b, err := os.ReadFile(file) //nolint:gosec // The chart in the module cache.
	if err != nil {
		return "", err
	}
	t, err := template.New("chart").Funcs(template.FuncMap{
		"include": func(string, any) string { return "" },
		"indent":  func(int, string) string { return "" },
	}).Parse(`{{define "crossplane.name"}}crossplane{{end}}` + string(b))
	if err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	var out strings.Builder
	values := map[string]any{
		"Values": map[string]any{
			"rbacManager":    map[string]any{"deploy": true},
			"serviceAccount": map[string]any{"create": true},
		},
		"Release": map[string]any{"Namespace": "crossplane-system"},
	}
	if err := t.Execute(&out, values); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return out.String(), nil
}

// crossplaneChartDefaults returns the arguments and environment that
// Crossplane's Helm chart gives the crossplane container by default, read
// from the chart's values: its args, leader election, the Go runtime's
// limits (GOMAXPROCS and GOMEMLIMIT, from the container's resource limits)
// and the names the chart gives its service account and TLS Secrets.
func crossplaneChartDefaults(chart string) ([]string, []string, error) {
	b, err := os.ReadFile(filepath.Join(chart, "values.yaml")) //nolint:gosec // The chart in the module cache.
	if err != nil {
		return nil, nil, err
	}
	var values struct {
		Args           []string `json:"args"`
		LeaderElection bool     `json:"leaderElection"`
		Resources      struct {
			Limits struct {
				CPU    string `json:"cpu"`
				Memory string `json:"memory"`
			} `json:"limits"`
		} `json:"resourcesCrossplane"`
	}
	if err := yaml.Unmarshal(b, &values); err != nil {
		return nil, nil, err
	}
	cpu, err := resource.ParseQuantity(values.Resources.Limits.CPU)
	if err != nil {
		return nil, nil, fmt.Errorf("resourcesCrossplane.limits.cpu: %w", err)
	}
	memory, err := resource.ParseQuantity(values.Resources.Limits.Memory)
	if err != nil {
		return nil, nil, fmt.Errorf("resourcesCrossplane.limits.memory: %w", err)
	}
	env := []string{
		// A resourceFieldRef with divisor 1 rounds the CPU limit up.
		fmt.Sprintf("GOMAXPROCS=%d", (cpu.MilliValue()+999)/1000),
		fmt.Sprintf("GOMEMLIMIT=%d", memory.Value()),
		"POD_NAMESPACE=crossplane-system",
		"POD_SERVICE_ACCOUNT=crossplane",
		fmt.Sprintf("LEADER_ELECTION=%t", values.LeaderElection),
		"TLS_SERVER_SECRET_NAME=crossplane-tls-server",
		"TLS_CLIENT_SECRET_NAME=crossplane-tls-client",
	}
	return values.Args, env, nil
}

// startProvider installs provider-kubernetes' namespaced CRDs and the
// platform's provider set-up (example/platform, but for the Provider package,
// which the suite cannot pull), and starts the provider as its service
// account, with only the rights the platform gives it.
func (c *cluster) startProvider(ctx context.Context) error {
	pk, err := testenv.FindModule(providerKubernetes, providerKubernetesVers)
	if err != nil {
		return err
	}
	crds, err := filepath.Glob(filepath.Join(pk, "package", "crds", "*.yaml"))
	if err != nil {
		return err
	}
	for _, crd := range crds {
		// The cluster-scoped Object CRD declares a conversion webhook
		// with no service, which the API server rejects; the namespaced
		// kubernetes.m Objects do not need it.
		if filepath.Base(crd) == "kubernetes.crossplane.io_objects.yaml" {
			continue
		}
		if err := c.applyFile(ctx, crd, nil); err != nil {
			return err
		}
	}
	if _, err := c.kubectl(ctx, "", "-n", "crossplane-system", "create", "serviceaccount", "provider-kubernetes"); err != nil {
		return err
	}
	if err := c.applyFile(ctx, filepath.Join("testdata", "provider-system-rbac.yaml"), nil); err != nil {
		return err
	}
	for _, f := range []string{"provider-kubernetes-rbac.yaml", "provider-kubernetes.yaml", "crossplane-rbac.yaml", "crossplane-direct-rbac.yaml"} {
		if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "platform", f), func(doc string) bool {
			return kind(doc) != "Provider"
		}); err != nil {
			return err
		}
	}
	webhook, err := c.xfnCA.issue("provider-kubernetes", nil)
	if err != nil {
		return err
	}
	if err := writeTLSDir(c.path("pki", "provider"), webhook, c.xfnCA.pem); err != nil {
		return err
	}
	return c.runProvider(ctx)
}

// runProvider starts provider-kubernetes as it runs in a cluster: with the
// in-cluster configuration of its service account (a token in a private
// mount of /run/secrets, and KUBERNETES_SERVICE_HOST), which is also what
// its InjectedIdentity provider config uses, and with the arguments and
// environment of the platform's DeploymentRuntimeConfig.
func (c *cluster) runProvider(ctx context.Context) error {
	sa := c.path("provider-serviceaccount")
	if err := c.writeServiceAccount(ctx, "crossplane-system", "provider-kubernetes", sa); err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	args, env, err := runtimeContainer(filepath.Join(c.cfg.repo, "example", "platform", "provider-kubernetes.yaml"))
	if err != nil {
		return err
	}
	env = append(env, "KUBECONFIG=", "KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT="+c.apiPort,
		"POD_NAMESPACE=crossplane-system", "TLS_SERVER_CERTS_DIR="+c.path("pki", "provider"))
	// The DeploymentRuntimeConfig's arguments, and this machine's ports.
	c.providerMetricsAddr = addr(ports[1])
	args = append(args, fmt.Sprintf("--webhook-port=%d", ports[0]),
		"--metrics-bind-address="+addr(ports[1]), "--health-probe-bind-addr="+addr(ports[2]))
	c.provider, err = c.ps.start("provider-kubernetes", env, "unshare",
		c.inPod("provider-kubernetes", sa, filepath.Join(c.cfg.bin, "provider-kubernetes"), args...)...)
	return err
}

// startRegistry serves an OCI registry on loopback, in the suite's process,
// and pushes both packages to it.
func (c *cluster) startRegistry(ctx context.Context) (func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("registry: %v", err)
		}
	}()
	c.registry = l.Addr().String()
	for file, repo := range map[string]string{
		c.cfg.functionXpkg:      "informaticsmatters/function-squonk2-viz",
		c.cfg.configurationXpkg: "informaticsmatters/configuration-squonk2-viz",
	} {
		img, err := tarball.ImageFromPath(file, nil)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %w", file, err)
		}
		ref, err := name.ParseReference(c.registry + "/" + repo + ":" + packageVersion)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("cannot push %s: %w", ref, err)
		}
	}
	return func() { _ = srv.Close() }, nil
}

// installFunction installs the function as example/platform/function.yaml
// says, from the suite's registry, which an ImageConfig makes Crossplane use
// in place of the public one (as for a registry mirror). It plays the
// External package runtime: it runs the function with mTLS and the
// environment of the DeploymentRuntimeConfig, and tells Crossplane where it
// listens.
func (c *cluster) installFunction(ctx context.Context) error {
	if err := c.apply(ctx, fmt.Sprintf(`
apiVersion: pkg.crossplane.io/v1beta1
kind: ImageConfig
metadata:
  name: e2e-registry-mirror
spec:
  matchImages:
  - prefix: ghcr.io/informaticsmatters/
  rewriteImage:
    prefix: %s/informaticsmatters/
`, c.registry)); err != nil {
		return err
	}
	platform := filepath.Join(c.cfg.repo, "example", "platform", "function.yaml")
	args, env, err := runtimeContainer(platform)
	if err != nil {
		return err
	}
	c.functionArgs, c.functionEnv = args, env
	if err := c.applyFile(ctx, platform, nil); err != nil {
		return err
	}
	var revision string
	err = waitFor(ctx, 2*time.Minute, time.Second, "the FunctionRevision", func() (bool, error) {
		out, err := c.kubectl(ctx, "", "get", "functionrevisions", "-l", "pkg.crossplane.io/package=function-squonk2-viz",
			"-o", "jsonpath={.items[*].metadata.name}")
		revision = strings.TrimSpace(out)
		return revision != "" && !strings.Contains(revision, " "), err
	})
	if err != nil {
		return err
	}

	server, err := c.xfnCA.issue("function-squonk2-viz", nil)
	if err != nil {
		return err
	}
	dir := c.path("pki", "function")
	if err := writeTLSDir(dir, server, c.xfnCA.pem); err != nil {
		return err
	}
	if err := c.runFunction(); err != nil {
		return err
	}
	if _, err := c.kubectl(ctx, "", "-n", "crossplane-system", "create", "secret", "generic", "function-squonk2-viz-tls-server",
		"--from-file=tls.crt="+filepath.Join(dir, "tls.crt"), "--from-file=tls.key="+filepath.Join(dir, "tls.key"),
		"--from-file=ca.crt="+filepath.Join(dir, "ca.crt")); err != nil {
		return err
	}
	if err := waitFor(ctx, 30*time.Second, time.Second, "the FunctionRevision's runtime status", func() (bool, error) {
		err := c.setRuntimeStatus(ctx, revision)
		return err == nil, err
	}); err != nil {
		return err
	}
	return c.waitCondition(ctx, "function.pkg.crossplane.io/function-squonk2-viz", "Healthy", 2*time.Minute)
}

// installConfiguration installs example/platform/configuration.yaml. Its
// dependencies are installed already, but provider-kubernetes not as a
// package (the suite cannot pull it), so dependency resolution is off.
func (c *cluster) installConfiguration(ctx context.Context) error {
	err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "platform", "configuration.yaml"), nil)
	if err != nil {
		return err
	}
	if _, err := c.kubectl(ctx, "", "patch", "configuration/configuration-squonk2-viz", "--type=merge",
		"-p", `{"spec":{"skipDependencyResolution":true}}`); err != nil {
		return err
	}
	if err := c.waitCondition(ctx, "configuration.pkg.crossplane.io/configuration-squonk2-viz", "Healthy", 2*time.Minute); err != nil {
		return err
	}
	return c.waitCondition(ctx, "compositeresourcedefinition.apiextensions.crossplane.io/datavisualisations.squonk.it", "Established", 2*time.Minute)
}

// runtimeContainer returns the arguments and the environment that the
// DeploymentRuntimeConfig in file sets on the package runtime container.
func runtimeContainer(file string) ([]string, []string, error) {
	b, err := os.ReadFile(file) //nolint:gosec // The repository's example.
	if err != nil {
		return nil, nil, err
	}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		if kind(doc) != "DeploymentRuntimeConfig" {
			continue
		}
		obj, err := fromYAML(doc)
		if err != nil {
			return nil, nil, err
		}
		containers, _, _ := unstructured.NestedSlice(obj, "spec", "deploymentTemplate", "spec", "template", "spec", "containers")
		for _, ct := range containers {
			m, _ := ct.(map[string]any)
			if m["name"] != "package-runtime" {
				continue
			}
			list, _ := m["args"].([]any)
			args := make([]string, 0, len(list))
			for _, a := range list {
				args = append(args, fmt.Sprint(a))
			}
			vars, _ := m["env"].([]any)
			env := make([]string, 0, len(vars))
			for _, v := range vars {
				e, _ := v.(map[string]any)
				env = append(env, fmt.Sprintf("%v=%v", e["name"], e["value"]))
			}
			return args, env, nil
		}
	}
	return nil, nil, fmt.Errorf("no package-runtime container in a DeploymentRuntimeConfig of %s", file)
}

// setting returns the value of one of the function's environment variables.
func (c *cluster) setting(variable string) string {
	for _, e := range c.functionEnv {
		if k, v, _ := strings.Cut(e, "="); k == variable {
			return v
		}
	}
	return ""
}

var gvrFunctionRevision = gvrType{Group: "pkg.crossplane.io", Version: "v1", Resource: "functionrevisions"}

// setRuntimeStatus does what the package runtime would for the revision:
// it says where the function listens, names its TLS Secret, and reports the
// runtime healthy.
func (c *cluster) setRuntimeStatus(ctx context.Context, revision string) error {
	rev, err := c.client.Resource(gvrFunctionRevision).Get(ctx, revision, metav1.GetOptions{})
	if err != nil {
		return err
	}
	port := strings.TrimPrefix(c.functionAddr, "127.0.0.1:")
	if err := unstructured.SetNestedField(rev.Object, "dns:///localhost:"+port, "status", "endpoint"); err != nil {
		return err
	}
	if err := unstructured.SetNestedField(rev.Object, "function-squonk2-viz-tls-server", "status", "tlsServerSecretName"); err != nil {
		return err
	}
	conds, _, _ := unstructured.NestedSlice(rev.Object, "status", "conditions")
	kept := make([]any, 0, len(conds)+1)
	for _, cond := range conds {
		if m, ok := cond.(map[string]any); ok && m["type"] != "RuntimeHealthy" {
			kept = append(kept, cond)
		}
	}
	kept = append(kept, map[string]any{
		"type": "RuntimeHealthy", "status": "True", "reason": "HealthyPackageRevision",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	})
	if err := unstructured.SetNestedSlice(rev.Object, kept, "status", "conditions"); err != nil {
		return err
	}
	_, err = c.client.Resource(gvrFunctionRevision).UpdateStatus(ctx, rev, metav1.UpdateOptions{})
	return err
}

// runFunction starts the function with mTLS, on the same port as before
// when it is restarted.
func (c *cluster) runFunction() error {
	if c.functionAddr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		c.functionAddr = addr(port)
		if port, err = freePort(); err != nil {
			return err
		}
		c.functionMetricsAddr = addr(port)
	}
	var err error
	// The DeploymentRuntimeConfig's arguments, and this machine's ports and
	// certificates: on loopback, not the runtime's :9443 and :8080.
	args := append(append([]string{}, c.functionArgs...),
		"--address", c.functionAddr, "--metrics-address", c.functionMetricsAddr, "--tls-server-certs-dir", c.path("pki", "function"))
	c.function, err = c.ps.start("function", c.functionEnv, c.cfg.functionBinary, args...)
	if err != nil {
		return err
	}
	return waitFor(context.Background(), 10*time.Second, 50*time.Millisecond, "the function to listen", func() (bool, error) {
		if !c.function.alive() {
			return false, fmt.Errorf("%w: the function exited:\n%s", errFinal, c.function.tail(20))
		}
		conn, err := net.DialTimeout("tcp", c.functionAddr, 100*time.Millisecond)
		if err != nil {
			return false, err
		}
		return true, conn.Close()
	})
}

// waitCondition waits until the object's condition is True.
func (c *cluster) waitCondition(ctx context.Context, object, condition string, timeout time.Duration) error {
	return waitFor(ctx, timeout, time.Second, object+" "+condition, func() (bool, error) {
		out, err := c.kubectl(ctx, "", "get", object, "-o",
			fmt.Sprintf(`jsonpath={.status.conditions[?(@.type==%q)].status}`, condition))
		if err != nil {
			return false, err
		}
		if strings.TrimSpace(out) != "True" {
			msg, _ := c.kubectl(ctx, "", "get", object, "-o", "jsonpath={.status.conditions}")
			return false, fmt.Errorf("%s is %q: %s", condition, strings.TrimSpace(out), msg)
		}
		return true, nil
	})
}
