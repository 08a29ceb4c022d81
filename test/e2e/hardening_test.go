//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	fnv1 "github.com/crossplane/crossplane/v2/proto/fn/v1"
)

// warnings collects the API server's warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// functionClient calls the running function over mTLS, with Crossplane's
// client certificate.
func functionClient(t *testing.T) fnv1.FunctionRunnerServiceClient {
	t.Helper()
	dir := c.path("pki", "xfn-client")
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(c.functionAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return fnv1.NewFunctionRunnerServiceClient(conn)
}

// generatedDataVisualisation returns the i-th of a family of valid
// DataVisualisations that walks through the edge cases of each field.
func generatedDataVisualisation(i int, namespace string) map[string]any {
	pick := func(options ...any) any { return options[i%len(options)] }
	names := []string{
		fmt.Sprintf("viz-%03d", i),
		fmt.Sprintf("%d-starts-with-a-digit", i),
		fmt.Sprintf("dotted.name.%d", i),
		fmt.Sprintf("%s-%03d", strings.Repeat("n", 59), i), // 63 characters
		fmt.Sprintf("v%d", i),
	}
	resources := []map[string]any{
		{},
		{"requests": map[string]any{"cpu": "1", "memory": "2Gi"}, "limits": map[string]any{"cpu": "1", "memory": "2Gi"}},
		{"requests": map[string]any{"cpu": "0.5", "memory": "1000M"}, "limits": map[string]any{"cpu": "2", "memory": "1.5Gi", "storage": "10Gi"}},
		{"limits": map[string]any{"cpu": "4", "memory": "8Gi"}},
	}
	dm := map[string]any{
		"imageTag":             pick("1.2.0", "latest", "STABLE", "v1.2.3-rc.1_build.7", strings.Repeat("t", 128), "0.1.6"),
		"taskId":               fmt.Sprintf("task-%d", i),
		"serviceAccountName":   pick("default", "dm-application", "a.b"),
		"resources":            resources[i%len(resources)],
		"securityContext":      map[string]any{"runAsUser": pick(1, 1000, 2147483647), "runAsGroup": pick(0, 100, 65534, 2147483647), "fsGroup": 100},
		"project":              map[string]any{"claimName": pick("dm-project", "claim.with.dots"), "id": pick("project-1", "a/b/c", "p", "project_with_underscore")},
		"ingressProxyBodySize": pick("1m", "0", "500k", "2G"),
		"labels": []any{
			"data-manager.informaticsmatters.com/instance=" + strings.ReplaceAll(names[i%len(names)], ".", "-")[:min(63, len(names[i%len(names)]))],
			"data-manager.informaticsmatters.com/owner=" + pick("dlister", "a", strings.Repeat("o", 63)).(string),
			"purpose=" + pick("APPLICATION", "", "x_y.z").(string),
		},
	}
	switch i % 4 {
	case 1:
		dm["ingressTlsSecret"] = "dm-tls"
	case 2:
		dm["ingressDomain"] = "a.b.example.org"
		dm["ingressClass"] = "nginx-internal"
	case 3:
		dm["imagePullSecrets"] = []any{"svo-pullsecret", "mirror-pullsecret"}
	}
	return map[string]any{
		"apiVersion": "squonk.it/v1", "kind": "DataVisualisation",
		"metadata": map[string]any{"name": names[i%len(names)], "namespace": namespace},
		"spec":     map[string]any{"imDataManager": dm},
	}
}

// TestAPIServerAcceptsEveryManifest submits the DataVisualisation and
// every manifest the function emits for 200 generated ones to the API
// server, with server-side dry run and strict field validation, in a
// namespace that enforces and warns about the restricted Pod Security
// Standard: the API server must accept all, with no warning.
func TestAPIServerAcceptsEveryManifest(t *testing.T) {
	ctx := context.Background()
	const ns, n = "dry-run", 200
	if err := c.apply(ctx, restrictedNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	w := &warnings{}
	cfg := *c.restConfig
	cfg.WarningHandler = w
	judge, err := dynamic.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	fn := functionClient(t)
	gvrs := map[string]gvrType{"Deployment": gvrDeployment, "Service": gvrService, "Ingress": gvrIngress}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
	manifests, start := 0, time.Now()
	for i := range n {
		xr := generatedDataVisualisation(i, ns)
		name := xr["metadata"].(map[string]any)["name"].(string) //nolint:forcetypeassert // Made above.
		if _, err := judge.Resource(gvrXR).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: xr}, dryRun); err != nil {
			t.Errorf("%s: the API server rejects the DataVisualisation itself: %v", name, err)
			continue
		}
		s, err := structpb.NewStruct(xr)
		if err != nil {
			t.Fatal(err)
		}
		rsp, err := fn.RunFunction(ctx, &fnv1.RunFunctionRequest{Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: s}}})
		if err != nil {
			t.Fatalf("%s: RunFunction: %v", name, err)
		}
		if len(rsp.GetResults()) > 0 {
			t.Errorf("%s: the function rejected a valid DataVisualisation: %v", name, rsp.GetResults())
			continue
		}
		for rn, r := range rsp.GetDesired().GetResources() {
			m, _, _ := unstructured.NestedMap(r.GetResource().AsMap(), "spec", "forProvider", "manifest")
			u := &unstructured.Unstructured{Object: m}
			if _, err := judge.Resource(gvrs[u.GetKind()]).Namespace(ns).Create(ctx, u, dryRun); err != nil {
				t.Errorf("%s: the API server rejects the %s: %v", name, rn, err)
			}
			manifests++
		}
		for _, msg := range w.take() {
			t.Errorf("%s: the API server warned: %s", name, msg)
		}
	}
	if manifests != 3*n {
		t.Errorf("submitted %d manifests, want %d", manifests, 3*n)
	}
	t.Logf("the API server accepted %d DataVisualisations and %d manifests with no warning", n, manifests)
	timings.add(fmt.Sprintf("dry run of %d DataVisualisations and the %d manifests the function emits", n, manifests), time.Since(start))
}

// TestLiveFaults breaks the running system in the ways a cluster does, in
// each mode.
func TestLiveFaults(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { liveFaults(context.Background(), t, m) })
	}
}

func liveFaults(ctx context.Context, t *testing.T, m mode) {
	timedIn := func(what string) func() { return timed(m.name + " mode: " + what) }
	t.Run("FunctionKilledDuringABurst", func(t *testing.T) {
		defer timedIn("fault: function killed during a burst of 20 creates, restarted; all converge, none duplicated")()
		burst := names(m.instance("burst"), 20)
		n := len(burst)
		var wg sync.WaitGroup
		for i, name := range burst {
			if i == n/4 {
				c.function.stop() // A quarter in, the function dies.
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				obj, _ := fromYAML(m.dataVisualisation(name, "1.2.0"))
				if _, err := c.client.Resource(gvrXR).Namespace(dmNamespace).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
					t.Errorf("cannot create %s: %v", name, err)
				}
			}()
		}
		wg.Wait()
		time.Sleep(3 * time.Second)
		if err := c.runFunction(); err != nil {
			t.Fatal(err)
		}
		for _, name := range burst {
			checkConverged(ctx, t, m, name)
		}
	})
	t.Run("ProviderRestarted", func(t *testing.T) {
		defer timedIn("fault: provider-kubernetes down during 3 creates, restarted; nothing lost")()
		before, err := c.list(ctx, gvrDeployment, "")
		if err != nil {
			t.Fatal(err)
		}
		c.provider.stop()
		down := names(m.instance("while-provider-down"), 3)
		for _, name := range down {
			if err := c.apply(ctx, m.dataVisualisation(name, "1.2.0")); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second)
		if err := c.runProvider(ctx); err != nil {
			t.Fatal(err)
		}
		for _, name := range down {
			checkConverged(ctx, t, m, name)
		}
		for _, d := range before {
			if now, err := c.get(ctx, gvrDeployment, dmNamespace, d.GetName()); err != nil || now == nil || now.GetUID() != d.GetUID() {
				t.Errorf("Deployment %s was lost or replaced across the provider's restart (%v)", d.GetName(), err)
			}
		}
	})
	for _, r := range []struct {
		component string
		restart   func() error
	}{
		{"provider-kubernetes", func() error { c.provider.stop(); return c.runProvider(ctx) }},
		{"crossplane", func() error { c.crossplane.stop(); return c.runCrossplane() }},
		{"kube-apiserver", func() error { c.apiserver.stop(); return c.runAPIServer(ctx) }},
	} {
		t.Run("RestartOf-"+r.component, func(t *testing.T) {
			defer timedIn("fault: " + r.component + " restarted during a burst of 20 creates; all converge, none duplicated")()
			restartDuringABurst(ctx, t, m, r.component, r.restart)
		})
	}
	t.Run("DeletedWhileItsDeploymentIsBeingCreated", func(t *testing.T) {
		defer timedIn("fault: deleted while its Deployment is being created; nothing left")()
		name := m.instance("short-lived")
		if err := c.apply(ctx, m.dataVisualisation(name, "1.2.0")); err != nil {
			t.Fatal(err)
		}
		// Its first composed resource: the Deployment's Object, or the
		// Deployment itself.
		if _, _, err := await(ctx, gvrXR, name, func(xr *unstructured.Unstructured) bool {
			refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
			return len(refs) > 0
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := deleteAndAwaitGone(ctx, name); err != nil {
			t.Fatal(err)
		}
	})
}

// timed adds a row to the timing table when the returned func is called.
func timed(what string) func() {
	start := time.Now()
	return func() { timings.add(what, time.Since(start)) }
}

// restartDuringABurst restarts a component, as a rollout or a node drain
// would, while the Data Manager creates 20 DataVisualisations. Every one
// converges, with exactly three Objects, and, timed from its Pod turning
// Ready, turns Ready as fast as before the restart: the component is event
// driven again.
func restartDuringABurst(ctx context.Context, t *testing.T, m mode, component string, restart func() error) {
	t.Helper()
	// 20, so that the p95 of their readiness is not their slowest: the
	// first Pod Ready after a restart can meet a watch that is still being
	// made again.
	burst := names(m.instance("restart-"+component), 20)
	parallel(len(burst), func(i int) {
		if i == len(burst)/2 {
			if err := restart(); err != nil {
				t.Errorf("cannot restart %s: %v", component, err)
			}
		}
		for { // Creates fail while the API server restarts; the Data Manager retries.
			_, err := createXR(ctx, m, burst[i])
			if err == nil || strings.Contains(err.Error(), "already exists") {
				return
			}
			if ctx.Err() != nil {
				t.Error(err)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	for _, name := range burst {
		checkConverged(ctx, t, m, name)
	}
	// Their Pods turn Ready one after the other, as Pods do: each is timed
	// from its Pod's Ready to its own.
	toReady := make([]time.Duration, 0, len(burst))
	for _, name := range burst {
		toReady = append(toReady, podReadyToReady(ctx, t, []string{name})...)
	}
	t.Logf("Pod Ready → DataVisualisation Ready, in turn: %v", toReady)
	if err := live.add(m, "after "+component+" restarted: Pod Ready → DataVisualisation Ready, 20 instances in turn", toReady, 95, m.targets.ready).met(); err != nil {
		t.Error(err)
	}
	for _, name := range burst {
		if _, err := deleteAndAwaitGone(ctx, name); err != nil {
			t.Error(err)
		}
	}
}

// TestNeverTouchesWhatItDoesNotOwn gives the Data Manager's service account
// a DataVisualisation named like objects that another party made: by hand,
// as cluster-admin, and by another DataVisualisation. The instance is
// blocked, saying which object is in the way and whose it is; the objects
// are left exactly as they were, and still exist once the blocked
// DataVisualisation is deleted. In each mode.
func TestNeverTouchesWhatItDoesNotOwn(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { neverTouchesWhatItDoesNotOwn(context.Background(), t, m) })
	}
}

func neverTouchesWhatItDoesNotOwn(ctx context.Context, t *testing.T, m mode) {
	owner := m.instance("victim-owner")
	if _, err := createXR(ctx, m, owner); err != nil {
		t.Fatal(err)
	}
	_, ownerXR, err := await(ctx, gvrXR, owner, exists)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		ownerRefs string // the objects' metadata.ownerReferences
		wantOwner string // what the message says of their owner
	}{
		"victim-hand": {ownerRefs: "[]", wantOwner: "made by kubectl"},
		"victim-dv": {
			ownerRefs: fmt.Sprintf("[{apiVersion: squonk.it/v1, kind: DataVisualisation, name: %s, uid: %s}]", owner, ownerXR.GetUID()),
			wantOwner: "owned by DataVisualisation " + owner,
		},
	}
	for base, tc := range cases {
		name := m.instance(base)
		t.Run(base, func(t *testing.T) {
			defer timed(m.name + " mode: ownership: " + base + ": blocked, and the objects left as they were")()
			foreign := strings.NewReplacer("OBJ_NAMESPACE", dmNamespace, "OBJ_NAME", name, "OBJ_OWNERS", tc.ownerRefs).Replace(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: OBJ_NAME, namespace: OBJ_NAMESPACE, ownerReferences: OBJ_OWNERS}
spec:
  selector: {matchLabels: {app: data-manager-api}}
  template:
    metadata: {labels: {app: data-manager-api}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: api
        image: registry.example.org/data-manager-api:4.2.0
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: OBJ_NAME, namespace: OBJ_NAMESPACE, ownerReferences: OBJ_OWNERS}
spec:
  selector: {app: data-manager-api}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: OBJ_NAME, namespace: OBJ_NAMESPACE, ownerReferences: OBJ_OWNERS}
spec:
  rules:
  - host: dm.example.org
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: data-manager-api, port: {number: 8080}}}}
`)
			if _, err := c.kubectl(ctx, foreign, "create", "-f", "-"); err != nil {
				t.Fatal(err)
			}
			before := map[gvrType]*unstructured.Unstructured{}
			for _, gvr := range []gvrType{gvrDeployment, gvrService, gvrIngress} {
				before[gvr] = mustGet(ctx, t, gvr, name)
			}
			if _, err := c.kubectl(ctx, m.dataVisualisation(name, "1.2.0"), "--as=system:serviceaccount:"+dmNamespace+":data-manager", "create", "-f", "-"); err != nil {
				t.Fatal(err)
			}
			created := time.Now()
			at, xr, err := await(ctx, gvrXR, name, xrCondition("ObjectsOwned", "False"))
			if err != nil {
				t.Fatal(err)
			}
			live.one(m, "DataVisualisation named like another party's objects ("+base+") → blocked, ObjectsOwned=False", at.Sub(created), 0)
			_, _, msg := condition(xr, "ObjectsOwned")
			for _, want := range []string{"the Deployment " + dmNamespace + "/" + name, "the Service " + dmNamespace + "/" + name, "the Ingress " + dmNamespace + "/" + name, tc.wantOwner} {
				if !strings.Contains(msg, want) {
					t.Errorf("ObjectsOwned does not say %q: %s", want, msg)
				}
			}
			if synced, _, _ := condition(xr, "Synced"); synced != "False" {
				t.Errorf("Synced is %q, want False", synced)
			}
			if refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs"); len(refs) > 0 {
				t.Errorf("want nothing composed, got %v", refs)
			}
			objects, err := c.list(ctx, gvrObject, "crossplane.io/composite="+name)
			if err != nil || len(objects) > 0 {
				t.Errorf("want nothing composed, got %d Objects (%v)", len(objects), err)
			}
			if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "--as=system:serviceaccount:"+dmNamespace+":data-manager", "delete", "datavisualisation", name); err != nil {
				t.Fatal(err)
			}
			if _, _, err := await(ctx, gvrXR, name, gone); err != nil {
				t.Fatal(err)
			}
			for gvr, b := range before {
				now := mustGet(ctx, t, gvr, name)
				if now.GetUID() != b.GetUID() || now.GetResourceVersion() != b.GetResourceVersion() {
					t.Errorf("the %s %s changed: uid %s, resourceVersion %s; was %s, %s", gvr.Resource, name,
						now.GetUID(), now.GetResourceVersion(), b.GetUID(), b.GetResourceVersion())
				}
			}
			if _, err := c.kubectl(ctx, foreign, "delete", "-f", "-"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := deleteAndAwaitGone(ctx, owner); err != nil {
		t.Fatal(err)
	}
}
