//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// nodeName is the one node of the suite's cluster (testdata/platform/node.yaml).
const nodeName = "e2e-node"

// A kubelet does for the suite's node what a kubelet would, as there is none:
// it runs the Pods of the instances it is told to run (binds them to the
// node and reports them running and ready), and confirms at once that a
// deleted Pod has terminated. It follows the Data Manager namespace's Pods
// with a client-go informer.
type kubelet struct {
	mu      sync.Mutex
	run     map[string]bool // instances (deployment label) whose Pods run
	pending map[string]map[types.UID]*corev1.Pod
	done    map[types.UID]bool
	// failing are the instances whose Pods fail to start, each with what the
	// kubelet (or the scheduler) reports; played the Pods it reported.
	failing map[string]podFailure
	played  map[types.UID]bool
	errs    chan error
	work    chan *corev1.Pod
}

// A podFailure is how a Pod fails to start: the status the scheduler or
// the kubelet gives it, and whether the Pod was scheduled to the node.
type podFailure struct {
	scheduled bool
	status    corev1.PodStatus
}

// startKubelet creates the node and starts the kubelet, until ctx ends.
func (c *cluster) startKubelet(ctx context.Context) (*kubelet, error) {
	if err := c.applyFile(ctx, testdata("platform", "node.yaml"), nil); err != nil {
		return nil, err
	}
	k := &kubelet{
		run: map[string]bool{}, pending: map[string]map[types.UID]*corev1.Pod{},
		done: map[types.UID]bool{}, failing: map[string]podFailure{}, played: map[types.UID]bool{},
		errs: make(chan error, 100), work: make(chan *corev1.Pod, 1000),
	}
	lw, err := c.listWatch(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: dmNamespace}}, nil)
	if err != nil {
		return nil, err
	}
	informer := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
	enqueue := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok {
			k.work <- p
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return nil, err
	}
	go informer.RunWithContext(ctx)
	for range 4 {
		go k.worker(ctx)
	}
	return k, nil
}

func (k *kubelet) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-k.work:
			if err := k.handle(ctx, p); err != nil && ctx.Err() == nil {
				k.report(fmt.Errorf("kubelet: pod %s: %w", p.Name, err))
			}
		}
	}
}

// handle confirms a deleted Pod's termination, or runs a Pod of an instance
// that runs, or keeps it until the instance is told to run.
func (k *kubelet) handle(ctx context.Context, p *corev1.Pod) error {
	if p.DeletionTimestamp != nil {
		err := c.kube.Delete(ctx, p, client.GracePeriodSeconds(0), client.Preconditions{UID: &p.UID})
		return client.IgnoreNotFound(ignoreConflict(err))
	}
	instance := p.Labels["deployment"]
	k.mu.Lock()
	if k.done[p.UID] {
		k.mu.Unlock()
		return nil
	}
	fail, failing := k.failing[instance]
	if failing || !k.run[instance] {
		if k.pending[instance] == nil {
			k.pending[instance] = map[types.UID]*corev1.Pod{}
		}
		k.pending[instance][p.UID] = p
		play := failing && !k.played[p.UID]
		k.played[p.UID] = k.played[p.UID] || play
		k.mu.Unlock()
		if !play {
			return nil
		}
		if fail.scheduled {
			if err := bind(ctx, p); err != nil {
				return err
			}
		}
		return patchStatus(ctx, p, fail.status)
	}
	k.done[p.UID] = true
	k.mu.Unlock()

	if err := bind(ctx, p); err != nil {
		return err
	}
	now := metav1.Now()
	running := corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: "127.0.0.1", PodIP: "10.244.0.10", StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "viz", Ready: true, Started: new(true), Image: "squonk2-viz-app", ImageID: "squonk2-viz-app",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}},
	}
	return patchStatus(ctx, p, running)
}

// bind schedules a Pod to the node, unless it is there already.
func bind(ctx context.Context, p *corev1.Pod) error {
	if p.Spec.NodeName != "" {
		return nil
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		Target:     corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: nodeName},
	}
	return client.IgnoreNotFound(ignoreConflict(c.kube.SubResource("binding").Create(ctx, p, binding)))
}

// patchStatus reports a Pod's status, as a kubelet does.
func patchStatus(ctx context.Context, p *corev1.Pod, status corev1.PodStatus) error {
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	return client.IgnoreNotFound(c.kube.Status().Patch(ctx, p, client.RawPatch(types.MergePatchType, patch)))
}

// failPods has the instance's Pods, those there are and those to come, fail
// to start as f says, until runPods.
func (k *kubelet) failPods(instance string, f podFailure) {
	k.mu.Lock()
	k.failing[instance] = f
	pending := k.pending[instance]
	k.mu.Unlock()
	for _, p := range pending {
		k.work <- p
	}
}

// runPods runs the instance's Pods, those there are and those to come.
func (k *kubelet) runPods(instance string) {
	k.mu.Lock()
	k.run[instance] = true
	delete(k.failing, instance)
	pending := k.pending[instance]
	delete(k.pending, instance)
	k.mu.Unlock()
	for _, p := range pending {
		k.work <- p
	}
}

// holdPods stops running the instance's new Pods, as when a node cannot
// pull their image: those that run go on running.
func (k *kubelet) holdPods(instance string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.run[instance] = false
}

// report keeps an error for check, without blocking.
func (k *kubelet) report(err error) {
	select {
	case k.errs <- err:
	default:
	}
}

// check returns the first error the kubelet met, if any.
func (k *kubelet) check() error {
	select {
	case err := <-k.errs:
		return err
	default:
		return nil
	}
}
