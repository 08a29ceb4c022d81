//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

const legacyInstance = "instance-legacy"

// looseInstance was created under the operator's CRD with a value the XRD's
// schema refuses, and the function too.
const looseInstance = "instance-legacy-loose"

// looseInstanceYAML is that instance: its proxy body size is not a size.
var looseInstanceYAML = `
apiVersion: squonk.it/v1
kind: DataVisualisation
metadata: {name: ` + looseInstance + `, namespace: ` + dmNamespace + `}
spec:
  imDataManager:
    imageTag: 1.1.0
    ingressProxyBodySize: 1 MB
    project: {claimName: dm-project-efb35c90, id: project-eb03b20f}
`

// migrateFromTheOperator sets up what the kopf operator left, then follows
// docs/migration.md from its step 2 (setUp did step 1), and checks the
// outcome.
func migrateFromTheOperator(ctx context.Context, t *testing.T) {
	t.Helper()
	dv, before := operatorWorld(ctx, t)
	if err := c.apply(ctx, looseInstanceYAML); err != nil {
		t.Fatalf("the operator's CRD refused %s: %v", looseInstance, err)
	}
	followMigration(ctx, t)
	checkMigrated(ctx, t, dv, before)
	checkRatcheting(ctx, t)
}

// checkRatcheting proves that an instance created under the operator's
// looser CRD, with a value the new schema refuses, can still be read, have
// its status written and be deleted (the API server's validation
// ratcheting), while a new one like it is refused at create.
func checkRatcheting(ctx context.Context, t *testing.T) {
	t.Helper()
	_, xr, err := await(ctx, gvrXR, looseInstance, xrCondition("InputValid", "False"))
	if err != nil {
		t.Fatalf("the function's verdict was not written to %s's status: %v", looseInstance, err)
	}
	if _, _, msg := condition(xr, "InputValid"); !strings.Contains(msg, "spec.imDataManager.ingressProxyBodySize") {
		t.Errorf("InputValid does not name the field: %s", msg)
	}
	again := strings.Replace(looseInstanceYAML, looseInstance, looseInstance+"-new", 1)
	if err := c.apply(ctx, again); err == nil || !strings.Contains(err.Error(), "spec.imDataManager.ingressProxyBodySize") {
		t.Errorf("the API server did not refuse a new instance like %s, naming the field: %v", looseInstance, err)
	}
	if _, err := deleteAndAwaitGone(ctx, looseInstance); err != nil {
		t.Fatalf("cannot delete %s: %v", looseInstance, err)
	}
}

// operatorWorld makes what the operator left, and returns the instance and
// the uids of its objects.
func operatorWorld(ctx context.Context, t *testing.T) (*unstructured.Unstructured, map[string]types.UID) {
	t.Helper()
	// The operator's world: its CRD, its Deployment, and one instance with
	// the objects the operator made for it.
	if err := c.applyFile(ctx, filepath.Join("testdata", "operator.yaml"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.kubectl(ctx, "", "wait", "crd/datavisualisations.squonk.it", "--for=condition=Established", "--timeout=60s"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "legacy-instance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(strings.NewReplacer("NAMESPACE", dmNamespace, "DOMAIN", domain()).Replace(string(b)), "\n---\n")
	if err := c.apply(ctx, docs[0]); err != nil {
		t.Fatal(err)
	}
	dv := mustGet(ctx, t, gvrXR, legacyInstance)
	if err := c.apply(ctx, strings.ReplaceAll(strings.Join(docs[1:], "\n---\n"), "UID", string(dv.GetUID()))); err != nil {
		t.Fatal(err)
	}
	before := map[string]types.UID{}
	for _, gvr := range []gvrType{gvrDeployment, gvrService, gvrIngress} {
		before[gvr.Resource] = mustGet(ctx, t, gvr, legacyInstance).GetUID()
	}
	return dv, before
}

// followMigration follows docs/migration.md, steps 2 to 4.
func followMigration(ctx context.Context, t *testing.T) {
	t.Helper()
	// Step 2: stop the operator, and keep a copy of what it served.
	if _, err := c.kubectl(ctx, "", "-n", "im-data-manager-viz-operator", "scale", "deployment", "viz-operator", "--replicas=0"); err != nil {
		t.Fatal(err)
	}
	for file, args := range map[string][]string{
		"crd-backup.yaml":                {"get", "crd", "datavisualisations.squonk.it", "-o", "yaml"},
		"datavisualisations-backup.yaml": {"get", "datavisualisations", "-A", "-o", "yaml"},
	} {
		out, err := c.kubectl(ctx, "", args...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.path(file), []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// Step 3: remove the legacy Ingress class annotation.
	names, err := c.kubectl(ctx, "", "-n", dmNamespace, "get", "datavisualisations", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range strings.Fields(names) {
		name := n[strings.Index(n, "/")+1:]
		if i, err := c.get(ctx, gvrIngress, dmNamespace, name); err != nil || i == nil {
			continue // No Ingress, as for an instance the operator never served.
		}
		if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "annotate", "ingress", name, "kubernetes.io/ingress.class-"); err != nil {
			t.Fatal(err)
		}
	}

	// Step 4: install the Configuration.
	if err := c.installConfiguration(ctx); err != nil {
		t.Fatal(err)
	}
}

// checkMigrated checks that the instance is composed by the function, that
// its objects were taken over rather than replaced, and follows step 5.
func checkMigrated(ctx context.Context, t *testing.T, dv *unstructured.Unstructured, before map[string]types.UID) {
	t.Helper()
	// The instance is now a composite resource, composed by the function.
	url := "https://" + domain() + "/" + legacyInstance
	waitXR(ctx, t, legacyInstance, "Synced=True and its URL", func(xr *unstructured.Unstructured) bool {
		synced, _, _ := condition(xr, "Synced")
		valid, _, _ := condition(xr, "InputValid")
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "url")
		return synced == "True" && valid == "True" && got == url
	})
	if err := waitFor(ctx, 2*time.Minute, time.Second, "the operator's objects to be taken over", func() (bool, error) {
		objects, err := c.list(ctx, gvrObject, "crossplane.io/composite="+legacyInstance)
		if err != nil || len(objects) != 3 {
			return false, err
		}
		for _, o := range objects {
			if s, _, msg := condition(&o, "Synced"); s != "True" {
				return false, errorf("Object %s is not Synced: %s", o.GetName(), msg)
			}
		}
		d := mustGet(ctx, t, gvrDeployment, legacyInstance)
		nonRoot, _, _ := unstructured.NestedBool(d.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot")
		return nonRoot, errorf("the Deployment does not have the function's Pod template yet")
	}); err != nil {
		t.Fatal(err)
	}
	for _, gvr := range []gvrType{gvrDeployment, gvrService, gvrIngress} {
		if got := mustGet(ctx, t, gvr, legacyInstance).GetUID(); got != before[gvr.Resource] {
			t.Errorf("the %s was replaced, not taken over (uid %s, was %s)", gvr.Resource, got, before[gvr.Resource])
		}
	}
	i := mustGet(ctx, t, gvrIngress, legacyInstance)
	if class, _, _ := unstructured.NestedString(i.Object, "spec", "ingressClassName"); class != "nginx" {
		t.Errorf("the Ingress class is %q, want spec.ingressClassName nginx", class)
	}
	if _, ok := i.GetAnnotations()["kubernetes.io/ingress.class"]; ok {
		t.Error("the Ingress still has the legacy class annotation")
	}
	crd, err := c.get(ctx, gvrCRD, "", "datavisualisations.squonk.it")
	if err != nil || crd == nil || len(crd.GetOwnerReferences()) == 0 || crd.GetOwnerReferences()[0].Kind != "CompositeResourceDefinition" {
		t.Errorf("the CRD is not controlled by the XRD: %v (%v)", crd.GetOwnerReferences(), err)
	}

	// Step 5: remove the operator; the instance stays.
	if _, err := c.kubectl(ctx, "", "delete", "namespace", "im-data-manager-viz-operator", "--wait=false"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(ctx, t, gvrXR, legacyInstance); got.GetUID() != dv.GetUID() {
		t.Errorf("the DataVisualisation was replaced")
	}
}
