//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

const legacyInstance = "instance-legacy"

// looseInstance was created under the operator's CRD with a value the XRD's
// schema refuses, and the function too (testdata/migration/loose-instance.yaml).
const looseInstance = "instance-legacy-loose"

// migrated is what the operator left, as installAPI found it before the
// migration: the instance, and the uids of its objects by kind.
var migrated struct {
	instance *unstructured.Unstructured
	uids     map[string]types.UID
}

// installAPI installs the DataVisualisation API of the contract suite as a
// cluster that ran the kopf operator gets it: it makes what the operator
// left, then follows docs/migration.md from its step 2 (the set-up did step
// 1). TestMigrationFromTheOperator checks the outcome.
func installAPI(ctx context.Context) error {
	if err := operatorWorld(ctx); err != nil {
		return fmt.Errorf("the operator's world: %w", err)
	}
	if err := c.applyTemplate(ctx, "migration/loose-instance.yaml", map[string]string{"NAME": looseInstance, "NAMESPACE": dmNamespace}); err != nil {
		return fmt.Errorf("the operator's CRD refused %s: %w", looseInstance, err)
	}
	return followMigration(ctx)
}

// operatorWorld makes what the operator left: its CRD, its Deployment, and
// one instance with the objects the operator made for it.
func operatorWorld(ctx context.Context) error {
	if err := c.applyFile(ctx, testdata("migration", "operator.yaml"), nil); err != nil {
		return err
	}
	values := map[string]string{"NAMESPACE": dmNamespace, "DOMAIN": domain(), "UID": ""}
	objs, err := readTemplate("migration/legacy-instance.yaml", values)
	if err != nil {
		return err
	}
	if err := c.apply(ctx, objs[0]); err != nil {
		return err
	}
	dv := xrRef(legacyInstance)
	if _, err := c.get(ctx, dv); err != nil {
		return err
	}
	values["UID"] = string(dv.GetUID())
	if objs, err = readTemplate("migration/legacy-instance.yaml", values); err != nil {
		return err
	}
	if err := c.apply(ctx, objs[1:]...); err != nil {
		return err
	}
	migrated.instance, migrated.uids = dv, map[string]types.UID{}
	for _, ref := range childRefs(legacyInstance) {
		if _, err := c.get(ctx, ref); err != nil {
			return err
		}
		migrated.uids[kindOf(ref)] = ref.GetUID()
	}
	return nil
}

// followMigration follows docs/migration.md, steps 2 to 4, with the
// commands it gives.
func followMigration(ctx context.Context) error {
	// Step 2: stop the operator, and keep a copy of what it served.
	if _, err := c.kubectl(ctx, "", "-n", "im-data-manager-viz-operator", "scale", "deployment", "viz-operator", "--replicas=0"); err != nil {
		return err
	}
	for file, args := range map[string][]string{
		"crd-backup.yaml":                {"get", "crd", "datavisualisations.squonk.it", "-o", "yaml"},
		"datavisualisations-backup.yaml": {"get", "datavisualisations", "-A", "-o", "yaml"},
	} {
		out, err := c.kubectl(ctx, "", args...)
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.path(file), []byte(out), 0o600); err != nil {
			return err
		}
	}

	// Step 3: remove the legacy Ingress class annotation.
	names, err := c.kubectl(ctx, "", "-n", dmNamespace, "get", "datavisualisations", "-o", "name")
	if err != nil {
		return err
	}
	for _, n := range strings.Fields(names) {
		name := n[strings.Index(n, "/")+1:]
		if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "get", "ingress", name); err != nil {
			continue // No Ingress, as for an instance the operator never served.
		}
		if _, err := c.kubectl(ctx, "", "-n", dmNamespace, "annotate", "ingress", name, "kubernetes.io/ingress.class-"); err != nil {
			return err
		}
	}

	// Step 4: install the Configuration. The suite's provider-kubernetes is
	// no package, so the Configuration skips dependency resolution.
	if _, err := c.kubectl(ctx, "", "apply", "-f", filepath.Join(c.cfg.repo, "example", "platform", "configuration.yaml")); err != nil {
		return err
	}
	if err := c.skipDependencyResolution(ctx); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"wait", "configuration/configuration-squonk2-viz", "--for=condition=Healthy", "--timeout=5m"},
		{"wait", "xrd/datavisualisations.squonk.it", "--for=condition=Established", "--timeout=5m"},
	} {
		if _, err := c.kubectl(ctx, "", args...); err != nil {
			return err
		}
	}
	return nil
}

// TestMigrationFromTheOperator checks that the migration the set-up
// followed left the operator's instance managed by Crossplane, with its URL,
// its objects taken over rather than replaced, and nothing orphaned or
// duplicated; then follows step 5, and checks validation ratcheting.
func TestMigrationFromTheOperator(t *testing.T) {
	ctx := context.Background()
	defer timed("migration from the operator (docs/migration.md): the checks")()
	checkMigrated(ctx, t)
	checkRatcheting(ctx, t)
}

// checkMigrated checks that the instance is composed by the function, that
// its objects were taken over rather than replaced, and follows step 5.
func checkMigrated(ctx context.Context, t *testing.T) {
	t.Helper()
	waitXR(ctx, t, legacyInstance, "Synced=True, InputValid=True and its URL", func(xr *unstructured.Unstructured) bool {
		synced, _, _ := condition(xr, "Synced")
		valid, _, _ := condition(xr, "InputValid")
		return synced == "True" && valid == "True" && hasURL(legacyInstance)(xr)
	})
	checkConverged(ctx, t, providerMode, legacyInstance)
	objects, err := c.objectsOf(ctx, legacyInstance)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		if err := c.waitCondition(ctx, unstructuredOf(gvkObject, dmNamespace, o.GetName()), "Synced"); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := until(ctx, deploymentRef(legacyInstance), func(d *appsv1.Deployment) bool {
		if d == nil {
			return false
		}
		sc := d.Spec.Template.Spec.SecurityContext
		return sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot
	}); err != nil {
		t.Fatalf("the Deployment does not get the function's Pod template: %v", err)
	}
	for _, ref := range childRefs(legacyInstance) {
		if got := mustGet(ctx, t, ref).GetUID(); got != migrated.uids[kindOf(ref)] {
			t.Errorf("the %s was replaced, not taken over (uid %s, was %s)", kindOf(ref), got, migrated.uids[kindOf(ref)])
		}
	}
	i := mustGet(ctx, t, ingressRef(legacyInstance))
	if class := i.Spec.IngressClassName; class == nil || *class != "nginx" {
		t.Errorf("the Ingress class is %v, want spec.ingressClassName nginx", class)
	}
	if _, ok := i.Annotations["kubernetes.io/ingress.class"]; ok {
		t.Error("the Ingress still has the legacy class annotation")
	}
	crd := mustGet(ctx, t, unstructuredOf(gvkCRD, "", "datavisualisations.squonk.it"))
	if owners := crd.GetOwnerReferences(); len(owners) == 0 || owners[0].Kind != "CompositeResourceDefinition" {
		t.Errorf("the CRD is not controlled by the XRD: %v", owners)
	}

	// Step 5: remove the operator; the instance stays.
	if _, err := c.kubectl(ctx, "", "delete", "namespace", "im-data-manager-viz-operator", "--wait=false"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(ctx, t, xrRef(legacyInstance)); got.GetUID() != migrated.instance.GetUID() {
		t.Errorf("the DataVisualisation was replaced")
	}
}

// checkRatcheting proves that an instance created under the operator's
// looser CRD, with a value the new schema refuses, can still be read, have
// its status written and be deleted (the API server's validation
// ratcheting), while a new one like it is refused at create.
func checkRatcheting(ctx context.Context, t *testing.T) {
	t.Helper()
	xr := waitXR(ctx, t, looseInstance, "the function's verdict, InputValid=False", xrCondition("InputValid", "False"))
	if _, _, msg := condition(xr, "InputValid"); !strings.Contains(msg, "spec.imDataManager.ingressProxyBodySize") {
		t.Errorf("InputValid does not name the field: %s", msg)
	}
	err := c.applyTemplate(ctx, "migration/loose-instance.yaml", map[string]string{"NAME": looseInstance + "-new", "NAMESPACE": dmNamespace})
	if err == nil || !strings.Contains(err.Error(), "spec.imDataManager.ingressProxyBodySize") {
		t.Errorf("the API server did not refuse a new instance like %s, naming the field: %v", looseInstance, err)
	}
	if _, err := deleteAndAwaitGone(ctx, looseInstance); err != nil {
		t.Fatalf("cannot delete %s: %v", looseInstance, err)
	}
}
