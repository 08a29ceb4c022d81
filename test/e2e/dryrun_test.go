//go:build e2e && !load && !upgrade

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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
// DataVisualisations that walks through the edge cases of each field, with
// the values the kit allows (example/platform/function.yaml).
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
		"serviceAccountName":   pick("default", c.setting("SVO_ALLOWED_SERVICE_ACCOUNTS")),
		"resources":            resources[i%len(resources)],
		"securityContext":      map[string]any{"runAsUser": pick(1, 1000, 2147483647), "runAsGroup": pick(0, 100, 65534, 2147483647), "fsGroup": 100},
		"project":              map[string]any{"claimName": pick("dm-project", "claim.with.dots"), "id": pick("project-1", "a/b/c", "p", "project_with_underscore")},
		"ingressProxyBodySize": pick("1m", "500k", "1G", "1024m"),
		"labels": []any{
			"data-manager.informaticsmatters.com/instance=" + strings.ReplaceAll(names[i%len(names)], ".", "-")[:min(63, len(names[i%len(names)]))],
			"data-manager.informaticsmatters.com/owner=" + pick("dlister", "a", strings.Repeat("o", 63)).(string),
			"data-manager.informaticsmatters.com/purpose=" + pick("APPLICATION", "", "x_y.z").(string),
		},
	}
	switch i % 4 {
	case 1:
		dm["ingressTlsSecret"] = c.setting("INGRESS_TLS_SECRET")
	case 2:
		dm["ingressDomain"] = c.setting("INGRESS_DOMAIN")
		dm["ingressClass"] = c.setting("SVO_INGRESS_CLASS")
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
	if err := c.applyTemplate(ctx, "platform/restricted-namespace.yaml", map[string]string{"NAME": ns}); err != nil {
		t.Fatal(err)
	}
	w := &warnings{}
	cfg := rest.CopyConfig(c.restConfig)
	cfg.WarningHandler = w
	judge, err := newClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fn := functionClient(t)
	dryRun := []client.CreateOption{client.DryRunAll, client.FieldValidation("Strict")}
	manifests, start := 0, time.Now()
	for i := range n {
		xr := &unstructured.Unstructured{Object: generatedDataVisualisation(i, ns)}
		name := xr.GetName()
		s, err := structpb.NewStruct(xr.Object) // Before the create, which overwrites xr.
		if err != nil {
			t.Fatal(err)
		}
		if err := judge.Create(ctx, xr, dryRun...); err != nil {
			t.Errorf("%s: the API server rejects the DataVisualisation itself: %v", name, err)
			continue
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
			if err := judge.Create(ctx, &unstructured.Unstructured{Object: m}, dryRun...); err != nil {
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
