//go:build e2e && upgrade

package e2e

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The upgrade suite's parameters: `make e2e-upgrade` passes them. The suite
// starts with the previous releases (the flags of main_test.go name them)
// and upgrades to these.
var (
	fleetSize                = flag.Int("fleet", 50, "instances Ready in each mode while each upgrade runs")
	upgradeFunctionXpkg      = flag.String("upgrade-function-xpkg", "", "this release's Function package")
	upgradeConfigurationXpkg = flag.String("upgrade-configuration-xpkg", "", "this release's Configuration package")
	upgradeFunctionBinary    = flag.String("upgrade-function-binary", "", "this release's function binary")
	upgradeCrossplaneTool    = flag.String("upgrade-crossplane-tool", "crossplane-core", "the tool of the Crossplane core to upgrade to")
	upgradeProviderTool      = flag.String("upgrade-provider-tool", "provider-kubernetes", "the tool of the provider-kubernetes to upgrade to")
	rolloutOver              = flag.Duration("rollout-over", time.Minute, "how long the rollout on purpose takes")
)

// upgradeVersion is the tag of this release's packages in the suite's
// registry; the previous release's are tagged packageVersion, as the kit
// names them.
const upgradeVersion = "v0.2.0"

// churnEvery is how often the Data Manager creates an instance, in turn in
// each mode, during each upgrade, deleting half of them;
// at least churnAtLeast in each mode, however soon the upgrade is done.
const (
	churnEvery   = 700 * time.Millisecond
	churnAtLeast = 10
)

// observeFor is how long the fleet is watched after each upgrade has
// landed, for a Pod replaced or an instance unready late: a window of
// observation, never part of a measurement.
const observeFor = 15 * time.Second

// TestUpgradesLeaveRunningSessionsAlone upgrades each component while
// -fleet instances run in each mode (their Pods Ready) and the Data Manager
// creates and deletes instances: Crossplane core, provider-kubernetes, the
// function and its Configuration through Crossplane's package manager, and a
// setting that changes the Pod template. After each: no Pod of the fleet
// replaced, no instance unready at any moment, exactly the mode's composed
// resources, the instances created during it composed and Ready within the
// usual targets, and nothing left of those deleted. Then the platform rolls
// the new template out on purpose: every instance restarts once, at its own
// moment, and never with two Pods at once.
func TestUpgradesLeaveRunningSessionsAlone(t *testing.T) {
	ctx := context.Background()
	for _, f := range []string{*upgradeFunctionXpkg, *upgradeConfigurationXpkg, *upgradeFunctionBinary} {
		if f == "" {
			t.Fatal("run with -upgrade-function-xpkg, -upgrade-configuration-xpkg and -upgrade-function-binary (make e2e-upgrade does)")
		}
	}
	fleet := map[string][]string{}
	for _, m := range modes {
		fleet[m.name] = names(m.instance("fleet"), *fleetSize)
		manyAtOnce(ctx, t, m, fleet[m.name], burstTargets{})
	}
	w, err := watchFleet(ctx, slices.Concat(fleet[providerMode.name], fleet[directMode.name]))
	if err != nil {
		t.Fatal(err)
	}
	rows := []string{
		"| upgrade, with " + fmt.Sprint(*fleetSize) + " Ready in each mode | Pods replaced | instances that lost Ready: for good / for a moment, their Pod untouched | creates during it: create (or the upgraded component's return) → Deployment, p95 | instances on an older template |",
		"|---|---|---|---|---|",
	}
	for _, step := range upgradeSteps(ctx, t, w) {
		t.Run(step.name, func(t *testing.T) {
			defer timed("upgrade under load: " + step.name)()
			w.reset()
			churn := startChurn(ctx, t, step.id)
			var back *watching[*coordinationv1.Lease]
			if step.lease != "" {
				back = newHolder(ctx, t, step.lease)
			}
			if err := step.do(); err != nil {
				t.Fatalf("cannot upgrade: %v", err)
			}
			if back != nil {
				at, _, err := back.wait()
				if err != nil {
					t.Fatalf("the upgraded component never took its lease: %v", err)
				}
				churn.back = at
			}
			if step.landed != nil {
				if err := step.landed(); err != nil {
					t.Fatalf("the upgrade did not reach every instance: %v", err)
				}
			}
			created := churn.stop()
			<-time.After(observeFor) // Observation only: a late replacement or unready instance counts.
			replaced, unready, older := w.report()
			lost, flapped := w.stillUnready(unready)
			rows = append(rows, fmt.Sprintf("| %s | %d of %d | %d / %d | %s | %d of %d |", step.name, replaced, 2**fleetSize, len(lost), len(flapped),
				created.summary(), older, 2**fleetSize))
			if replaced > 0 {
				t.Errorf("%d of the fleet's Pods were replaced: %v", replaced, w.replacedNames())
			}
			if len(lost) > 0 {
				t.Errorf("instances lost Ready and are not Ready %s after the upgrade: %v", observeFor, lost)
			}
			if len(flapped) > 0 {
				t.Logf("instances Ready=False for a moment, their Pods untouched (a status from a stale read of the cache; Ready again at once): %v", flapped)
			}
			if step.older >= 0 && older != step.older {
				t.Errorf("%d instances say they run an older template, want %d", older, step.older)
			}
			for _, m := range modes {
				for _, name := range fleet[m.name] {
					if err := m.checkComposed(ctx, mustGet(ctx, t, xrRef(name))); err != nil {
						t.Error(err)
					}
				}
			}
			created.check(ctx, t, step)
		})
		if t.Failed() {
			upgrades = "\n" + strings.Join(rows, "\n") + "\n"
			return
		}
	}
	rows = append(rows, rolloutOnPurpose(ctx, t, w))
	upgrades = "\n" + strings.Join(rows, "\n") + "\n"
	t.Log(upgrades)
}

// An upgradeStep is one upgrade: what it does, what says it has reached
// every instance, how many of the fleet then say they run an older
// template (-1: the release does not say), and whether instances created
// during it run the current template.
type upgradeStep struct {
	id   string // of the instances created during it
	name string
	// lease, when the upgrade stops a leader-elected component, is the
	// lease its new process takes: a create during the outage is timed
	// from then, as nothing composes it before.
	lease string
	// recomposesFleet says the upgrade puts every instance of the fleet in
	// Crossplane's queue at once, more than once each: a create during it
	// waits as in a burst of the fleet's size, and is held to the target
	// of the larger burst (200 at once), not that of 50.
	recomposesFleet bool
	do              func() error
	landed          func() error
	older           int
	current         func(*unstructured.Unstructured) error
}

// createTarget is the target a create during the upgrade is held to in
// mode m.
func (s upgradeStep) createTarget(m mode) time.Duration {
	if s.recomposesFleet {
		return m.targets.burst200
	}
	return m.targets.burst50
}

// newSelectorValue is the node selector value of the setting that changes
// the Pod template.
const newSelectorValue = "pool-2"

func upgradeSteps(ctx context.Context, t *testing.T, w *fleetWatch) []upgradeStep {
	t.Helper()
	all := 2 * *fleetSize
	return []upgradeStep{
		{
			id:    "crossplane",
			name:  "Crossplane core v2.3 → v2.4 (" + toolVersion(t, c.cfg.crossplaneTool, crossplaneModule) + " → " + toolVersion(t, *upgradeCrossplaneTool, crossplaneModule) + ")",
			lease: crossplaneLease,
			do: func() error {
				c.crossplane.stop()
				return c.deployCrossplane(ctx, *upgradeCrossplaneTool)
			},
			older: -1,
		},
		{
			id:   "provider",
			name: "provider-kubernetes " + toolVersion(t, c.cfg.providerTool, providerKubernetes) + " → " + toolVersion(t, *upgradeProviderTool, providerKubernetes),
			do: func() error {
				c.provider.stop()
				if err := c.applyProviderCRDs(ctx, *upgradeProviderTool); err != nil {
					return err
				}
				return c.runProvider(ctx, *upgradeProviderTool)
			},
			older: -1,
		},
		{
			id:   "function",
			name: "function-squonk2-viz, the previous release → this one (Function and Configuration packages)",
			// A new XRD restarts the DataVisualisation controller, every
			// instance moves to the new CompositionRevisions, and none
			// composes while Crossplane has yet to validate them against
			// the new FunctionRevision: the whole fleet is recomposed, its
			// failed attempts retried with backoff.
			recomposesFleet: true,
			do:              func() error { return upgradeFunction(ctx) },
			landed: func() error {
				return w.await(ctx, "status.template", func(s fleetState) bool { return s.templates == all })
			},
			older: 0,
			current: func(xr *unstructured.Unstructured) error {
				if _, found, _ := unstructured.NestedMap(xr.Object, "status", "template", "pod"); !found {
					return fmt.Errorf("%s has no status.template: not composed by this release", xr.GetName())
				}
				return templateCurrent(xr)
			},
		},
		{
			id:   "setting",
			name: "a setting that changes the Pod template (SVO_POD_NODE_SELECTOR_VALUE → " + newSelectorValue + ")",
			do: func() error {
				return setSetting(ctx, map[string]string{"SVO_POD_NODE_SELECTOR_VALUE": newSelectorValue})
			},
			landed: func() error {
				return w.await(ctx, "TemplateCurrent=False", func(s fleetState) bool { return s.older == all })
			},
			older: all,
			current: func(xr *unstructured.Unstructured) error {
				d := mustGet(ctx, t, deploymentRef(xr.GetName()))
				if got := d.Spec.Template.Spec.NodeSelector["informaticsmatters.com/purpose-application"]; got != newSelectorValue {
					return fmt.Errorf("%s's Pod template has node selector value %q, want the new setting's %q", xr.GetName(), got, newSelectorValue)
				}
				return templateCurrent(xr)
			},
		},
	}
}

// crossplaneLease is the lease of Crossplane core's leader election.
const crossplaneLease = "crossplane-leader-election-core"

// newHolder watches for the lease in crossplane-system to be taken by
// another holder than its present one: the component's next process.
func newHolder(ctx context.Context, t *testing.T, name string) *watching[*coordinationv1.Lease] {
	t.Helper()
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "crossplane-system", Name: name}}
	if err := c.kube.Get(ctx, client.ObjectKeyFromObject(lease), lease); err != nil {
		t.Fatalf("cannot read the lease %s: %v", name, err)
	}
	holder := ptr.Deref(lease.Spec.HolderIdentity, "")
	return watchFor(ctx, lease, func(l *coordinationv1.Lease) bool {
		h := ptr.Deref(l.Spec.HolderIdentity, "")
		return h != "" && h != holder
	})
}

// toolVersion is the version of module that a tool module pins.
func toolVersion(t *testing.T, tool, module string) string {
	t.Helper()
	dir, err := c.pinned(tool, module)
	if err != nil {
		t.Fatal(err)
	}
	_, version, _ := strings.Cut(filepath.Base(dir), "@")
	return version
}

// templateCurrent checks that a DataVisualisation says it runs the current
// Pod template.
func templateCurrent(xr *unstructured.Unstructured) error {
	if status, reason, message := condition(xr, "TemplateCurrent"); status != "True" {
		return fmt.Errorf("%s: TemplateCurrent %s %s: %s", xr.GetName(), status, reason, message)
	}
	return nil
}

// upgradeFunction upgrades the function as a platform does, through
// Crossplane's package manager: this release's packages in the registry,
// the Configuration first (its XRD declares the status this release's
// function writes, which Crossplane applies only where the schema has it),
// then the Function it depends on. The suite plays the package runtime: it
// starts the new revision's function beside the old one, points the
// revision at it, and stops the old one once the new revision is the
// Function's, as a Deployment's rolling update would.
func upgradeFunction(ctx context.Context) error {
	if err := c.pushPackages(ctx, *upgradeFunctionXpkg, *upgradeConfigurationXpkg, upgradeVersion); err != nil {
		return err
	}
	if err := upgradeConfiguration(ctx); err != nil {
		return err
	}
	if err := setPackage(ctx, unstructuredOf(gvkFunction, "", functionName), functionRepository); err != nil {
		return err
	}
	_, revision, err := watchForAny(ctx, unstructuredOf(gvkFunctionRevision, "", ""), labels.Set{"pkg.crossplane.io/package": functionName},
		func(r *unstructured.Unstructured) bool {
			image, _, _ := unstructured.NestedString(r.Object, "spec", "image")
			return strings.HasSuffix(image, ":"+upgradeVersion)
		}).wait()
	if err != nil {
		return fmt.Errorf("the new FunctionRevision: %w", err)
	}
	old := c.function
	c.functionAddr, c.functionBinary = "", *upgradeFunctionBinary
	if err := c.runFunction(); err != nil {
		return err
	}
	if err := c.setRuntimeStatus(ctx, revision.GetName(), c.runFor(revision)); err != nil {
		return err
	}
	if _, _, err := until(ctx, unstructuredOf(gvkFunction, "", functionName), func(f *unstructured.Unstructured) bool {
		if f == nil {
			return false
		}
		current, _, _ := unstructured.NestedString(f.Object, "status", "currentRevision")
		healthy, _, _ := condition(f, "Healthy")
		return current == revision.GetName() && healthy == "True"
	}); err != nil {
		return fmt.Errorf("the Function is not healthy on its new revision: %w", err)
	}
	old.stop()
	return nil
}

// upgradeConfiguration moves the Configuration to this release and waits
// for its XRD.
func upgradeConfiguration(ctx context.Context) error {
	if err := setPackage(ctx, unstructuredOf(gvkConfiguration, "", "configuration-squonk2-viz"), configurationRepository); err != nil {
		return err
	}
	if _, _, err := until(ctx, unstructuredOf(gvkXRD, "", "datavisualisations.squonk.it"), func(x *unstructured.Unstructured) bool {
		if x == nil {
			return false
		}
		versions, _, _ := unstructured.NestedSlice(x.Object, "spec", "versions")
		return strings.Contains(fmt.Sprint(versions), "TemplateCurrent") // This release's printer column.
	}); err != nil {
		return fmt.Errorf("this release's XRD: %w", err)
	}
	return c.waitCondition(ctx, unstructuredOf(gvkConfiguration, "", "configuration-squonk2-viz"), "Healthy")
}

// setPackage moves a package to this release's version.
func setPackage(ctx context.Context, pkg *unstructured.Unstructured, repository string) error {
	patch := fmt.Sprintf(`{"spec":{"package":"ghcr.io/%s:%s"}}`, repository, upgradeVersion)
	if err := c.kube.Patch(ctx, pkg, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("cannot upgrade %s: %w", describe(pkg, nil), err)
	}
	return nil
}

// setSetting changes the function's settings as a platform does: in the
// kit's ConfigMap, which the function reads whenever it changes.
func setSetting(ctx context.Context, values map[string]string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "crossplane-system", Name: functionName}}
	if err := c.kube.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
		return fmt.Errorf("cannot read the function's settings: %w", err)
	}
	patch := client.MergeFrom(cm.DeepCopy())
	maps.Copy(cm.Data, values)
	if err := c.kube.Patch(ctx, cm, patch); err != nil {
		return fmt.Errorf("cannot change the function's settings: %w", err)
	}
	return nil
}

// rolloutOnPurpose rolls the current template out to the fleet, as a
// platform does for a security fix: SVO_ROLLOUT_START now, over
// -rollout-over. Every instance restarts once, at its own moment, never with
// two Pods at once; it is timed from the rollout's start to the last new Pod
// Ready.
func rolloutOnPurpose(ctx context.Context, t *testing.T, w *fleetWatch) string {
	t.Helper()
	all := 2 * *fleetSize
	w.reset()
	start := time.Now().Truncate(time.Second).Add(time.Second)
	if err := setSetting(ctx, map[string]string{"SVO_ROLLOUT_START": start.UTC().Format(time.RFC3339), "SVO_ROLLOUT_OVER": rolloutOver.String()}); err != nil {
		t.Fatal(err)
	}
	err := w.await(ctx, "every instance on the current template, its new Pod Ready", func(s fleetState) bool {
		return s.older == 0 && s.replacedReady == all
	})
	took := time.Since(start)
	if err != nil {
		t.Error(err)
	}
	replaced, unready, older := w.report()
	if w.maxPodsAtOnce() > 1 {
		t.Errorf("an instance ran %d Pods at once", w.maxPodsAtOnce())
	}
	if wrong := w.restartedOnce(); len(wrong) > 0 {
		t.Errorf("want each instance's Pod replaced once by one new Pod: %v", wrong)
	}
	timings.add(fmt.Sprintf("rollout on purpose of %d instances over %s: start → the last new Pod Ready", all, *rolloutOver), took)
	return fmt.Sprintf("| the rollout on purpose (SVO_ROLLOUT_START, SVO_ROLLOUT_OVER=%s): start → the last new Pod Ready in %s, at most %d Pod of an instance at once | %d of %d (each once) | %d while its Pod restarts | – | %d of %d |",
		*rolloutOver, took.Round(100*time.Millisecond), w.maxPodsAtOnce(), replaced, all, len(unready), older, all)
}

// A fleetWatch follows the fleet's Pods and DataVisualisations with
// informers: the Pods replaced since reset (a Pod of another uid than
// those it started with, or one deleted), how many an instance ever ran at
// once, the instances that lost Ready, and what the DataVisualisations say
// of their template.
type fleetWatch struct {
	mu       sync.Mutex
	fleet    map[string]bool
	baseline map[types.UID]bool
	pods     map[string]map[types.UID]bool // Live Pods, by instance.
	// gone and created count, by instance, the baseline's Pods deleted and
	// Pods not of the baseline made.
	gone, created map[string]int
	newReady      map[string]bool // A Pod not of the baseline is Ready.
	maxPods       int
	unready       map[string]string
	ready         map[string]bool // Ready=True now.
	older         map[string]bool
	template      map[string]bool
	changed       chan struct{}
}

// fleetState is what a fleetWatch counts.
type fleetState struct {
	older, templates, replacedReady int
}

func watchFleet(ctx context.Context, instances []string) (*fleetWatch, error) {
	w := &fleetWatch{
		fleet: map[string]bool{}, pods: map[string]map[types.UID]bool{}, unready: map[string]string{}, ready: map[string]bool{},
		older: map[string]bool{}, template: map[string]bool{}, changed: make(chan struct{}, 1),
	}
	for _, n := range instances {
		w.fleet[n] = true
	}
	podLW, err := c.listWatch(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace}}, nil)
	if err != nil {
		return nil, err
	}
	xrLW, err := c.listWatch(unstructuredOf(gvkXR, dmNamespace, ""), nil)
	if err != nil {
		return nil, err
	}
	pods := cache.NewSharedIndexInformer(podLW, &corev1.Pod{}, 0, cache.Indexers{})
	xrs := cache.NewSharedIndexInformer(xrLW, &unstructured.Unstructured{}, 0, cache.Indexers{})
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.pod(o, false) },
		UpdateFunc: func(_, o any) { w.pod(o, false) },
		DeleteFunc: func(o any) { w.pod(o, true) },
	}); err != nil {
		return nil, err
	}
	if _, err := xrs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.xr,
		UpdateFunc: func(_, o any) { w.xr(o) },
	}); err != nil {
		return nil, err
	}
	go pods.RunWithContext(ctx)
	go xrs.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), pods.HasSynced, xrs.HasSynced) {
		return nil, fmt.Errorf("the fleet's informers did not sync")
	}
	w.reset()
	return w, nil
}

func (w *fleetWatch) pod(o any, deleted bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o, deleted = d.Obj, true
	}
	p, ok := o.(*corev1.Pod)
	if !ok || !w.fleet[p.Labels["deployment"]] {
		return
	}
	instance := p.Labels["deployment"]
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.notify()
	if w.pods[instance] == nil {
		w.pods[instance] = map[types.UID]bool{}
	}
	known := w.pods[instance][p.UID]
	if deleted {
		delete(w.pods[instance], p.UID)
	} else {
		w.pods[instance][p.UID] = true
	}
	w.maxPods = max(w.maxPods, len(w.pods[instance]))
	if w.baseline == nil {
		return
	}
	switch {
	case deleted && w.baseline[p.UID]:
		w.gone[instance]++
	case !deleted && !known && !w.baseline[p.UID]:
		w.created[instance]++
	}
	if !deleted && !w.baseline[p.UID] && podReady(p) {
		w.newReady[instance] = true
	}
}

func (w *fleetWatch) xr(o any) {
	xr, ok := o.(*unstructured.Unstructured)
	if !ok || !w.fleet[xr.GetName()] {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.notify()
	// Lost Ready: Ready=False. A Ready written for an earlier generation
	// (an upgrade moves every instance to a new CompositionRevision, which
	// changes its spec) reads Unknown until Crossplane reconciles it, and
	// says nothing of the instance.
	status, reason, message := condition(xr, "Ready")
	w.ready[xr.GetName()] = status == "True"
	if status == "False" && w.baseline != nil {
		_, waiting, waitingFor := condition(xr, "ResourcesReady")
		w.unready[xr.GetName()] = fmt.Sprintf("%s %q (ResourcesReady %s %q) at generation %d, resourceVersion %s",
			reason, message, waiting, waitingFor, xr.GetGeneration(), xr.GetResourceVersion())
	}
	status, _, _ = condition(xr, "TemplateCurrent")
	w.older[xr.GetName()] = status == "False"
	_, w.template[xr.GetName()], _ = unstructured.NestedMap(xr.Object, "status", "template", "pod")
}

func (w *fleetWatch) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// reset makes the fleet's Pods now the baseline.
func (w *fleetWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.baseline = map[types.UID]bool{}
	for _, uids := range w.pods {
		for uid := range uids {
			w.baseline[uid] = true
		}
	}
	w.gone, w.created, w.newReady, w.unready, w.maxPods = map[string]int{}, map[string]int{}, map[string]bool{}, map[string]string{}, 0
}

func (w *fleetWatch) state() fleetState {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s fleetState
	for n := range w.fleet {
		if w.older[n] {
			s.older++
		}
		if w.template[n] {
			s.templates++
		}
		if w.newReady[n] {
			s.replacedReady++
		}
	}
	return s
}

// await waits until the fleet's state satisfies cond.
func (w *fleetWatch) await(ctx context.Context, what string, cond func(fleetState) bool) error {
	ctx, cancel := context.WithTimeout(ctx, *awaitTimeout)
	defer cancel()
	for !cond(w.state()) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (%+v)", what, ctx.Err(), w.state())
		case <-w.changed:
		}
	}
	return nil
}

// report returns how many instances' Pods changed since reset (one of the
// baseline deleted, or a new one made), the instances that lost Ready, and
// how many say they run an older template.
func (w *fleetWatch) report() (replaced int, unready map[string]string, older int) {
	s := w.state()
	return len(w.replacedNames()), w.lostReady(), s.older
}

// stillUnready splits the instances that lost Ready into those not Ready
// now and those Ready again: Crossplane writes an XR's status from its
// cache, without a precondition, so a reconcile that read a stale copy of a
// Deployment under load says Ready=False for a moment although nothing of
// the instance changed (its Pod is checked apart).
func (w *fleetWatch) stillUnready(unready map[string]string) (lost, flapped map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	lost, flapped = map[string]string{}, map[string]string{}
	for n, why := range unready {
		if w.ready[n] {
			flapped[n] = why
		} else {
			lost[n] = why
		}
	}
	return lost, flapped
}

func (w *fleetWatch) lostReady() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.unready)
}

// replacedNames are the instances whose Pods changed.
func (w *fleetWatch) replacedNames() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n := range w.fleet {
		if w.gone[n] > 0 || w.created[n] > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// restartedOnce reports whether each instance's one Pod was replaced by one
// new Pod.
func (w *fleetWatch) restartedOnce() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n := range w.fleet {
		if w.gone[n] != 1 || w.created[n] != 1 {
			out = append(out, fmt.Sprintf("%s: %d deleted, %d made", n, w.gone[n], w.created[n]))
		}
	}
	slices.Sort(out)
	return out
}

func (w *fleetWatch) maxPodsAtOnce() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxPods
}

// A churn is the Data Manager creating and deleting instances while an
// upgrade runs: each create it keeps is timed to its Deployment, and each
// it deletes must leave nothing.
type churn struct {
	// back is when the upgraded component returned (took its lease), if
	// the upgrade stopped it.
	back    time.Time
	stopped chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	created []*churned
	errs    []error
}

type churned struct {
	i          int // The how manieth create.
	m          mode
	name       string
	deployment *watching[*appsv1.Deployment]
	created    time.Time
	deleted    bool
}

func startChurn(ctx context.Context, t *testing.T, step string) *churn {
	t.Helper()
	ch := &churn{stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(ch.done)
		var deletes sync.WaitGroup
		defer deletes.Wait()
		for i := 0; ; i++ {
			stopped := ch.stopped
			if i < churnAtLeast*len(modes) {
				stopped = nil // Not before the least.
			}
			select {
			case <-stopped:
				return
			case <-time.After(churnEvery): // The Data Manager's pace, not a wait.
			}
			m := modes[i%len(modes)]
			name := m.instance(fmt.Sprintf("churn-%s-%03d", step, i))
			d := watchFor(ctx, deploymentRef(name), exists)
			created, err := createXR(ctx, m, name)
			ch.mu.Lock()
			if err != nil {
				ch.errs = append(ch.errs, err)
			} else {
				ch.created = append(ch.created, &churned{i: i, m: m, name: name, deployment: d, created: created})
			}
			if victim := ch.createdAt(i - 2); i%4 >= 2 && victim != nil { // Of the same mode: half of each mode's.
				victim.deleted = true
				deletes.Add(1)
				go func(name string) {
					defer deletes.Done()
					if _, err := deleteAndAwaitGone(ctx, name); err != nil {
						ch.mu.Lock()
						ch.errs = append(ch.errs, err)
						ch.mu.Unlock()
					}
				}(victim.name)
			}
			ch.mu.Unlock()
		}
	}()
	return ch
}

// createdAt returns the instance of the ith create, if it was created.
func (ch *churn) createdAt(i int) *churned {
	for _, cr := range ch.created {
		if cr.i == i {
			return cr
		}
	}
	return nil
}

// since is the moment a create's composing can start: its create, or the
// upgraded component's return if that is later.
func (ch *churn) since(cr *churned) time.Time {
	if ch.back.After(cr.created) {
		return ch.back
	}
	return cr.created
}

// stop ends the churn, once its deletes are done.
func (ch *churn) stop() *churn {
	close(ch.stopped)
	<-ch.done
	return ch
}

// summary is the churn's row cell: the creates and their create ->
// Deployment p95 in each mode.
func (ch *churn) summary() string {
	cells := []string{}
	for _, m := range modes {
		var took []time.Duration
		for _, cr := range ch.created {
			if cr.m != m || cr.deleted { // One deleted may never have been composed.
				continue
			}
			if at, _, err := cr.deployment.wait(); err == nil {
				took = append(took, at.Sub(ch.since(cr)))
			}
		}
		slices.Sort(took)
		if len(took) == 0 {
			cells = append(cells, m.name+": none composed")
			continue
		}
		cells = append(cells, fmt.Sprintf("%s: %d, p95 %s", m.name, len(took), percentile(took, 95).Round(time.Millisecond)))
	}
	return strings.Join(cells, "; ")
}

// check checks the instances the churn created: each has its Deployment
// within the step's target for its mode (past it by no more than the
// guard), turns Ready, composes exactly the mode's resources and runs the
// current template (step.current, when given); each it
// deleted left nothing; the rest are deleted and leave nothing.
func (ch *churn) check(ctx context.Context, t *testing.T, step upgradeStep) {
	t.Helper()
	for _, err := range ch.errs {
		t.Error(err)
	}
	for _, m := range modes {
		var took []time.Duration
		for _, cr := range ch.created {
			if cr.m != m || cr.deleted {
				continue
			}
			at, _, err := cr.deployment.wait()
			if err != nil {
				xr := xrRef(cr.name)
				_, _ = c.get(ctx, xr)
				conds, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
				t.Errorf("%v (its conditions: %v)", err, conds)
				continue
			}
			took = append(took, at.Sub(ch.since(cr)))
		}
		if len(took) == 0 {
			t.Errorf("%s mode: no instance created during the upgrade was composed", m.name)
			continue
		}
		if err := live.add(m, "during the "+step.id+" upgrade, one create every "+(2*churnEvery).String()+" → each Deployment present", took, 95, step.createTarget(m)).check(); err != nil {
			t.Error(err)
		}
	}
	var kept []string
	for _, cr := range ch.created {
		if !cr.deleted {
			kept = append(kept, cr.name)
		}
	}
	podReadyToReady(ctx, t, kept)
	for _, cr := range ch.created {
		if cr.deleted {
			continue
		}
		checkConverged(ctx, t, cr.m, cr.name)
		if step.current != nil {
			if err := step.current(mustGet(ctx, t, xrRef(cr.name))); err != nil {
				t.Error(err)
			}
		}
	}
	parallel(len(kept), func(i int) {
		if _, err := deleteAndAwaitGone(ctx, kept[i]); err != nil {
			t.Error(err)
		}
	})
}
