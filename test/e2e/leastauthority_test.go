//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
)

const tenantSA = "system:serviceaccount:" + otherNamespace + ":tenant"

// An attempt is one way a party tries to reach beyond its own instances:
// what it creates, as whom, and the field the refusal must name.
type attempt struct {
	what   string
	by     string // a user, as the API server names it
	create func(t *testing.T) *unstructured.Unstructured
	field  string
}

// dmAttempt is the Data Manager's DataVisualisation with one change.
func dmAttempt(what, field string, set map[string]any) attempt {
	return attempt{what: what, by: dataManagerSA, field: field, create: func(t *testing.T) *unstructured.Unstructured {
		t.Helper()
		xr, err := providerMode.dataVisualisation("reach", "1.2.0")
		if err != nil {
			t.Fatal(err)
		}
		p := fieldpath.Pave(xr.Object)
		for path, v := range set {
			if err := p.SetValue(path, v); err != nil {
				t.Fatal(err)
			}
		}
		return xr
	}}
}

// tenantObject is an Object, made by the tenant in namespace, that applies a
// Deployment in target.
func tenantObject(what, namespace, target, field string) attempt {
	return attempt{what: what, by: tenantSA, field: field, create: func(t *testing.T) *unstructured.Unstructured {
		t.Helper()
		objs, err := readTemplate("leastauthority/object.yaml", map[string]string{"NAME": "reach", "NAMESPACE": namespace, "TARGET": target})
		if err != nil {
			t.Fatal(err)
		}
		return objs[0]
	}}
}

// TestNothingReachesBeyondItsOwnInstances makes each attempt of the Data
// Manager's service account, and of a tenant who may make provider-kubernetes
// Objects, to reach beyond its own instances, and checks that the API server
// refuses each at create, naming the field. It prints the table.
func TestNothingReachesBeyondItsOwnInstances(t *testing.T) {
	ctx := context.Background()
	if err := c.applyFile(ctx, testdata("leastauthority", "tenant.yaml"), nil); err != nil {
		t.Fatal(err)
	}
	dm := "spec.imDataManager."
	attempts := []attempt{
		dmAttempt("another tenant's host", dm+"ingressDomain", map[string]any{dm + "ingressDomain": "shop.other-tenant.example"}),
		dmAttempt("an internal ingress class", dm+"ingressClass", map[string]any{dm + "ingressClass": "nginx-internal"}),
		dmAttempt("another host's TLS Secret", dm+"ingressTlsSecret", map[string]any{dm + "ingressTlsSecret": "other-tenant-tls"}),
		dmAttempt("the Data Manager's own service account", dm+"serviceAccountName", map[string]any{dm + "serviceAccountName": "data-manager"}),
		dmAttempt("a label that joins another Service", dm+"labels", map[string]any{dm + "labels": []any{"app=data-manager-api"}}),
		dmAttempt("a label that only ends in /owner", dm+"labels", map[string]any{dm + "labels": []any{"x.example/owner=alice"}}),
		dmAttempt("a label that leaves the mesh", dm+"labels", map[string]any{dm + "labels": []any{"sidecar.istio.io/inject=false"}}),
		dmAttempt("the whole Project volume", dm+"project.id", map[string]any{dm + "project.id": "."}),
		dmAttempt("64 CPUs", dm+"resources.limits.cpu", map[string]any{dm + "resources.limits.cpu": "64", dm + "resources.requests.cpu": "64"}),
		dmAttempt("500Gi of memory", dm+"resources.limits.memory", map[string]any{dm + "resources.limits.memory": "500Gi"}),
		dmAttempt("a 2,000-character taskId", dm+"taskId", map[string]any{dm + "taskId": strings.Repeat("t", 2000)}),
		dmAttempt("a body size that breaks nginx", dm+"ingressProxyBodySize", map[string]any{dm + "ingressProxyBodySize": "99999999999g"}),
		dmAttempt("unlimited uploads", dm+"ingressProxyBodySize", map[string]any{dm + "ingressProxyBodySize": "0"}),
		dmAttempt("uploads above the maximum", dm+"ingressProxyBodySize", map[string]any{dm + "ingressProxyBodySize": "2g"}),
		dmAttempt("composed resources of its own choosing", "spec.crossplane", map[string]any{
			"spec.crossplane.resourceRefs": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "data-manager-api"}},
		}),
		dmAttempt("a Composition revision pinned", "spec.crossplane", map[string]any{
			"spec.crossplane.compositionRevisionRef.name": "datavisualisations.squonk.it-0000000", "spec.crossplane.compositionUpdatePolicy": "Manual",
		}),
		dmAttempt("a Composition of its own choosing", "spec.crossplane", map[string]any{"spec.crossplane.compositionSelector.matchLabels.mode": "direct"}),
		{what: "more composed resources than Crossplane writes", by: "cluster administrator", field: "spec.crossplane.resourceRefs", create: func(t *testing.T) *unstructured.Unstructured {
			t.Helper()
			xr, err := providerMode.dataVisualisation("reach", "1.2.0")
			if err != nil {
				t.Fatal(err)
			}
			refs := make([]any, 7)
			for i := range refs {
				refs[i] = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": fmt.Sprintf("missing-%d", i)}
			}
			if err := unstructured.SetNestedSlice(xr.Object, refs, "spec", "crossplane", "resourceRefs"); err != nil {
				t.Fatal(err)
			}
			return xr
		}},
		tenantObject("a Deployment in kube-system, through an Object of its own namespace", otherNamespace, "kube-system", "spec.forProvider.manifest.metadata.namespace"),
		tenantObject("a Deployment in the Data Manager's namespace, through an Object of its own", otherNamespace, dmNamespace, "spec.forProvider.manifest.metadata.namespace"),
		tenantObject("an Object in the Data Manager's namespace", dmNamespace, dmNamespace, "spec"),
	}
	rows := []string{"| attempt | by | refused at create, naming |", "|---|---|---|"}
	for _, a := range attempts {
		t.Run(strings.ReplaceAll(a.what, " ", "_"), func(t *testing.T) {
			var as client.Client = c.kube
			if a.by != "cluster administrator" {
				var err error
				if as, err = c.as(a.by); err != nil {
					t.Fatal(err)
				}
			}
			obj := a.create(t)
			err := as.Create(ctx, obj)
			switch {
			case err == nil:
				_ = c.kube.Delete(ctx, obj)
				t.Fatalf("%s may create %s", a.by, a.what)
			case !strings.Contains(err.Error(), a.field):
				t.Errorf("the refusal does not name %s: %v", a.field, err)
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s |", a.what, strings.TrimPrefix(a.by, "system:serviceaccount:"), a.field))
		})
	}
	leastAuthority = "\n" + strings.Join(rows, "\n") + "\n"
	t.Log(leastAuthority)
}

// TestAProviderObjectOfATenantWritesNothing has the tenant make an Object in
// its own namespace, which admission lets through: provider-kubernetes may
// not write there, so the Object says so and no Deployment appears outside
// the Data Manager's namespaces.
func TestAProviderObjectOfATenantWritesNothing(t *testing.T) {
	ctx := context.Background()
	if err := c.applyFile(ctx, testdata("leastauthority", "tenant.yaml"), nil); err != nil {
		t.Fatal(err)
	}
	tenant, err := c.as(tenantSA)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := readTemplate("leastauthority/object.yaml", map[string]string{"NAME": "own", "NAMESPACE": otherNamespace, "TARGET": otherNamespace})
	if err != nil {
		t.Fatal(err)
	}
	refused := watchFor(ctx, objs[0].DeepCopy(), func(u *unstructured.Unstructured) bool {
		if u == nil {
			return false
		}
		status, _, msg := condition(u, "Synced")
		return status == "False" && strings.Contains(msg, "forbidden")
	})
	if err := tenant.Create(ctx, objs[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.kube.Delete(ctx, objs[0]) })
	if _, _, err := refused.wait(); err != nil {
		t.Fatalf("the Object never said that the provider may not write in %s: %v", otherNamespace, err)
	}
	for _, ns := range []string{otherNamespace, "kube-system"} {
		if found, _ := c.get(ctx, deploymentIn(ns, "own")); found {
			t.Errorf("provider-kubernetes made a Deployment in %s", ns)
		}
	}
}

// TestOrphansAreNeverAdopted lists, in spec.crossplane.resourceRefs of a new
// DataVisualisation, what an orphaning delete leaves behind (objects no one
// controls that still carry Crossplane's composition annotation), in each
// mode: the function blocks the instance before Crossplane can compose over
// them or delete them, and they stay as they were. The refs are set by a
// cluster administrator: the Data Manager may set none.
func TestOrphansAreNeverAdopted(t *testing.T) {
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		name := m.instance("orphans")
		objs, err := readTemplate("leastauthority/orphans.yaml", map[string]string{"NAME": name, "COMPOSED": "deployment" + m.suffix})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.apply(ctx, objs...); err != nil {
			t.Fatal(err)
		}
		before := map[string]map[string]any{}
		refs := make([]any, 0, len(objs))
		for _, o := range objs {
			before[o.GetName()] = ownedPart(mustGet(ctx, t, unstructuredOf(o.GroupVersionKind(), dmNamespace, o.GetName())))
			refs = append(refs, map[string]any{"apiVersion": o.GetAPIVersion(), "kind": o.GetKind(), "name": o.GetName()})
		}
		xr, err := m.dataVisualisation(name, "1.2.0")
		if err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedSlice(xr.Object, refs, "spec", "crossplane", "resourceRefs"); err != nil {
			t.Fatal(err)
		}
		blocked := watchFor(ctx, xrRef(name), xrCondition("ObjectsOwned", "False"))
		if err := c.kube.Create(ctx, xr); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := deleteAndAwaitGone(ctx, name); err != nil {
				t.Error(err)
			}
		})
		_, got, err := blocked.wait()
		if err != nil {
			t.Fatal(err)
		}
		_, _, msg := condition(got, "ObjectsOwned")
		for _, want := range []string{
			"the composed resource deployment" + m.suffix + " is not controlled by this DataVisualisation",
			`Crossplane observes a composed resource "database", which this function never composes`,
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("ObjectsOwned does not say %q: %s", want, msg)
			}
		}
		for _, o := range objs {
			live := unstructuredOf(o.GroupVersionKind(), dmNamespace, o.GetName())
			if found, err := c.get(ctx, live); !found {
				t.Errorf("the orphan %s %s is gone: %v", o.GetKind(), o.GetName(), err)
			} else if diff := cmp.Diff(before[o.GetName()], ownedPart(live)); diff != "" {
				t.Errorf("the orphan %s %s was changed: -before, +after:\n%s", o.GetKind(), o.GetName(), diff)
			}
		}
		for _, ref := range childRefs(name) {
			if found, _ := c.get(ctx, ref); found {
				t.Errorf("the %s %s was composed", kindOf(ref), name)
			}
		}
		for _, o := range objs {
			_ = c.kube.Delete(ctx, o)
		}
	})
}

// TestKitGrantsWritesOnlyInDataManagerNamespaces asks the API server, as
// `kubectl auth can-i` does, what provider-kubernetes and Crossplane may do
// to the kinds of an instance in the Data Manager's namespace, in a
// namespace that is not a Data Manager's and in kube-system: they read
// everywhere (their watches are cluster-wide), and the kit lets them write
// only in the Data Manager's. Crossplane's own Helm chart lets it write
// Deployments and Services everywhere, for its packages; the kit adds
// Ingresses, in the Data Manager's namespaces only. It prints the table.
func TestKitGrantsWritesOnlyInDataManagerNamespaces(t *testing.T) {
	ctx := context.Background()
	resources := []schema.GroupResource{{Group: "apps", Resource: "deployments"}, {Resource: "services"}, {Group: "networking.k8s.io", Resource: "ingresses"}}
	verbs := []string{"get", "list", "watch", "create", "patch", "update", "delete"}
	can := func(user, namespace, verb string, r schema.GroupResource) bool {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:crossplane-system", "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Group: r.Group, Resource: r.Resource},
		}}
		if err := c.kube.Create(ctx, review); err != nil {
			t.Fatal(err)
		}
		return review.Status.Allowed
	}
	chartWrites := func(r schema.GroupResource) bool { return r.Resource != "ingresses" }
	rows := []string{"| who | namespace | may read | may write |", "|---|---|---|---|"}
	for _, who := range []struct {
		name, user string
		writes     func(namespace string, r schema.GroupResource) bool
	}{
		{name: "provider-kubernetes", user: providerSA, writes: func(ns string, _ schema.GroupResource) bool { return ns == dmNamespace }},
		{name: "Crossplane", user: crossplaneSA, writes: func(ns string, r schema.GroupResource) bool { return ns == dmNamespace || chartWrites(r) }},
	} {
		for _, ns := range []string{dmNamespace, otherNamespace, "kube-system"} {
			var reads, writes []string
			for _, r := range resources {
				for _, verb := range verbs {
					write := verb != "get" && verb != "list" && verb != "watch"
					want := !write || who.writes(ns, r)
					got := can(who.user, ns, verb, r)
					if got != want {
						t.Errorf("%s may %s %s in %s: %v, want %v", who.name, verb, r, ns, got, want)
					}
					if got && write && !slices.Contains(writes, r.Resource) {
						writes = append(writes, r.Resource)
					}
					if got && !write && !slices.Contains(reads, r.Resource) {
						reads = append(reads, r.Resource)
					}
				}
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", who.name, ns, orNone(reads), orNone(writes)))
		}
	}
	grants = "\n" + strings.Join(rows, "\n") + "\n"
	t.Log(grants)
}

// ownedPart is what composing over an object, or adopting it, would change:
// its owners, labels, annotations and spec (not what its own controller
// writes: the status, and the Deployment controller's revision annotation).
func ownedPart(u *unstructured.Unstructured) map[string]any {
	annotations := map[string]string{}
	for k, v := range u.GetAnnotations() {
		if !strings.HasPrefix(k, "deployment.kubernetes.io/") {
			annotations[k] = v
		}
	}
	return map[string]any{
		"ownerReferences": u.GetOwnerReferences(), "labels": u.GetLabels(), "annotations": annotations, "spec": u.Object["spec"],
	}
}

// asUnstructured is an object as a map.
func asUnstructured(t *testing.T, o client.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func deploymentIn(namespace, name string) client.Object {
	d := deploymentRef(name)
	d.Namespace = namespace
	return d
}
