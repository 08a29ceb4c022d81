//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"strings"
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The service accounts whose rights the kit sets.
const (
	dataManagerSA = "system:serviceaccount:" + dmNamespace + ":data-manager"
	providerSA    = "system:serviceaccount:crossplane-system:provider-kubernetes"
	crossplaneSA  = "system:serviceaccount:crossplane-system:crossplane"
)

// checkMayCreate creates obj as user with a server-side dry run, and checks
// that the API server allows it, or forbids it.
func checkMayCreate(ctx context.Context, t *testing.T, user string, obj *unstructured.Unstructured, allowed bool) {
	t.Helper()
	as, err := c.as(user)
	if err != nil {
		t.Fatal(err)
	}
	err = as.Create(ctx, obj, client.DryRunAll)
	switch {
	case allowed && err != nil:
		t.Errorf("%s may not create the %s: %v", user, obj.GetKind(), err)
	case !allowed && err == nil:
		t.Errorf("%s may create the %s", user, obj.GetKind())
	case !allowed && !kerrors.IsForbidden(err):
		t.Errorf("want Forbidden, got %v", err)
	}
}

// testObject reads the one object of a file under testdata/, in a namespace.
func testObject(t *testing.T, file, namespace string) *unstructured.Unstructured {
	t.Helper()
	objs, err := readTemplate(file, map[string]string{"NAMESPACE": namespace})
	if err != nil {
		t.Fatal(err)
	}
	return objs[0]
}

// TestDataManagerPermissions acts as the Data Manager's service account:
// it may create DataVisualisations in its namespace, and nothing else.
func TestDataManagerPermissions(t *testing.T) {
	ctx := context.Background()
	dv := func(namespace string) *unstructured.Unstructured {
		xr, err := providerMode.dataVisualisation("permission-check", "1.2.0")
		if err != nil {
			t.Fatal(err)
		}
		xr.SetNamespace(namespace)
		return xr
	}
	cases := map[string]struct {
		obj     *unstructured.Unstructured
		allowed bool
	}{
		"DataVisualisationInItsNamespace":     {obj: dv(dmNamespace), allowed: true},
		"DeploymentInItsNamespace":            {obj: testObject(t, "permissions/deployment.yaml", dmNamespace)},
		"DataVisualisationInAnotherNamespace": {obj: dv(otherNamespace)},
		"DeploymentInAnotherNamespace":        {obj: testObject(t, "permissions/deployment.yaml", otherNamespace)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { checkMayCreate(ctx, t, dataManagerSA, tc.obj, tc.allowed) })
	}
}

// TestProviderIsLeastPrivileged acts as provider-kubernetes' service
// account: it may manage the objects of instances, and not, for example, Pods
// or RBAC, as cluster-admin could.
func TestProviderIsLeastPrivileged(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		obj     *unstructured.Unstructured
		allowed bool
	}{
		"Deployment":  {obj: testObject(t, "permissions/deployment.yaml", dmNamespace), allowed: true},
		"Pod":         {obj: testObject(t, "permissions/pod.yaml", dmNamespace)},
		"ClusterRole": {obj: testObject(t, "permissions/clusterrole.yaml", "")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { checkMayCreate(ctx, t, providerSA, tc.obj, tc.allowed) })
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
// as this service account. It asks as a platform engineer would, with
// `kubectl auth can-i`.
func TestCrossplaneRightsOnInstanceObjects(t *testing.T) {
	ctx := context.Background()
	can := func(verb, resource string) bool {
		out, _ := c.kubectl(ctx, "", "auth", "can-i", verb, resource, "-n", dmNamespace, "--as="+crossplaneSA)
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
