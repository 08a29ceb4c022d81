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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
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
	if *timingsFile != "" {
		if err := os.WriteFile(*timingsFile, []byte(timings.String()), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Print(timings)
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
	for _, f := range []string{"rbac.yaml", "application.yaml"} {
		if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "data-manager", f), nil); err != nil {
			return stop, fmt.Errorf("data manager: %w", err)
		}
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
// order: each step builds on the one before.
func TestDataManager(t *testing.T) {
	ctx := context.Background()
	if err := c.installConfiguration(ctx); err != nil { // Done by the migration, unless it failed.
		t.Fatal(err)
	}
	const name = "instance-3af1f24e"
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"1-CreateComposesTheInstance", func(t *testing.T) { createComposesTheInstance(ctx, t, name) }},
		{"2-ReadyOnlyWhenItsPodRuns", func(t *testing.T) { readyOnlyWhenItsPodRuns(ctx, t, name) }},
		{"3a-ImageTagChangeReachesTheDeployment", func(t *testing.T) { imageTagChangeReachesTheDeployment(ctx, t, name) }},
		{"3b-DeletedDeploymentComesBack", func(t *testing.T) { deletedDeploymentComesBack(ctx, t, name) }},
		{"4a-MissingImageTagIsRejectedByTheAPIServer", func(t *testing.T) { missingImageTagIsRejected(ctx, t) }},
		{"4b-BadLabelIsReportedAndNothingComposed", func(t *testing.T) { badLabelIsReported(ctx, t) }},
		{"5-DeleteRemovesEverything", func(t *testing.T) { deleteRemovesEverything(ctx, t, name) }},
		{"6-FiftyAtOnce", func(t *testing.T) { fiftyAtOnce(ctx, t) }},
	}
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, s.run)
		timings.add("step "+s.name, time.Since(start))
		if !ok {
			t.Fatalf("step %s failed; the steps after it depend on it (logs in %s)", s.name, filepath.Join(*runDir, "logs"))
		}
	}
}

func createComposesTheInstance(ctx context.Context, t *testing.T, name string) {
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

	if err := c.apply(ctx, dataVisualisation(name, "1.2.0")); err != nil {
		t.Fatal(err)
	}
	d := waitObject(ctx, t, gvrDeployment, name)
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
	s := waitObject(ctx, t, gvrService, name)
	if err := checkSubset(fmt.Sprintf(`
metadata: {labels: {app: %[1]s}}
spec:
  type: ClusterIP
  selector: {deployment: %[1]s}
  ports: [{name: 5170-tcp, port: 5170, targetPort: 5170, protocol: TCP}]
`, name), s); err != nil {
		t.Error(err)
	}
	i := waitObject(ctx, t, gvrIngress, name)
	if err := checkSubset(strings.NewReplacer("DOMAIN", domain(), "ISSUER", c.setting("INGRESS_CERT_ISSUER")).Replace(fmt.Sprintf(`
metadata:
  labels: {app: %[1]s}
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 500m
    cert-manager.io/cluster-issuer: ISSUER
spec:
  ingressClassName: nginx
  tls: [{hosts: [DOMAIN], secretName: %[1]s-tls}]
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

	url := "https://" + domain() + "/" + name
	waitXR(ctx, t, name, "status.viz.url = "+url, func(xr *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "url")
		return got == url
	})
}

func readyOnlyWhenItsPodRuns(ctx context.Context, t *testing.T, name string) {
	// Once the function has seen the Service and the Ingress ready, and the
	// Deployment's Object created, all that is left is the Deployment:
	// without a running Pod the instance must not be Ready.
	xr := waitXR(ctx, t, name, "waiting for the deployment alone", func(xr *unstructured.Unstructured) bool {
		_, _, msg := condition(xr, "ResourcesReady")
		return msg == "Waiting for: deployment not ready"
	})
	if status, reason, msg := condition(xr, "Ready"); status == "True" {
		t.Fatalf("the DataVisualisation is Ready before its Pod runs (%s: %s)", reason, msg)
	}

	runPods(ctx, t, name)
	waitXR(ctx, t, name, "Ready=True", func(xr *unstructured.Unstructured) bool {
		status, _, _ := condition(xr, "Ready")
		return status == "True"
	})
}

// runPods does what the scheduler and the kubelet would: it binds the
// instance's Pods to a node and reports them running and ready.
func runPods(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	if n, err := c.get(ctx, gvrNode, "", "e2e-node"); err != nil {
		t.Fatal(err)
	} else if n == nil {
		if err := c.apply(ctx, `
apiVersion: v1
kind: Node
metadata:
  name: e2e-node
  labels: {informaticsmatters.com/purpose-application: "yes"}
`); err != nil {
			t.Fatal(err)
		}
	}
	var pods []unstructured.Unstructured
	if err := waitFor(ctx, time.Minute, time.Second, "the instance's Pod", func() (bool, error) {
		var err error
		pods, err = c.list(ctx, gvrPod, "deployment="+name)
		return len(pods) > 0, err
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	for _, p := range pods {
		if p.GetDeletionTimestamp() != nil {
			continue
		}
		binding := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Binding",
			"metadata": map[string]any{"name": p.GetName(), "namespace": dmNamespace},
			"target":   map[string]any{"apiVersion": "v1", "kind": "Node", "name": "e2e-node"},
		}}
		if _, err := c.client.Resource(gvrBinding).Namespace(dmNamespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatalf("cannot bind Pod %s: %v", p.GetName(), err)
		}
		status := fmt.Sprintf(`{"status":{"phase":"Running","hostIP":"127.0.0.1","podIP":"10.244.0.10","startTime":%[1]q,
"conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":%[1]q},{"type":"Initialized","status":"True","lastTransitionTime":%[1]q},
{"type":"ContainersReady","status":"True","lastTransitionTime":%[1]q},{"type":"Ready","status":"True","lastTransitionTime":%[1]q}],
"containerStatuses":[{"name":"viz","ready":true,"started":true,"restartCount":0,"image":"squonk2-viz-app","imageID":"squonk2-viz-app",
"state":{"running":{"startedAt":%[1]q}}}]}}`, now)
		if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "patch", "pod", p.GetName(), "--subresource=status", "--type=merge", "-p", status); err != nil {
			t.Fatal(err)
		}
	}
}

func imageTagChangeReachesTheDeployment(ctx context.Context, t *testing.T, name string) {
	if err := c.apply(ctx, dataVisualisation(name, "1.3.0")); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, 2*time.Minute, time.Second, "the Deployment to run 1.3.0", func() (bool, error) {
		d, err := c.get(ctx, gvrDeployment, dmNamespace, name)
		if err != nil || d == nil {
			return false, err
		}
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		if len(cs) == 0 {
			return false, nil
		}
		image, _, _ := unstructured.NestedString(cs[0].(map[string]any), "image") //nolint:forcetypeassert // Containers are objects.
		return image == "ghcr.io/informaticsmatters/squonk2-viz-app:1.3.0", fmt.Errorf("image is %s", image)
	}); err != nil {
		t.Fatal(err)
	}
	waitXR(ctx, t, name, "status.viz.image at 1.3.0", func(xr *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "image")
		return got == "ghcr.io/informaticsmatters/squonk2-viz-app:1.3.0"
	})
}

func deletedDeploymentComesBack(ctx context.Context, t *testing.T, name string) {
	old := mustGet(ctx, t, gvrDeployment, name)
	if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "delete", "deployment", name, "--wait=true"); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, 2*time.Minute, time.Second, "the Deployment to come back", func() (bool, error) {
		d, err := c.get(ctx, gvrDeployment, dmNamespace, name)
		return d != nil && d.GetUID() != old.GetUID(), err
	}); err != nil {
		t.Fatal(err)
	}
}

func missingImageTagIsRejected(ctx context.Context, t *testing.T) {
	err := c.apply(ctx, dataVisualisation("instance-no-tag", ""))
	if err == nil {
		t.Fatal("the API server accepted a DataVisualisation without imageTag")
	}
	if !strings.Contains(err.Error(), "spec.imDataManager.imageTag") || !strings.Contains(err.Error(), "Required") {
		t.Errorf("want the API server to say spec.imDataManager.imageTag is required, got: %v", err)
	}
}

func badLabelIsReported(ctx context.Context, t *testing.T) {
	const name = "instance-bad-label"
	xr := strings.Replace(dataVisualisation(name, "1.2.0"), "- data-manager.informaticsmatters.com/owner=dlister", "- owner", 1)
	if err := c.apply(ctx, xr); err != nil {
		t.Fatal(err)
	}
	const field, value = "spec.imDataManager.labels[2]", `"owner"`
	var msg string
	waitXR(ctx, t, name, "Synced=False naming the bad label", func(xr *unstructured.Unstructured) bool {
		var status string
		status, _, msg = condition(xr, "Synced")
		return status == "False" && strings.Contains(msg, field) && strings.Contains(msg, value)
	})
	t.Logf("Synced=False: %s", msg)
	objects, err := c.list(ctx, gvrObject, "crossplane.io/composite="+name)
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) > 0 {
		t.Errorf("want nothing composed for a rejected DataVisualisation, got %d Objects", len(objects))
	}
	if d, err := c.get(ctx, gvrDeployment, dmNamespace, name); err != nil || d != nil {
		t.Errorf("want no Deployment for a rejected DataVisualisation, got %v (%v)", d != nil, err)
	}
	if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "delete", "datavisualisation", name); err != nil {
		t.Fatal(err)
	}
}

func deleteRemovesEverything(ctx context.Context, t *testing.T, name string) {
	if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "delete", "datavisualisation", name, "--wait=false"); err != nil {
		t.Fatal(err)
	}
	waitGone(ctx, t, name)
}

// fiftyAtOnce creates 50 DataVisualisations at once, as a busy Data Manager
// might, and measures how long each waits for its Deployment.
func fiftyAtOnce(ctx context.Context, t *testing.T) {
	const n = 50
	w, err := c.client.Resource(gvrDeployment).Namespace(dmNamespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	created := make(map[string]time.Time, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		name := fmt.Sprintf("load-%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			obj, err := fromYAML(dataVisualisation(name, "1.2.0"))
			if err != nil {
				errs <- err
				return
			}
			start := time.Now()
			if _, err := c.client.Resource(gvrXR).Namespace(dmNamespace).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
				errs <- fmt.Errorf("cannot create %s: %w", name, err)
				return
			}
			mu.Lock()
			created[name] = start
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	seen := map[string]time.Duration{}
	timeout := time.After(5 * time.Minute)
	for len(seen) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the Deployment watch ended")
			}
			if ev.Type != watch.Added {
				continue
			}
			d, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			mu.Lock()
			start, ours := created[d.GetName()]
			mu.Unlock()
			if _, dup := seen[d.GetName()]; ours && !dup {
				seen[d.GetName()] = time.Since(start)
			}
		case <-timeout:
			t.Fatalf("after 5 minutes, %d of %d DataVisualisations have a Deployment", len(seen), n)
		}
	}
	for name := range created {
		url := "https://" + domain() + "/" + name
		waitXR(ctx, t, name, "status.viz.url", func(xr *unstructured.Unstructured) bool {
			got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "url")
			return got == url
		})
		objects, err := c.list(ctx, gvrObject, "crossplane.io/composite="+name)
		if err != nil {
			t.Fatal(err)
		}
		if len(objects) != 3 {
			t.Errorf("%s: want exactly 3 Objects, got %d", name, len(objects))
		}
	}
	latencies := make([]time.Duration, 0, n)
	for _, d := range seen {
		latencies = append(latencies, d)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	timings.latency = fmt.Sprintf("| create → Deployment present, %d at once | %s | %s | %s |\n",
		n, percentile(latencies, 50), percentile(latencies, 95), latencies[len(latencies)-1].Round(time.Millisecond))
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)].Round(time.Millisecond)
}

func mustGet(ctx context.Context, t *testing.T, gvr gvrType, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := c.get(ctx, gvr, dmNamespace, name)
	if err != nil || u == nil {
		t.Fatalf("cannot get %s %s: %v", gvr.Resource, name, err)
	}
	return u
}

// waitObject waits for an object of the instance to exist.
func waitObject(ctx context.Context, t *testing.T, gvr gvrType, name string) *unstructured.Unstructured {
	t.Helper()
	var u *unstructured.Unstructured
	if err := waitFor(ctx, 2*time.Minute, 500*time.Millisecond, gvr.Resource+" "+name, func() (bool, error) {
		var err error
		u, err = c.get(ctx, gvr, dmNamespace, name)
		return u != nil, err
	}); err != nil {
		t.Fatal(err)
	}
	return u
}

// waitXR waits until the DataVisualisation satisfies cond.
func waitXR(ctx context.Context, t *testing.T, name, what string, cond func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
	t.Helper()
	var last *unstructured.Unstructured
	if err := waitFor(ctx, 2*time.Minute, 500*time.Millisecond, name+": "+what, func() (bool, error) {
		var err error
		last, err = c.get(ctx, gvrXR, dmNamespace, name)
		return last != nil && cond(last), err
	}); err != nil {
		if last != nil {
			status, _, _ := unstructured.NestedFieldNoCopy(last.Object, "status")
			t.Fatalf("%v\nlast status: %v", err, status)
		}
		t.Fatal(err)
	}
	return last
}

// A timingTable collects how long the set-up and each step took.
type timingTable struct {
	mu      sync.Mutex
	rows    []string
	latency string
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
	if tt.latency != "" {
		b.WriteString("\n| measurement | p50 | p95 | max |\n|---|---|---|---|\n")
		b.WriteString(tt.latency)
	}
	return b.String()
}
