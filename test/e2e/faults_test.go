//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestLiveFaults breaks the running system in the ways a cluster does, in
// each mode, with bursts of contractBurst creates: every instance
// converges, none is duplicated, and readiness after a restart follows
// events again. The load benchmark restarts under larger bursts and reports
// the percentiles.
func TestLiveFaults(t *testing.T) {
	inEachMode(t, liveFaults)
}

func liveFaults(ctx context.Context, t *testing.T, m mode) {
	timedIn := func(what string) func() { return timed(m.name + " mode: " + what) }
	t.Run("FunctionKilledDuringABurst", func(t *testing.T) {
		defer timedIn(fmt.Sprintf("fault: function killed during a burst of %d creates, restarted; all converge, none duplicated", contractBurst))()
		burst := names(m.instance("killed"), contractBurst)
		var wg sync.WaitGroup
		for i, name := range burst {
			if i == len(burst)/4 {
				c.function.stop() // A quarter in, the function dies.
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := createXR(ctx, m, name); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		time.Sleep(3 * time.Second) // The function stays down a while: an outage, not a wait.
		if err := c.runFunction(); err != nil {
			t.Fatal(err)
		}
		for _, name := range burst {
			checkConverged(ctx, t, m, name)
		}
		deleteAtOnce(ctx, t, m, burst)
	})
	t.Run("ProviderRestarted", func(t *testing.T) {
		defer timedIn("fault: provider-kubernetes down during 3 creates, restarted; nothing lost")()
		before := &appsv1.DeploymentList{}
		if err := c.kube.List(ctx, before, client.InNamespace(dmNamespace)); err != nil {
			t.Fatal(err)
		}
		c.provider.stop()
		down := names(m.instance("while-provider-down"), 3)
		for _, name := range down {
			if _, err := createXR(ctx, m, name); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second) // The provider stays down a while: an outage, not a wait.
		if err := c.runProvider(ctx, c.cfg.providerTool); err != nil {
			t.Fatal(err)
		}
		for _, name := range down {
			checkConverged(ctx, t, m, name)
		}
		for i := range before.Items {
			d := &before.Items[i]
			now := deploymentRef(d.Name)
			if found, err := c.get(ctx, now); !found || now.UID != d.UID {
				t.Errorf("Deployment %s was lost or replaced across the provider's restart (%v)", d.Name, err)
			}
		}
		deleteAtOnce(ctx, t, m, down)
	})
	for _, r := range restarts(ctx) {
		t.Run("RestartOf-"+r.component, func(t *testing.T) {
			defer timedIn(fmt.Sprintf("fault: %s restarted during a burst of %d creates; all converge, none duplicated", r.component, contractBurst))()
			restartDuringABurst(ctx, t, m, r.component, names(m.instance("restart-"+r.component), contractBurst), r.restart)
		})
	}
	t.Run("DeletedWhileItsDeploymentIsBeingCreated", func(t *testing.T) {
		defer timedIn("fault: deleted while its Deployment is being created; nothing left")()
		name := m.instance("short-lived")
		// Its first composed resource: the Deployment's Object, or the
		// Deployment itself.
		composed := watchFor(ctx, xrRef(name), func(xr *unstructured.Unstructured) bool {
			if xr == nil {
				return false
			}
			refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
			return len(refs) > 0
		})
		if _, err := createXR(ctx, m, name); err != nil {
			t.Fatal(err)
		}
		if _, _, err := composed.wait(); err != nil {
			t.Fatal(err)
		}
		if _, err := deleteAndAwaitGone(ctx, name); err != nil {
			t.Fatal(err)
		}
	})
}
