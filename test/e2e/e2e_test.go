//go:build e2e

// Package e2e proves the function against a real control plane on this
// machine: etcd, kube-apiserver and kube-controller-manager, Crossplane core
// and provider-kubernetes, with the project's packages installed from an OCI
// registry. It replays what the Squonk2 Data Manager does and checks what
// lands in the API server. `make e2e` runs it.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/testenv"
)

var (
	binDir            = flag.String("bin", "", "directory of the control plane's binaries")
	repoDir           = flag.String("repo", "", "path of the repository")
	functionXpkg      = flag.String("function-xpkg", "", "path of the Function package")
	configurationXpkg = flag.String("configuration-xpkg", "", "path of the Configuration package")
	functionBinary    = flag.String("function-binary", "", "the function binary inside the Function package")
	runDir            = flag.String("dir", "", "run directory for PKI, data and logs (emptied first)")
	timingsFile       = flag.String("timings", "", "file to write the timing table to")
)

// dmNamespace is the Data Manager's namespace. It enforces the restricted
// Pod Security Standard, so a Pod that breaks it is never created.
const dmNamespace = "im-data-manager"

var (
	c       *cluster
	timings = &timingTable{}
	live    = &latencies{}
	costs   = &costTable{}
	// admission is the matrix TestAdmissionMatrix prints.
	admission string
)

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
			functionBinary: *functionBinary, dir: *runDir,
		},
		ps: &processes{dir: *runDir},
	}
	defer c.ps.stopAll()

	start := time.Now()
	stopRegistry, err := setUp(context.Background())
	if stopRegistry != nil {
		defer stopRegistry()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot set up the control plane: %v\n(logs in %s)\n", err, filepath.Join(*runDir, "logs"))
		return 1
	}
	timings.add("set-up: control plane, Crossplane, provider, packages", time.Since(start))

	code := m.Run()
	table := live.String() + costs.String() + timings.String() + admission
	if *timingsFile != "" {
		if err := os.WriteFile(*timingsFile, []byte(table), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Print(table)
	return code
}

// setUp installs the platform as example/platform and example/data-manager
// say, but for the Configuration, which TestMigrationFromTheOperator
// installs as docs/migration.md says.
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
		if err := c.apply(ctx, restrictedNamespace(ns)); err != nil {
			return stop, err
		}
		if _, err := c.kubectl(ctx, "", "-n", ns, "create", "serviceaccount", "data-manager"); err != nil {
			return stop, err
		}
	}
	// cert-manager's Certificate kind, for the kit's certificate.yaml (there
	// is no cert-manager to issue it).
	cm, err := testenv.FindModule(certManager, certManagerVersion)
	if err != nil {
		return stop, err
	}
	if err := c.applyHelmCRD(ctx, filepath.Join(cm, "deploy", "crds", "crd-certificates.yaml")); err != nil {
		return stop, fmt.Errorf("cert-manager's Certificate CRD: %w", err)
	}
	for _, f := range []string{"rbac.yaml", "application.yaml", "certificate.yaml"} {
		if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "data-manager", f), nil); err != nil {
			return stop, fmt.Errorf("data manager: %w", err)
		}
	}
	if c.kubelet, err = c.startKubelet(ctx); err != nil {
		return stop, fmt.Errorf("kubelet: %w", err)
	}
	return stop, nil
}

// restrictedNamespace is a namespace that enforces the restricted Pod
// Security Standard, and warns and audits by it.
func restrictedNamespace(name string) string {
	return `
apiVersion: v1
kind: Namespace
metadata:
  name: ` + name + `
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
`
}

// otherNamespace is a namespace the Data Manager has no rights in.
const otherNamespace = "other-team"

// domain is the ingress domain the platform configures the function with.
func domain() string {
	return c.setting("INGRESS_DOMAIN")
}

// TestMigrationFromTheOperator starts from a cluster as the kopf operator
// left it, follows docs/migration.md, and checks that the operator's
// instance ends up managed by Crossplane, with its URL, and with nothing
// orphaned or duplicated.
func TestMigrationFromTheOperator(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	defer func() { timings.add("migration from the operator (docs/migration.md)", time.Since(start)) }()
	migrateFromTheOperator(ctx, t)
}

// TestDataManagerPermissions acts as the Data Manager's service account:
// it may create DataVisualisations in its namespace, and nothing else.
func TestDataManagerPermissions(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		namespace, manifest string
		allowed             bool
	}{
		"DataVisualisationInItsNamespace":     {namespace: dmNamespace, manifest: dataVisualisation("permission-check", "1.2.0"), allowed: true},
		"DeploymentInItsNamespace":            {namespace: dmNamespace, manifest: deployment("permission-check", dmNamespace)},
		"DataVisualisationInAnotherNamespace": {namespace: otherNamespace, manifest: strings.Replace(dataVisualisation("permission-check", "1.2.0"), "namespace: "+dmNamespace, "namespace: "+otherNamespace, 1)},
		"DeploymentInAnotherNamespace":        {namespace: otherNamespace, manifest: deployment("permission-check", otherNamespace)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.kubectl(ctx, tc.manifest, "--as=system:serviceaccount:"+dmNamespace+":data-manager",
				"-n", tc.namespace, "create", "--dry-run=server", "-f", "-")
			switch {
			case tc.allowed && err != nil:
				t.Errorf("the Data Manager may not create it: %v", err)
			case !tc.allowed && err == nil:
				t.Error("the Data Manager may create it")
			case !tc.allowed && !strings.Contains(err.Error(), "Forbidden") && !strings.Contains(err.Error(), "forbidden"):
				t.Errorf("want Forbidden, got %v", err)
			}
		})
	}
}

// TestProviderIsLeastPrivileged acts as provider-kubernetes' service
// account: it may manage the objects of instances, and not, for example, Pods
// or RBAC, as cluster-admin could.
func TestProviderIsLeastPrivileged(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		manifest string
		allowed  bool
	}{
		"Deployment":  {manifest: deployment("provider-check", dmNamespace), allowed: true},
		"Pod":         {manifest: "{apiVersion: v1, kind: Pod, metadata: {name: provider-check, namespace: " + dmNamespace + "}, spec: {containers: [{name: x, image: x}]}}"},
		"ClusterRole": {manifest: "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: provider-check}}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.kubectl(ctx, tc.manifest, "--as=system:serviceaccount:crossplane-system:provider-kubernetes",
				"create", "--dry-run=server", "-f", "-")
			if tc.allowed != (err == nil) {
				t.Errorf("provider-kubernetes may create a %s: %v; want %v (%v)", name, err == nil, tc.allowed, err)
			}
		})
	}
}

// TestCrossplaneRightsOnInstanceObjects checks the kit's grants to
// Crossplane (example/platform/crossplane-rbac.yaml and
// crossplane-direct-rbac.yaml), aggregated into the ClusterRole of
// Crossplane's Helm chart, which the suite runs Crossplane with: Crossplane
// may read Deployments, Services and Ingresses, for the function's
// ownership check and the direct mode's watches, and create, apply (patch),
// update and delete them for the direct mode. Ingresses, which the chart's
// own rules leave out, show that the kit grants nothing more. That these
// are all Crossplane needs, the direct mode's steps show: Crossplane runs
// as this service account.
func TestCrossplaneRightsOnInstanceObjects(t *testing.T) {
	ctx := context.Background()
	can := func(verb, resource string) bool {
		out, _ := c.kubectl(ctx, "", "auth", "can-i", verb, resource, "-n", dmNamespace, "--as=system:serviceaccount:crossplane-system:crossplane")
		return strings.TrimSpace(out) == "yes"
	}
	for _, resource := range []string{"deployments.apps", "services", "ingresses.networking.k8s.io"} {
		for _, verb := range []string{"get", "list", "watch", "create", "patch", "update", "delete"} {
			if !can(verb, resource) {
				t.Errorf("Crossplane may not %s %s", verb, resource)
			}
		}
	}
	for _, verb := range []string{"deletecollection"} {
		if can(verb, "ingresses.networking.k8s.io") {
			t.Errorf("Crossplane may %s ingresses: the kit grants more than it uses", verb)
		}
	}
}

func deployment(name, namespace string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: x, image: x}]}
`, name, namespace)
}

// dataVisualisation is a DataVisualisation as the Data Manager creates it.
func dataVisualisation(name, imageTag string) string {
	tag := ""
	if imageTag != "" {
		tag = "imageTag: " + imageTag
	}
	return fmt.Sprintf(`
apiVersion: squonk.it/v1
kind: DataVisualisation
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  imDataManager:
    %[3]s
    taskId: task-8da6f95a
    serviceAccountName: dm-application
    resources:
      requests: {cpu: 100m, memory: 512Mi}
      limits: {cpu: "1", memory: 2Gi}
    securityContext: {runAsUser: 1002, runAsGroup: 100, fsGroup: 100}
    project: {claimName: dm-project-efb35c90, id: project-eb03b20f}
    ingressProxyBodySize: 500m
    labels:
    - data-manager.informaticsmatters.com/instance=%[1]s
    - data-manager.informaticsmatters.com/instance-id=%[1]s-id
    - data-manager.informaticsmatters.com/owner=dlister
`, name, dmNamespace, tag)
}

// TestDataManager replays the Data Manager's actions on one instance, in
// order, then on many at once, in each mode: each step builds on the one
// before. Each live step is timed from the event that triggers it, and the
// timings go to the table the suite prints, the modes side by side.
func TestDataManager(t *testing.T) {
	ctx := context.Background()
	if err := c.installConfiguration(ctx); err != nil { // Done by the migration, unless it failed.
		t.Fatal(err)
	}
	for _, m := range modes {
		if !t.Run(m.name, func(t *testing.T) { dataManagerSteps(ctx, t, m) }) {
			t.FailNow()
		}
	}
}

func dataManagerSteps(ctx context.Context, t *testing.T, m mode) {
	name := m.instance("instance-3af1f24e")
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"1-CreateComposesTheInstance", func(t *testing.T) { createComposesTheInstance(ctx, t, m, name) }},
		{"2-ReadyOnlyWhenItsPodRuns", func(t *testing.T) { readyOnlyWhenItsPodRuns(ctx, t, m, name) }},
		{"3-ImageTagChangeRollsOut", func(t *testing.T) { imageTagChangeRollsOut(ctx, t, m, name) }},
		{"4a-MissingImageTagIsRejectedByTheAPIServer", func(t *testing.T) { missingImageTagIsRejected(ctx, t, m) }},
		{"4b-BadLabelIsRefusedByTheAPIServer", func(t *testing.T) { badLabelIsRefused(ctx, t, m) }},
		{"5-FiftyAtOnce", func(t *testing.T) { manyAtOnce(ctx, t, m, "load", 50, m.targets.burst50) }},
		{"6-FiftyAtRest", func(t *testing.T) { atRest(ctx, t, m, 51) }},
		{"7-HandChangesAreUndone", func(t *testing.T) { handChangesAreUndone(ctx, t, m, name) }},
		{"8-DeleteRemovesEverything", func(t *testing.T) { deleteRemovesEverything(ctx, t, m, name) }},
		{"9-FiftyDeletedAtOnce", func(t *testing.T) {
			deleteAtOnce(ctx, t, m, "50 deleted at once → each gone", names(m.instance("load"), 50), 0)
		}},
		{"10-TwoHundredAtOnce", func(t *testing.T) { manyAtOnce(ctx, t, m, "bulk", 200, 0) }},
		{"11-TwoHundredAtRest", func(t *testing.T) { atRest(ctx, t, m, 200) }},
		{"12-TwoHundredDeletedAtOnce", func(t *testing.T) {
			deleteAtOnce(ctx, t, m, "200 deleted at once → each gone", names(m.instance("bulk"), 200), 0)
		}},
		{"13-YoungDeploymentDeleted", func(t *testing.T) { youngDeploymentDeleted(ctx, t, m) }},
	}
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, s.run)
		timings.add(m.name+" mode: step "+s.name, time.Since(start))
		if err := c.kubelet.check(); err != nil {
			t.Error(err)
		}
		if !ok {
			t.Fatalf("step %s failed; the steps after it depend on it (logs in %s)", s.name, filepath.Join(*runDir, "logs"))
		}
	}
}

// names returns n instance names with a prefix, as manyAtOnce makes them.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func createComposesTheInstance(ctx context.Context, t *testing.T, m mode, name string) {
	crd, err := c.get(ctx, gvrCRD, "", "datavisualisations.squonk.it")
	if err != nil || crd == nil {
		t.Fatalf("cannot get the DataVisualisation CRD: %v", err)
	}
	want := map[string]string{
		"data-manager.informaticsmatters.com/application":              "yes",
		"data-manager.informaticsmatters.com/application-namespaces":   "im-data-manager",
		"data-manager.informaticsmatters.com/application-url-location": "viz.url",
	}
	for k, v := range want {
		if got := crd.GetAnnotations()[k]; got != v {
			t.Errorf("CRD annotation %s: want %q, got %q", k, v, got)
		}
	}

	created, err := createXR(ctx, m, name)
	if err != nil {
		t.Fatal(err)
	}
	at, d, err := await(ctx, gvrDeployment, name, exists)
	if err != nil {
		t.Fatal(err)
	}
	live.one(m, "create → Deployment present", at.Sub(created), 0)
	if err := checkSubset(fmt.Sprintf(`
metadata: {labels: {app: %[1]s}}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {deployment: %[1]s}}
  template:
    metadata:
      labels:
        deployment: %[1]s
        data-manager.informaticsmatters.com/instance: %[1]s
        data-manager.informaticsmatters.com/instance-id: %[1]s-id
        data-manager.informaticsmatters.com/owner: dlister
    spec:
      serviceAccountName: dm-application
      securityContext:
        runAsUser: 1002
        runAsGroup: 100
        fsGroup: 100
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      nodeSelector: {informaticsmatters.com/purpose-application: "yes"}
      imagePullSecrets: [{name: svo-pullsecret}]
      volumes: [{name: project, persistentVolumeClaim: {claimName: dm-project-efb35c90}}]
      containers:
      - name: viz
        image: ghcr.io/informaticsmatters/squonk2-viz-app:1.2.0
        imagePullPolicy: IfNotPresent
        ports: [{name: 5170-tcp, containerPort: 5170, protocol: TCP}]
        env:
        - {name: DM_PROJECT_DIR, value: /project}
        - {name: DM_PROJECT_ID, value: project-eb03b20f}
        - {name: DM_INSTANCE_ID, value: %[1]s-id}
        - {name: DM_INSTANCE_OWNER, value: dlister}
        - {name: DM_BASE_PATH, value: /%[1]s}
        volumeMounts: [{name: project, mountPath: /project, subPath: project-eb03b20f}]
        resources:
          requests: {cpu: 100m, memory: 512Mi}
          limits: {cpu: "1", memory: 2Gi}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
`, name), d); err != nil {
		t.Error(err)
	}
	_, svc, err := await(ctx, gvrService, name, exists)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSubset(fmt.Sprintf(`
metadata: {labels: {app: %[1]s}}
spec:
  type: ClusterIP
  selector: {deployment: %[1]s}
  ports: [{name: 5170-tcp, port: 5170, targetPort: 5170, protocol: TCP}]
`, name), svc); err != nil {
		t.Error(err)
	}
	_, i, err := await(ctx, gvrIngress, name, exists)
	if err != nil {
		t.Fatal(err)
	}
	// The kit gives the function the Secret of the namespace's one
	// Certificate for the domain: no instance asks for its own.
	if err := checkSubset(strings.NewReplacer("DOMAIN", domain(), "SECRET", c.setting("INGRESS_TLS_SECRET")).Replace(fmt.Sprintf(`
metadata:
  labels: {app: %[1]s}
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 500m
spec:
  ingressClassName: nginx
  tls: [{hosts: [DOMAIN], secretName: SECRET}]
  rules:
  - host: DOMAIN
    http:
      paths:
      - path: /%[1]s
        pathType: Prefix
        backend: {service: {name: %[1]s, port: {number: 5170}}}
`, name)), i); err != nil {
		t.Error(err)
	}
	if issuer, ok := i.GetAnnotations()["cert-manager.io/cluster-issuer"]; ok {
		t.Errorf("the Ingress asks cert-manager for a certificate of its own (%s)", issuer)
	}

	url := "https://" + domain() + "/" + name
	waitXR(ctx, t, name, "status.viz.url = "+url, func(xr *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "url")
		return got == url
	})
	checkConverged(ctx, t, m, name)
}

func readyOnlyWhenItsPodRuns(ctx context.Context, t *testing.T, m mode, name string) {
	// Once the function has seen the Service and the Ingress ready, and the
	// Deployment (or its Object) created, all that is left is the
	// Deployment: without a running Pod the instance must not be Ready.
	_, xr, err := await(ctx, gvrXR, name, func(xr *unstructured.Unstructured) bool {
		_, _, msg := condition(xr, "ResourcesReady")
		return msg == m.waiting()
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, reason, msg := condition(xr, "Ready"); status == "True" {
		t.Fatalf("the DataVisualisation is Ready before its Pod runs (%s: %s)", reason, msg)
	}
	timePodReadyToReady(ctx, t, m, name, "Pod Ready → DataVisualisation Ready")
}

// timePodReadyToReady runs the instance's Pods and times it from its Pod
// turning Ready to the DataVisualisation turning Ready.
func timePodReadyToReady(ctx context.Context, t *testing.T, m mode, name, what string) {
	t.Helper()
	if err := live.one(m, what, podReadyToReady(ctx, t, []string{name})[0], m.targets.ready).met(); err != nil {
		t.Error(err)
	}
}

// imageTagChangeRollsOut changes the image tag: the Deployment follows, the
// instance is not Ready on its old Pod, and is Ready again once the new Pod
// runs.
func imageTagChangeRollsOut(ctx context.Context, t *testing.T, m mode, name string) {
	const image = "ghcr.io/informaticsmatters/squonk2-viz-app:1.3.0"
	c.kubelet.holdPods(name) // The new Pod waits, as for its image to be pulled.
	if err := c.apply(ctx, m.dataVisualisation(name, "1.3.0")); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	at, _, err := await(ctx, gvrDeployment, name, func(d *unstructured.Unstructured) bool {
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		return len(cs) > 0 && cs[0].(map[string]any)["image"] == image //nolint:forcetypeassert // A Deployment's shape.
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := live.one(m, "imageTag changed → Deployment updated", at.Sub(changed), m.targets.rollout).met(); err != nil {
		t.Error(err)
	}
	if _, _, err := await(ctx, gvrXR, name, xrCondition("Ready", "False")); err != nil {
		t.Fatalf("the DataVisualisation stays Ready on its old Pod: %v", err)
	}
	if _, xr, err := await(ctx, gvrXR, name, func(xr *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "image")
		return got == image
	}); err != nil {
		t.Fatal(err)
	} else if status, _, _ := condition(xr, "Ready"); status == "True" {
		t.Fatal("the DataVisualisation is Ready before its new Pod runs")
	}
	timePodReadyToReady(ctx, t, m, name, "imageTag changed: new Pod Ready → DataVisualisation Ready")
}

// handChangesAreUndone deletes each of the instance's objects by hand, and
// edits its Deployment, and times each from the change to its repair. The
// instance is by now older than provider-kubernetes' creation grace period
// (youngDeploymentDeleted).
func handChangesAreUndone(ctx context.Context, t *testing.T, m mode, name string) {
	for _, o := range []struct {
		what string
		gvr  gvrType
	}{{"Deployment", gvrDeployment}, {"Service", gvrService}, {"Ingress", gvrIngress}} {
		took, err := deletedChildComesBack(ctx, o.gvr, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := live.one(m, o.what+" deleted by hand → back", took, m.targets.repair).met(); err != nil {
			t.Error(err)
		}
	}
	took, err := editedDeploymentIsRestored(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.one(m, "Deployment edited by hand (replicas 3, another image) → restored", took, m.targets.repair).met(); err != nil {
		t.Error(err)
	}
}

// youngDeploymentDeleted deletes a Deployment within seconds of its creation.
// provider-kubernetes trusts that an object it created is gone only after a
// grace period (crossplane-runtime's managed reconciler, 30 s), so in the
// provider mode it comes back only then; in the direct mode Crossplane puts
// it back at once. Measured and reported.
func youngDeploymentDeleted(ctx context.Context, t *testing.T, m mode) {
	name := m.instance("young-instance")
	if _, err := createXR(ctx, m, name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := await(ctx, gvrDeployment, name, exists); err != nil {
		t.Fatal(err)
	}
	took, err := deletedChildComesBack(ctx, gvrDeployment, name)
	if err != nil {
		t.Fatal(err)
	}
	live.one(m, "Deployment deleted by hand within seconds of its creation → back (provider mode: the provider's 30 s creation grace period)", took, 0)
	if _, err := deleteAndAwaitGone(ctx, name); err != nil {
		t.Fatal(err)
	}
}

func missingImageTagIsRejected(ctx context.Context, t *testing.T, m mode) {
	err := c.apply(ctx, m.dataVisualisation(m.instance("instance-no-tag"), ""))
	if err == nil {
		t.Fatal("the API server accepted a DataVisualisation without imageTag")
	}
	if !strings.Contains(err.Error(), "spec.imDataManager.imageTag") || !strings.Contains(err.Error(), "Required") {
		t.Errorf("want the API server to say spec.imDataManager.imageTag is required, got: %v", err)
	}
}

// badLabelIsRefused creates a DataVisualisation with a label that is not
// key=value: the API server refuses it at create, naming the field, so the
// Data Manager hears "no" at once instead of waiting for a URL.
func badLabelIsRefused(ctx context.Context, t *testing.T, m mode) {
	xr := strings.Replace(m.dataVisualisation(m.instance("instance-bad-label"), "1.2.0"), "- data-manager.informaticsmatters.com/owner=dlister", "- owner", 1)
	err := c.apply(ctx, xr)
	if err == nil {
		t.Fatal("the API server accepted a DataVisualisation with the label \"owner\"")
	}
	if !strings.Contains(err.Error(), "spec.imDataManager.labels[2]") || !strings.Contains(err.Error(), "must be key=value") {
		t.Errorf("want the API server to say spec.imDataManager.labels[2] must be key=value, got: %v", err)
	}
}

func deleteRemovesEverything(ctx context.Context, t *testing.T, m mode, name string) {
	took, err := deleteAndAwaitGone(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.one(m, "DataVisualisation deleted → its Objects, Deployment, Service and Ingress gone", took, m.targets.delete).met(); err != nil {
		t.Error(err)
	}
}

func mustGet(ctx context.Context, t *testing.T, gvr gvrType, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := c.get(ctx, gvr, dmNamespace, name)
	if err != nil || u == nil {
		t.Fatalf("cannot get %s %s: %v", gvr.Resource, name, err)
	}
	return u
}

// waitXR waits until the DataVisualisation satisfies cond.
func waitXR(ctx context.Context, t *testing.T, name, what string, cond func(*unstructured.Unstructured) bool) {
	t.Helper()
	if _, last, err := await(ctx, gvrXR, name, func(u *unstructured.Unstructured) bool { return u != nil && cond(u) }); err != nil {
		if last != nil {
			status, _, _ := unstructured.NestedFieldNoCopy(last.Object, "status")
			t.Fatalf("%s: %s: %v\nlast status: %v", name, what, err, status)
		}
		t.Fatalf("%s: %s: %v", name, what, err)
	}
}

// A timingTable collects how long the set-up and each step took.
type timingTable struct {
	mu   sync.Mutex
	rows []string
}

func (tt *timingTable) add(what string, d time.Duration) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.rows = append(tt.rows, fmt.Sprintf("| %s | %s |\n", what, d.Round(100*time.Millisecond)))
}

func (tt *timingTable) String() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	var b strings.Builder
	b.WriteString("\n| end-to-end | time |\n|---|---|\n")
	for _, r := range tt.rows {
		b.WriteString(r)
	}
	return b.String()
}
