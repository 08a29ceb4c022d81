//go:build e2e

// Package e2e proves the function against a real control plane on this
// machine: etcd, kube-apiserver and kube-controller-manager, Crossplane core
// and provider-kubernetes, with the project's packages installed from an OCI
// registry. It replays what the Squonk2 Data Manager does and checks what
// lands in the API server.
//
// It is four suites of one code base: the contract (`make e2e`, the build
// tag e2e) and upgrades under load (`make e2e-upgrade`, the tags e2e and
// upgrade), which check behaviour, and two benchmarks: the load benchmark
// (`make e2e-load`, the tags e2e and load), which measures bursts, restarts
// under load and the cost at rest, and the ceiling benchmark (`make
// e2e-ceiling`, the tags e2e, load and ceiling), which measures what one
// control plane holds. README.md says what each runs.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

var (
	binDir            = flag.String("bin", "", "directory of the control plane's binaries")
	repoDir           = flag.String("repo", "", "path of the repository")
	functionXpkg      = flag.String("function-xpkg", "", "path of the Function package")
	configurationXpkg = flag.String("configuration-xpkg", "", "path of the Configuration package")
	functionBinary    = flag.String("function-binary", "", "the function binary inside the Function package")
	runDir            = flag.String("dir", "", "run directory for PKI, data and logs (emptied first)")
	timingsFile       = flag.String("timings", "", "file to write the tables to")
	crossplaneTool    = flag.String("crossplane-tool", "crossplane-core", "the tool (bin/<tool>, test/tools/<tool>) of the Crossplane core to start with")
	providerTool      = flag.String("provider-tool", "provider-kubernetes", "the tool of the provider-kubernetes to start with")
)

// dmNamespace is the Data Manager's namespace. It enforces the restricted
// Pod Security Standard, so a Pod that breaks it is never created.
const dmNamespace = "im-data-manager"

// otherNamespace is a namespace the Data Manager has no rights in.
const otherNamespace = "other-team"

// c is the control plane of the run.
var c *cluster

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if *binDir == "" || *repoDir == "" || *functionXpkg == "" || *configurationXpkg == "" || *functionBinary == "" || *runDir == "" {
		fmt.Fprintln(os.Stderr, "run with -bin, -repo, -function-xpkg, -configuration-xpkg, -function-binary and -dir (make e2e does)")
		return 2
	}
	if err := os.RemoveAll(*runDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.MkdirAll(*runDir, 0o750); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c = &cluster{
		cfg: config{
			bin: *binDir, repo: *repoDir, functionXpkg: *functionXpkg, configurationXpkg: *configurationXpkg,
			functionBinary: *functionBinary, dir: *runDir, crossplaneTool: *crossplaneTool, providerTool: *providerTool,
		},
		ps: &processes{dir: *runDir},
	}
	defer c.ps.stopAll()

	ctx, cancel := context.WithCancel(context.Background()) // Ends the kubelet's informer.
	defer cancel()
	start := time.Now()
	stopRegistry, err := setUp(ctx)
	if stopRegistry != nil {
		defer stopRegistry()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot set up the control plane: %v\n(logs in %s)\n", err, filepath.Join(*runDir, "logs"))
		return 1
	}
	timings.add("set-up: control plane, Crossplane, provider, packages, the DataVisualisation API", time.Since(start))

	code := m.Run()
	tables := live.String() + costs.String() + timings.String() + admission + leastAuthority + grants + upgrades + ceiling
	if *timingsFile != "" {
		if err := os.WriteFile(*timingsFile, []byte(tables), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Print(tables)
	return code
}

// setUp installs the platform as example/platform and example/data-manager
// say, then the DataVisualisation API as the suite installs it
// (installAPI: the contract by the migration from the operator, the load
// benchmark directly).
func setUp(ctx context.Context) (func(), error) {
	if err := c.startControlPlane(ctx); err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	if err := c.startCrossplane(ctx); err != nil {
		return nil, fmt.Errorf("crossplane: %w", err)
	}
	if err := c.startProvider(ctx); err != nil {
		return nil, fmt.Errorf("provider-kubernetes: %w", err)
	}
	stop, err := c.startRegistry(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	if err := c.installFunction(ctx); err != nil {
		return stop, fmt.Errorf("function: %w", err)
	}
	for _, ns := range []string{dmNamespace, otherNamespace} {
		if err := c.applyTemplate(ctx, "platform/restricted-namespace.yaml", map[string]string{"NAME": ns}); err != nil {
			return stop, err
		}
		if err := c.create(ctx, serviceAccount(ns, "data-manager")); err != nil {
			return stop, err
		}
	}
	if err := c.applyFile(ctx, testdata("platform", "claim.yaml"), nil); err != nil {
		return stop, err
	}
	// cert-manager's Certificate kind, for the kit's certificate.yaml (there
	// is no cert-manager to issue it).
	cm, err := testenv.FindModule(certManager, testenv.CertManagerVersion)
	if err != nil {
		return stop, err
	}
	if err := c.applyHelmCRD(ctx, filepath.Join(cm, "deploy", "crds", "crd-certificates.yaml")); err != nil {
		return stop, fmt.Errorf("cert-manager's Certificate CRD: %w", err)
	}
	if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "platform", "admission.yaml"), nil); err != nil {
		return stop, fmt.Errorf("admission policies: %w", err)
	}
	for _, f := range []string{"rbac.yaml", "admission.yaml", "networkpolicy.yaml", "application.yaml", "certificate.yaml"} {
		if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "data-manager", f), nil); err != nil {
			return stop, fmt.Errorf("data manager: %w", err)
		}
	}
	if c.kubelet, err = c.startKubelet(ctx); err != nil {
		return stop, fmt.Errorf("kubelet: %w", err)
	}
	if err := installAPI(ctx); err != nil {
		return stop, fmt.Errorf("the DataVisualisation API: %w", err)
	}
	// The API server admits nothing a quota counts until the quota
	// controller has counted it.
	if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "data-manager", "quota.yaml"), nil); err != nil {
		return stop, fmt.Errorf("data manager: %w", err)
	}
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace, Name: "squonk2-viz"}}
	if _, _, err := until(ctx, quota, func(q *corev1.ResourceQuota) bool {
		for r := range q.Spec.Hard {
			if _, counted := q.Status.Used[r]; !counted {
				return false
			}
		}
		return true
	}); err != nil {
		return stop, fmt.Errorf("the Data Manager namespace's quota: %w", err)
	}
	return stop, nil
}
