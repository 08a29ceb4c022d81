//go:build e2e && load

package e2e

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The load benchmark's parameters: `make e2e-load` passes them.
var (
	burstSizes   = flag.String("sizes", "50,200", "the sizes of the bursts, comma-separated: each is created at once, measured at rest, deleted at once")
	restWindow   = flag.Duration("rest", 60*time.Second, "how long the cost at rest is measured after each burst")
	restartBurst = flag.Int("restart-burst", 20, "how many instances are created during each restart")
)

var gvkXRD = schema.GroupVersionKind{Group: "apiextensions.crossplane.io", Version: "v2", Kind: "CompositeResourceDefinition"}

// installAPI installs the DataVisualisation API as example/platform says,
// with example/platform/configuration.yaml. Its dependencies are installed
// already, but provider-kubernetes not as a package (the suite cannot pull
// it), so dependency resolution is off.
func installAPI(ctx context.Context) error {
	if err := c.applyFile(ctx, filepath.Join(c.cfg.repo, "example", "platform", "configuration.yaml"), nil); err != nil {
		return err
	}
	if err := c.skipDependencyResolution(ctx); err != nil {
		return err
	}
	if err := c.waitCondition(ctx, unstructuredOf(gvkConfiguration, "", "configuration-squonk2-viz"), "Healthy"); err != nil {
		return err
	}
	return c.waitCondition(ctx, unstructuredOf(gvkXRD, "", "datavisualisations.squonk.it"), "Established")
}

// sizes parses -sizes.
func sizes(t *testing.T) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Split(*burstSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("-sizes: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out
}

// TestLoadBursts creates each burst at once, in each mode, as a busy Data
// Manager might: each instance is timed from its create to its Deployment,
// then from its Pod turning Ready to its own Ready, while all its peers'
// do the same; then, with all of them Ready, it measures what each
// component costs at rest, and deletes them at once. Every instance must
// converge, with exactly its mode's composed resources, and leave nothing
// behind; how long it takes is reported beside the mode's targets.
func TestLoadBursts(t *testing.T) {
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		for _, n := range sizes(t) {
			instances := names(m.instance(fmt.Sprintf("load%d", n)), n)
			target := time.Duration(0)
			if n == 50 {
				target = m.targets.burst50
			}
			t.Run(fmt.Sprintf("%dAtOnce", n), func(t *testing.T) {
				defer timed(fmt.Sprintf("%s mode: %d created at once, at rest, deleted at once", m.name, n))()
				manyAtOnce(ctx, t, m, instances, target)
				atRest(ctx, t, m, n)
				deleteAtOnce(ctx, t, m, instances)
				if err := c.kubelet.check(); err != nil {
					t.Error(err)
				}
			})
		}
	})
}

// TestLoadRestarts restarts provider-kubernetes, Crossplane and
// kube-apiserver, each during a burst of -restart-burst creates, in each
// mode, and reports the percentiles of Pod Ready -> Ready after each.
func TestLoadRestarts(t *testing.T) {
	inEachMode(t, func(ctx context.Context, t *testing.T, m mode) {
		for _, r := range restarts(ctx) {
			t.Run("RestartOf-"+r.component, func(t *testing.T) {
				defer timed(fmt.Sprintf("%s mode: %s restarted during a burst of %d creates", m.name, r.component, *restartBurst))()
				restartDuringABurst(ctx, t, m, r.component, names(m.instance("restart-"+r.component), *restartBurst), r.restart)
			})
		}
	})
}

// atRest measures, with n instances Ready and nothing happening, what each
// component costs over -rest: CPU time and resident memory, in all and per
// instance, and the counters per instance per minute.
func atRest(ctx context.Context, t *testing.T, m mode, n int) {
	t.Helper()
	before, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select { // The measurement's window: nothing is waited for.
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(*restWindow):
	}
	after, err := c.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	costs.add(cost(m, fmt.Sprintf("%d Ready, at rest for %s", n, *restWindow), n, before, after, time.Minute))
}
