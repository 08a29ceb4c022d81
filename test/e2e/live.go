//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

const (
	restSeconds    = 60 // how long the cost at rest is measured
	createParallel = 16 // how many creates the Data Manager sends at once
)

// createXR creates a DataVisualisation in a mode as the Data Manager does,
// and returns when the API server answered: the trigger of what follows.
func createXR(ctx context.Context, m mode, name string) (time.Time, error) {
	obj, err := fromYAML(m.dataVisualisation(name, "1.2.0"))
	if err != nil {
		return time.Time{}, err
	}
	if _, err := c.client.Resource(gvrXR).Namespace(dmNamespace).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("cannot create %s: %w", name, err)
	}
	return time.Now(), nil
}

// manyAtOnce creates n DataVisualisations at once in a mode, as a busy Data
// Manager might, and times each from its create to its Deployment, then runs
// their Pods and times each from its Pod Ready to its Ready. Each ends with
// its URL and exactly the mode's three composed resources.
func manyAtOnce(ctx context.Context, t *testing.T, m mode, prefix string, n int, createTarget time.Duration) {
	t.Helper()
	instances := names(m.instance(prefix), n)
	present, stopDeployments, err := watchAdded(ctx, gvrDeployment, (*unstructured.Unstructured).GetName)
	if err != nil {
		t.Fatal(err)
	}
	defer stopDeployments()
	// In the provider mode, Crossplane's part: the first Object of each
	// instance (in the direct mode Crossplane makes the Deployment itself).
	composed, stopObjects, err := watchAdded(ctx, gvrObject, func(u *unstructured.Unstructured) string {
		return u.GetLabels()["crossplane.io/composite"]
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stopObjects()
	before := sample(t)
	created := make([]time.Time, n)
	parallel(n, func(i int) {
		var err error
		if created[i], err = createXR(ctx, m, instances[i]); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	toDeployment, toObject, objectToDeployment := make([]time.Duration, n), make([]time.Duration, n), make([]time.Duration, n)
	for i, name := range instances {
		at, err := present(name)
		if err != nil {
			t.Fatal(err)
		}
		toDeployment[i] = at.Sub(created[i])
		if m == providerMode {
			first, err := composed(name)
			if err != nil {
				t.Fatal(err)
			}
			toObject[i], objectToDeployment[i] = first.Sub(created[i]), at.Sub(first)
		}
	}
	costs.add(cost(m, fmt.Sprintf("%d created at once, until each has its Deployment", n), n, before, sample(t), 0))
	if m == providerMode {
		live.add(m, fmt.Sprintf("%d created at once: create → first Object (Crossplane and the function)", n), toObject, 95, 0)
		live.add(m, fmt.Sprintf("%d created at once: first Object → Deployment (provider-kubernetes)", n), objectToDeployment, 95, 0)
	}
	// On this 2-core machine the burst's target is reported, not enforced:
	// the machine's CPU is spent by the time the burst ends (the API server
	// alone, in the provider mode, spends about a core on provider-kubernetes'
	// requests; see the cost table), so the p95 depends on the run. The
	// timing table marks a target not met.
	if err := live.add(m, fmt.Sprintf("%d created at once → each Deployment present", n), toDeployment, 95, createTarget).met(); err != nil {
		t.Logf("target not met: %v", err)
	}

	// All their Pods turn Ready at once: each DataVisualisation's wait
	// includes the others', queued in Crossplane. Measured and reported.
	live.add(m, fmt.Sprintf("%d Pods Ready at once → each DataVisualisation Ready", n), podReadyToReady(ctx, t, instances), 95, 0)
	for _, name := range instances {
		checkConverged(ctx, t, m, name)
	}
}

// podReadyToReady runs the instances' Pods and times each from its Pod
// turning Ready to its DataVisualisation turning Ready.
func podReadyToReady(ctx context.Context, t *testing.T, names []string) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(names))
	parallel(len(names), func(i int) {
		start := time.Now()
		c.kubelet.runPods(names[i])
		podReady, err := c.kubelet.podReadyAt(ctx, names[i], start)
		if err != nil {
			t.Error(err)
			return
		}
		ready, _, err := await(ctx, gvrXR, names[i], xrCondition("Ready", "True"))
		if err != nil {
			t.Error(err)
			return
		}
		took[i] = ready.Sub(podReady)
	})
	if t.Failed() {
		t.FailNow()
	}
	return took
}

// watchAdded watches a kind, for at most 5 minutes or until stopped, and
// returns a function that waits for the first object of a key and says when
// it was added.
func watchAdded(ctx context.Context, gvr gvrType, key func(*unstructured.Unstructured) string) (func(string) (time.Time, error), func(), error) {
	ctx, stop := context.WithTimeout(ctx, 5*time.Minute)
	client := c.client.Resource(gvr).Namespace(dmNamespace)
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		stop()
		return nil, nil, err
	}
	var mu sync.Mutex
	added := map[string]time.Time{}
	arrived := make(chan struct{}, 1)
	see := func(u *unstructured.Unstructured) {
		mu.Lock()
		if _, seen := added[key(u)]; !seen {
			added[key(u)] = time.Now()
		}
		mu.Unlock()
		select { // Wake a waiter, if one waits.
		case arrived <- struct{}{}:
		default:
		}
	}
	for i := range list.Items {
		see(&list.Items[i])
	}
	go follow(ctx, client, list.GetResourceVersion(), func(u *unstructured.Unstructured, ev watch.EventType) {
		if ev == watch.Added {
			see(u)
		}
	})
	return func(name string) (time.Time, error) {
		for {
			mu.Lock()
			at, ok := added[name]
			mu.Unlock()
			if ok {
				return at, nil
			}
			select {
			case <-arrived:
			case <-ctx.Done():
				return time.Time{}, fmt.Errorf("%s %s: not added within 5 minutes", gvr.Resource, name)
			}
		}
	}, stop, nil
}

// follow watches a kind from a resource version until ctx ends, and hands
// each event's object to handle. When the watch ends it lists the kind and
// hands each object over as added (no later than it was), and watches again.
func follow(ctx context.Context, client dynamic.ResourceInterface, rv string, handle func(*unstructured.Unstructured, watch.EventType)) {
	for ctx.Err() == nil {
		w, err := client.Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
		if err == nil {
			for ev := range w.ResultChan() {
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					break // An error, such as an expired resource version: list again.
				}
				rv = u.GetResourceVersion()
				handle(u, ev.Type)
			}
			w.Stop()
		}
		l, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			time.Sleep(100 * time.Millisecond) // The API server restarts: try again.
			continue
		}
		for i := range l.Items {
			handle(&l.Items[i], watch.Added)
		}
		rv = l.GetResourceVersion()
	}
}

// parallel runs f for 0..n-1, createParallel at a time.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, createParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// checkConverged checks that an instance has its URL, its Deployment, and
// exactly the mode's three composed resources.
func checkConverged(ctx context.Context, t *testing.T, m mode, name string) {
	t.Helper()
	url := "https://" + domain() + "/" + name
	if _, _, err := await(ctx, gvrXR, name, func(xr *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(xr.Object, "status", "viz", "url")
		return got == url
	}); err != nil {
		t.Errorf("%s: status.viz.url: %v", name, err)
	}
	if _, _, err := await(ctx, gvrDeployment, name, exists); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	var composedErr error
	if _, _, err := await(ctx, gvrXR, name, func(xr *unstructured.Unstructured) bool {
		composedErr = m.checkComposed(ctx, xr)
		return composedErr == nil
	}); err != nil {
		t.Errorf("%s: %v", composedErr, err)
	}
}

// deleteAtOnce deletes DataVisualisations at once and times each from its
// delete to the moment all it composed is gone.
func deleteAtOnce(ctx context.Context, t *testing.T, m mode, what string, names []string, target time.Duration) {
	t.Helper()
	took := make([]time.Duration, len(names))
	parallel(len(names), func(i int) {
		var err error
		if took[i], err = deleteAndAwaitGone(ctx, names[i]); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	if err := live.add(m, what, took, 100, target).met(); err != nil {
		t.Error(err)
	}
}

// deleteAndAwaitGone deletes a DataVisualisation and returns how long it
// took from the delete until it, its Objects, and its Deployment, Service
// and Ingress were all gone. It waits for the objects last: once no Object is
// left, nothing can make them again.
func deleteAndAwaitGone(ctx context.Context, name string) (time.Duration, error) {
	if err := c.client.Resource(gvrXR).Namespace(dmNamespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return 0, err
	}
	start := time.Now()
	last := start
	awaitGone := func(gvr gvrType, name string) error {
		at, _, err := await(ctx, gvr, name, gone)
		if err != nil {
			return fmt.Errorf("%s %s is not gone: %w", gvr.Resource, name, err)
		}
		if at.After(last) {
			last = at
		}
		return nil
	}
	if err := awaitGone(gvrXR, name); err != nil {
		return 0, err
	}
	objects, err := c.list(ctx, gvrObject, "crossplane.io/composite="+name)
	if err != nil {
		return 0, err
	}
	for _, o := range objects {
		if err := awaitGone(gvrObject, o.GetName()); err != nil {
			return 0, err
		}
	}
	for _, gvr := range []gvrType{gvrDeployment, gvrService, gvrIngress} {
		if err := awaitGone(gvr, name); err != nil {
			return 0, err
		}
	}
	return last.Sub(start), nil
}

// The components whose cost at rest is measured.
var restComponents = []string{"kube-apiserver", "crossplane", "provider-kubernetes", "function"}

// A usage is what a process has used so far: CPU time, and resident memory.
type usage struct {
	cpu time.Duration
	rss int64
}

// procUsage reads a process's CPU time and resident memory from /proc.
func procUsage(pid int) (usage, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64) // utime and stime, fields 14 and 15, in clock ticks of 10 ms.
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	defer f.Close()
	var rss int64
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			rss = kb * 1024
		}
	}
	return usage{cpu: time.Duration(utime+stime) * 10 * time.Millisecond, rss: rss}, s.Err()
}

// The counters sample reads, each the sum of a metric's series that match.
var counters = []struct {
	what           string
	metric, series string
	read           func(ctx context.Context) (io.ReadCloser, error)
}{
	{"RunFunction calls", "grpc_server_handled_total{", `grpc_method="RunFunction"`, httpMetrics(func() string { return c.functionMetricsAddr })},
	{"provider-kubernetes Object reconciles", "controller_runtime_reconcile_total{", `controller="managed/object.kubernetes.m.crossplane.io"`, httpMetrics(func() string { return c.providerMetricsAddr })},
	// Where Crossplane spends an instance's time: reconciling it, and
	// waiting in its work queue for a turn.
	{"Crossplane DataVisualisation reconciles", "controller_runtime_reconcile_total{", xrController, httpMetrics(func() string { return c.crossplaneMetricsAddr })},
	{"Crossplane DataVisualisation reconcile s", "controller_runtime_reconcile_time_seconds_sum{", xrController, httpMetrics(func() string { return c.crossplaneMetricsAddr })},
	{"Crossplane DataVisualisation queue wait s", "workqueue_queue_duration_seconds_sum{", `name="` + xrControllerName + `"`, httpMetrics(func() string { return c.crossplaneMetricsAddr })},
	// Reconciles that ended in a requeue with back-off (from 1 s): a
	// conflict writing the DataVisualisation, or a wait.
	{"Crossplane DataVisualisation requeues", "controller_runtime_reconcile_total{", xrController + `,result="requeue"`, httpMetrics(func() string { return c.crossplaneMetricsAddr })},
	{"API server requests", "apiserver_request_total{", "", func(ctx context.Context) (io.ReadCloser, error) {
		out, err := c.kubectl(ctx, "", "get", "--raw", "/metrics")
		return io.NopCloser(strings.NewReader(out)), err
	}},
}

// The name of Crossplane's controller of DataVisualisations, and the label
// of its series.
const (
	xrControllerName = "composite/datavisualisations.squonk.it"
	xrController     = `controller="` + xrControllerName + `"`
)

// httpMetrics reads the metrics a component serves on loopback.
func httpMetrics(addr func() string) func(ctx context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr()+"/metrics", http.NoBody)
		if err != nil {
			return nil, err
		}
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		return rsp.Body, nil
	}
}

// sumMetric adds up the series of a counter whose labels contain series.
func sumMetric(r io.Reader, metric, series string) (float64, error) {
	var total float64
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, metric) && strings.Contains(line, series) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				return 0, err
			}
			total += v
		}
	}
	return total, s.Err()
}

// atRest measures, with n instances Ready and nothing happening, what each
// component costs over restSeconds: CPU time and resident memory, in all and
// per instance, and the function's calls per instance per minute.
func atRest(ctx context.Context, t *testing.T, m mode, n int) {
	t.Helper()
	before := sample(t)
	select { // The measurement's window: nothing is waited for.
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(restSeconds * time.Second):
	}
	costs.add(cost(m, fmt.Sprintf("%d Ready, at rest for %d s", n, restSeconds), n, before, sample(t), time.Minute))
}

// A usageSample is what each component has used so far, and the counters.
type usageSample struct {
	at       time.Time
	usage    map[string]usage
	counters []float64
}

// sample reads each component's usage and the function's call count.
func sample(t *testing.T) usageSample {
	t.Helper()
	s := usageSample{at: time.Now(), usage: map[string]usage{}}
	for _, name := range restComponents {
		p := c.ps.find(name)
		if p == nil || !p.alive() {
			t.Fatalf("%s is not running", name)
		}
		u, err := procUsage(p.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		s.usage[name] = u
	}
	for _, m := range counters {
		r, err := m.read(context.Background())
		if err != nil {
			t.Fatalf("cannot read the %s: %v", m.what, err)
		}
		v, err := sumMetric(r, m.metric, m.series)
		_ = r.Close()
		if err != nil {
			t.Fatalf("cannot read the %s: %v", m.what, err)
		}
		s.counters = append(s.counters, v)
	}
	return s
}

// cost is what each component used between two samples, for n instances:
// per instance, and per instance and unit of time when per is not zero.
func cost(m mode, what string, n int, before, after usageSample, per time.Duration) costRow {
	window := after.at.Sub(before.at)
	scale := 1.0
	if per > 0 {
		scale = per.Seconds() / window.Seconds()
	}
	row := costRow{mode: m.name, what: what, instances: n, perTime: per, usage: map[string]usage{}}
	for i := range counters {
		row.counters = append(row.counters, (after.counters[i]-before.counters[i])/float64(n)*scale)
	}
	for name, u := range after.usage {
		row.usage[name] = usage{cpu: time.Duration(float64(u.cpu-before.usage[name].cpu) * scale), rss: u.rss}
	}
	return row
}

// A costRow is what the components used for some instances: CPU time (per
// perTime, when it is not zero), resident memory at the end, and each
// counter's increase per instance.
type costRow struct {
	mode      string
	what      string
	instances int
	perTime   time.Duration
	usage     map[string]usage
	counters  []float64
}

// costTable collects the costs.
type costTable struct {
	mu   sync.Mutex
	rows []costRow
}

func (ct *costTable) add(r costRow) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.rows = append(ct.rows, r)
}

func (ct *costTable) String() string {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if len(ct.rows) == 0 {
		return ""
	}
	var t sideBySide
	for _, r := range ct.rows {
		unit := ""
		if r.perTime == time.Minute {
			unit = " per minute"
		}
		for _, name := range restComponents {
			u := r.usage[name]
			t.set(r.what+" | "+name, r.mode, fmt.Sprintf("%.2f%s", u.cpu.Seconds(), unit),
				fmt.Sprintf("%.1f%s", float64(u.cpu.Microseconds())/1000/float64(r.instances), unit),
				fmt.Sprintf("%.1f", float64(u.rss)/(1<<20)), fmt.Sprintf("%.0f", float64(u.rss)/1024/float64(r.instances)))
		}
		for i, m := range counters {
			t.set(r.what+" | "+m.what+" per instance"+unit, r.mode, fmt.Sprintf("%.1f", r.counters[i]))
		}
	}
	return t.markdown("instances | component", "CPU s", "CPU ms per instance", "resident MiB", "resident KiB per instance")
}

// deletedChildComesBack deletes one of the instance's objects by hand and
// times it from the delete to its replacement.
func deletedChildComesBack(ctx context.Context, gvr gvrType, name string) (time.Duration, error) {
	old, err := c.get(ctx, gvr, dmNamespace, name)
	if err != nil || old == nil {
		return 0, fmt.Errorf("cannot get %s %s: %w", gvr.Resource, name, err)
	}
	if err := c.client.Resource(gvr).Namespace(dmNamespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptrUID(old.GetUID())}}); err != nil {
		return 0, err
	}
	start := time.Now()
	at, _, err := await(ctx, gvr, name, replaced(old))
	return at.Sub(start), err
}

// editedDeploymentIsRestored edits the instance's Deployment by hand, as
// someone with access to the namespace might, and times it from the edit to
// the provider putting it back.
func editedDeploymentIsRestored(ctx context.Context, name string) (time.Duration, error) {
	d, err := c.get(ctx, gvrDeployment, dmNamespace, name)
	if err != nil || d == nil {
		return 0, fmt.Errorf("cannot get Deployment %s: %w", name, err)
	}
	image := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] //nolint:forcetypeassert // A Deployment's shape.
	patch := `{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"viz","image":"registry.example.org/other:6.6.6"}]}}}}`
	if _, err := c.client.Resource(gvrDeployment).Namespace(dmNamespace).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
		return 0, err
	}
	start := time.Now()
	at, _, err := await(ctx, gvrDeployment, name, func(u *unstructured.Unstructured) bool {
		if u == nil {
			return false
		}
		replicas, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		return replicas == 1 && len(cs) == 1 && cs[0].(map[string]any)["image"] == image //nolint:forcetypeassert // A Deployment's shape.
	})
	return at.Sub(start), err
}
