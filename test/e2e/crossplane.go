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
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

// The modules of what the suite runs or reads. Each one's version is the
// one the go.mod of its tool module under test/tools/ pins (pinned).
const (
	crossplaneModule   = "github.com/crossplane/crossplane/v2"
	providerKubernetes = "github.com/crossplane-contrib/provider-kubernetes"
	certManager        = "github.com/cert-manager/cert-manager"

	// packageVersion is the tag the packages are pushed with.
	packageVersion = "v0.1.0"
)

// pinned returns the source of a module at the version that the tool
// module test/tools/<tool> pins.
func (c *cluster) pinned(tool, module string) (string, error) {
	version, err := testenv.Pinned(filepath.Join(c.cfg.repo, "test", "tools", tool), module)
	if err != nil {
		return "", err
	}
	return testenv.FindModule(module, version)
}

// create creates objects.
func (c *cluster) create(ctx context.Context, objs ...client.Object) error {
	for _, o := range objs {
		if err := c.kube.Create(ctx, o); err != nil {
			return fmt.Errorf("cannot create %s %s: %w", kindOf(o), client.ObjectKeyFromObject(o), err)
		}
	}
	return nil
}

func namespace(named string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: named}}
}

func serviceAccount(namespace, named string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: named}}
}

// startCrossplane initialises Crossplane core (its CRDs and TLS secrets) and
// starts it, out of cluster, with the External package runtime: the suite
// runs the function and the provider itself. Crossplane runs as its service
// account, with the ClusterRoles its Helm chart makes and what the kit
// aggregates into them, so that a right the kit forgets fails the suite.
func (c *cluster) startCrossplane(ctx context.Context) error {
	if err := c.create(ctx, namespace("crossplane-system")); err != nil {
		return err
	}
	var err error
	if c.xfnCA, err = newCA("e2e-functions-ca"); err != nil {
		return err
	}
	xfnClient, err := c.xfnCA.issue("crossplane", nil)
	if err != nil {
		return err
	}
	if err := writeTLSDir(c.path("pki", "xfn-client"), xfnClient, c.xfnCA.pem); err != nil {
		return err
	}
	if err := c.create(ctx, serviceAccount("crossplane-system", "crossplane")); err != nil {
		return err
	}
	return c.deployCrossplane(ctx, c.cfg.crossplaneTool)
}

// deployCrossplane does what installing or upgrading Crossplane's Helm chart
// of a release does, for the release that the tool pins: it applies the
// chart's RBAC and Crossplane's CRDs (init) and starts Crossplane core with
// the chart's arguments and the kit's values.
func (c *cluster) deployCrossplane(ctx context.Context, tool string) error {
	xp, err := c.pinned(tool, crossplaneModule)
	if err != nil {
		return err
	}
	chart := filepath.Join(xp, "cluster", "charts", "crossplane")
	chartArgs, chartEnv, err := crossplaneChartValues(chart, filepath.Join(c.cfg.repo, "example", "platform", "crossplane-values.yaml"))
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
	// fails until the CRDs are established: run it until it succeeds.
	err = probe(ctx, 90*time.Second, 2*time.Second, "crossplane core init", nil, func() error {
		p, err := c.ps.start("crossplane-init", env, "unshare", c.inPod("crossplane", c.path("crossplane-serviceaccount"),
			filepath.Join(c.cfg.bin, tool), "core", "init",
			"--cr-ds-path="+filepath.Join(xp, "cluster", "crds"), "--enable-webhooks=false",
			"--tlsca-secret-name=crossplane-root-ca", "--tls-client-secret-name=crossplane-tls-client")...)
		if err != nil {
			return err
		}
		<-p.done
		if p.err != nil {
			return fmt.Errorf("%w:\n%s", p.err, p.tail(5))
		}
		return nil
	})
	if err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	xpkgCache := c.path("xpkg-cache")
	if err := os.MkdirAll(xpkgCache, 0o750); err != nil { // Crossplane needs it to exist.
		return err
	}
	// The chart's arguments, and what this machine needs: the suite plays
	// the package runtime (there is no kubelet), the API server cannot reach
	// a webhook Service (there is no cluster network), and the ports and
	// the cache are the machine's.
	c.crossplaneEnv = env
	c.crossplaneMetricsAddr = addr(ports[0])
	c.crossplaneArgs = append(append([]string{"core", "start"}, chartArgs...),
		"--package-runtime=Function=External;Provider=External", "--enable-webhooks=false", "--cache-dir="+xpkgCache,
		fmt.Sprintf("--metrics-port=%d", ports[0]), fmt.Sprintf("--health-probe-port=%d", ports[1]),
		fmt.Sprintf("--webhook-port=%d", ports[2]))
	c.crossplaneBinary = filepath.Join(c.cfg.bin, tool)
	return c.runCrossplane()
}

// runCrossplane starts Crossplane core as startCrossplane set it up.
func (c *cluster) runCrossplane() error {
	var err error
	c.crossplane, err = c.ps.start("crossplane", c.crossplaneEnv, "unshare",
		c.inPod("crossplane", c.path("crossplane-serviceaccount"), c.crossplaneBinary, c.crossplaneArgs...)...)
	return err
}

// The components' metrics, on loopback.
func (c *cluster) crossplaneMetricsURL() string {
	return "http://" + c.crossplaneMetricsAddr + "/metrics"
}
func (c *cluster) providerMetricsURL() string { return "http://" + c.providerMetricsAddr + "/metrics" }
func (c *cluster) functionMetricsURL() string { return "http://" + c.functionMetricsAddr + "/metrics" }

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

// writeServiceAccount writes a token of a service account, the cluster's CA
// and the namespace into dir, as a Pod of the account has them.
func (c *cluster) writeServiceAccount(ctx context.Context, namespace, account, dir string) error {
	expiry := int64((2 * time.Hour).Seconds())
	token := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}
	if err := c.kube.SubResource("token").Create(ctx, serviceAccount(namespace, account), token); err != nil {
		return fmt.Errorf("cannot make a token of %s/%s: %w", namespace, account, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for file, content := range map[string][]byte{"token": []byte(token.Status.Token), "ca.crt": c.kubeCA.pem, "namespace": []byte(namespace)} {
		if err := os.WriteFile(filepath.Join(dir, file), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// crossplaneServiceAccount makes Crossplane's service account as its Helm
// chart does, with the chart's ClusterRoles and binding (rendered from the
// chart's templates with its default values), the rights Crossplane's RBAC
// manager would add (testdata/platform/crossplane-system-rbac.yaml), and
// writes its token for runCrossplane.
func (c *cluster) crossplaneServiceAccount(ctx context.Context, chart string) error {
	for _, f := range []string{"clusterrole.yaml", "clusterrolebinding.yaml"} {
		manifest, err := renderChartTemplate(filepath.Join(chart, "templates", f))
		if err != nil {
			return err
		}
		objs, err := decodeObjects(strings.NewReader(manifest))
		if err != nil {
			return fmt.Errorf("the chart's %s: %w", f, err)
		}
		if err := c.apply(ctx, objs...); err != nil {
			return fmt.Errorf("the chart's %s: %w", f, err)
		}
	}
	if err := c.applyFile(ctx, testdata("platform", "crossplane-system-rbac.yaml"), nil); err != nil {
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

// crossplaneChartValues returns the arguments and environment that
// Crossplane's Helm chart gives the crossplane container with the kit's
// values over the chart's defaults (as Helm merges them: maps key by key, a
// list in place of a list): its args, leader election, the Go runtime's
// limits (GOMAXPROCS and GOMEMLIMIT, from the container's resource limits)
// and the names the chart gives its service account and TLS Secrets.
func crossplaneChartValues(chart, kitValues string) ([]string, []string, error) {
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
	for _, file := range []string{filepath.Join(chart, "values.yaml"), kitValues} {
		b, err := os.ReadFile(file) //nolint:gosec // The chart in the module cache, and the kit.
		if err != nil {
			return nil, nil, err
		}
		if err := yaml.Unmarshal(b, &values); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
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
	if err := c.applyProviderCRDs(ctx, c.cfg.providerTool); err != nil {
		return err
	}
	if err := c.create(ctx, serviceAccount("crossplane-system", "provider-kubernetes")); err != nil {
		return err
	}
	if err := c.applyFile(ctx, testdata("platform", "provider-system-rbac.yaml"), nil); err != nil {
		return err
	}
	for _, f := range []string{"provider-kubernetes-rbac.yaml", "provider-kubernetes.yaml", "crossplane-rbac.yaml", "crossplane-direct-rbac.yaml"} {
		if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "platform", f), notKind("Provider")); err != nil {
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
	return c.runProvider(ctx, c.cfg.providerTool)
}

// applyProviderCRDs applies the CRDs of the provider-kubernetes release
// that the tool pins, as its package's revision does.
func (c *cluster) applyProviderCRDs(ctx context.Context, tool string) error {
	pk, err := c.pinned(tool, providerKubernetes)
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
	return nil
}

// runProvider starts provider-kubernetes as it runs in a cluster: with the
// in-cluster configuration of its service account (a token in a private
// mount of /run/secrets, and KUBERNETES_SERVICE_HOST), which is also what
// its InjectedIdentity provider config uses, and with the arguments and
// environment of the platform's DeploymentRuntimeConfig.
func (c *cluster) runProvider(ctx context.Context, tool string) error {
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
		c.inPod("provider-kubernetes", sa, filepath.Join(c.cfg.bin, tool), args...)...)
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
	stop := func() { _ = srv.Close() }
	if err := c.pushPackages(ctx, c.cfg.functionXpkg, c.cfg.configurationXpkg, packageVersion); err != nil {
		return stop, err
	}
	return stop, nil
}

// The repositories of the project's packages, in the suite's registry as
// in the public one.
const (
	functionRepository      = "informaticsmatters/function-squonk2-viz"
	configurationRepository = "informaticsmatters/configuration-squonk2-viz"
)

// pushPackages pushes a Function and a Configuration package to the suite's
// registry, tagged version.
func (c *cluster) pushPackages(ctx context.Context, functionXpkg, configurationXpkg, version string) error {
	for file, repo := range map[string]string{functionXpkg: functionRepository, configurationXpkg: configurationRepository} {
		img, err := tarball.ImageFromPath(file, nil)
		if err != nil {
			return fmt.Errorf("cannot open %s: %w", file, err)
		}
		ref, err := name.ParseReference(c.registry + "/" + repo + ":" + version)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("cannot push %s: %w", ref, err)
		}
	}
	return nil
}

// functionName is the name of the project's Function package.
const functionName = "function-squonk2-viz"

// installFunction installs the function as example/platform/function.yaml
// says, from the suite's registry, which an ImageConfig makes Crossplane use
// in place of the public one (as for a registry mirror). It plays the
// External package runtime: it runs the function with mTLS and the
// environment of the DeploymentRuntimeConfig, and tells Crossplane where it
// listens.
func (c *cluster) installFunction(ctx context.Context) error {
	if err := c.applyTemplate(ctx, "platform/image-config.yaml", map[string]string{"REGISTRY": c.registry}); err != nil {
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
	_, revision, err := watchForAny(ctx, unstructuredOf(gvkFunctionRevision, "", ""),
		labels.Set{"pkg.crossplane.io/package": functionName}, exists).wait()
	if err != nil {
		return fmt.Errorf("the FunctionRevision: %w", err)
	}

	server, err := c.xfnCA.issue(functionName, nil)
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
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "crossplane-system", Name: functionName + "-tls-server"}, Data: map[string][]byte{}}
	for _, f := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if secret.Data[f], err = os.ReadFile(filepath.Join(dir, f)); err != nil { //nolint:gosec // The suite's PKI.
			return err
		}
	}
	if err := c.create(ctx, secret); err != nil {
		return err
	}
	if err := c.setRuntimeStatus(ctx, revision.GetName(), c.runFor(revision)); err != nil {
		return err
	}
	if err := c.playRuntime(ctx); err != nil {
		return err
	}
	return c.waitCondition(ctx, unstructuredOf(gvkFunction, "", functionName), "Healthy")
}

// playRuntime keeps each revision of a package image that the suite runs
// the function of reporting where it listens, as a package runtime does: a
// revision Crossplane makes later (Crossplane v2.3 makes a second at
// install) or whose status it rewrites is answered at once.
func (c *cluster) playRuntime(ctx context.Context) error {
	lw, err := c.listWatch(unstructuredOf(gvkFunctionRevision, "", ""), nil)
	if err != nil {
		return err
	}
	informer := cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, 0, cache.Indexers{})
	reassert := func(o any) {
		r, ok := o.(*unstructured.Unstructured)
		if !ok {
			return
		}
		image, _, _ := unstructured.NestedString(r.Object, "spec", "image")
		want, known := c.endpoints.Load(image)
		if endpoint, _, _ := unstructured.NestedString(r.Object, "status", "endpoint"); known && endpoint != want {
			if err := c.setRuntimeStatus(ctx, r.GetName(), want.(string)); err != nil && ctx.Err() == nil { //nolint:forcetypeassert // endpoints holds strings.
				log.Printf("package runtime: %v", err)
			}
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: reassert, UpdateFunc: func(_, o any) { reassert(o) },
	}); err != nil {
		return err
	}
	go informer.RunWithContext(ctx)
	return nil
}

// runFor makes the function the suite runs now (at functionAddr) that of
// the revision's package image, and returns its endpoint.
func (c *cluster) runFor(revision *unstructured.Unstructured) string {
	image, _, _ := unstructured.NestedString(revision.Object, "spec", "image")
	endpoint := "dns:///localhost:" + strings.TrimPrefix(c.functionAddr, "127.0.0.1:")
	c.endpoints.Store(image, endpoint)
	return endpoint
}

// skipDependencyResolution turns the Configuration's dependency resolution
// off: the suite's provider-kubernetes is no package.
func (c *cluster) skipDependencyResolution(ctx context.Context) error {
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"skipDependencyResolution":true}}`))
	if err := c.kube.Patch(ctx, unstructuredOf(gvkConfiguration, "", "configuration-squonk2-viz"), patch); err != nil {
		return fmt.Errorf("cannot patch the Configuration: %w", err)
	}
	return nil
}

// runtimeContainer returns the arguments and the environment that the
// DeploymentRuntimeConfig in file sets on the package runtime container.
func runtimeContainer(file string) ([]string, []string, error) {
	rc, err := testenv.KitRuntimeContainer(file)
	return rc.Args, rc.Env, err
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

// setRuntimeStatus does what the package runtime would for the revision:
// it says where the function listens, names its TLS Secret, and reports the
// runtime healthy.
func (c *cluster) setRuntimeStatus(ctx context.Context, revision, endpoint string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		rev := unstructuredOf(gvkFunctionRevision, "", revision)
		if err := c.kube.Get(ctx, client.ObjectKeyFromObject(rev), rev); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(rev.Object, endpoint, "status", "endpoint"); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(rev.Object, functionName+"-tls-server", "status", "tlsServerSecretName"); err != nil {
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
		return c.kube.Status().Update(ctx, rev)
	})
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
	if c.functionBinary == "" {
		c.functionBinary = c.cfg.functionBinary
	}
	c.function, err = c.ps.start("function", c.functionEnv, c.functionBinary, args...)
	if err != nil {
		return err
	}
	return probe(context.Background(), 10*time.Second, 50*time.Millisecond, "the function to listen", c.function, func() error {
		conn, err := net.DialTimeout("tcp", c.functionAddr, 100*time.Millisecond)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// waitCondition waits until the object's condition is True.
func (c *cluster) waitCondition(ctx context.Context, ref *unstructured.Unstructured, condition string) error {
	if _, last, err := until(ctx, ref, xrCondition(condition, "True")); err != nil {
		if last != nil {
			conds, _, _ := unstructured.NestedSlice(last.Object, "status", "conditions")
			return fmt.Errorf("%s is not %s: %w (conditions: %v)", describe(ref, nil), condition, err, conds)
		}
		return fmt.Errorf("%s is not %s: %w", describe(ref, nil), condition, err)
	}
	return nil
}
