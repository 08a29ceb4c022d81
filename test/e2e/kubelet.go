//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// nodeName is the one node of the suite's cluster.
const nodeName = "e2e-node"

// A kubelet does for the suite's node what a kubelet would, as there is none:
// it runs the Pods of the instances it is told to run (binds them to the
// node and reports them running and ready), and confirms at once that a
// deleted Pod has terminated. It records when it reported each instance's
// newest Pod ready: the event from which readiness is timed.
type kubelet struct {
	mu      sync.Mutex
	run     map[string]bool      // instances (deployment label) whose Pods run
	readyAt map[string]time.Time // instance -> when its newest Pod was reported ready
	pending map[string]map[types.UID]*unstructured.Unstructured
	done    map[types.UID]bool
	errs    chan error
	work    chan *unstructured.Unstructured
}

// startKubelet creates the node and starts the kubelet, until ctx ends.
func (c *cluster) startKubelet(ctx context.Context) (*kubelet, error) {
	if err := c.apply(ctx, `
apiVersion: v1
kind: Node
metadata:
  name: `+nodeName+`
  labels: {informaticsmatters.com/purpose-application: "yes"}
`); err != nil {
		return nil, err
	}
	k := &kubelet{
		run: map[string]bool{}, readyAt: map[string]time.Time{}, pending: map[string]map[types.UID]*unstructured.Unstructured{},
		done: map[types.UID]bool{}, errs: make(chan error, 100), work: make(chan *unstructured.Unstructured, 1000),
	}
	for range 4 {
		go k.worker(ctx)
	}
	// Without a resource version, a watch begins with every Pod there is.
	go follow(ctx, c.client.Resource(gvrPod).Namespace(dmNamespace), "", func(p *unstructured.Unstructured, ev watch.EventType) {
		if ev == watch.Added || ev == watch.Modified {
			k.work <- p
		}
	})
	return k, nil
}

func (k *kubelet) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-k.work:
			if err := k.handle(ctx, p); err != nil && ctx.Err() == nil {
				k.report(fmt.Errorf("kubelet: pod %s: %w", p.GetName(), err))
			}
		}
	}
}

// handle confirms a deleted Pod's termination, or runs a Pod of an instance
// that runs, or keeps it until the instance is told to run.
func (k *kubelet) handle(ctx context.Context, p *unstructured.Unstructured) error {
	pods := c.client.Resource(gvrPod).Namespace(dmNamespace)
	if p.GetDeletionTimestamp() != nil {
		err := pods.Delete(ctx, p.GetName(), metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: ptrUID(p.GetUID())}})
		return ignoreGone(err)
	}
	instance := p.GetLabels()["deployment"]
	k.mu.Lock()
	if k.done[p.GetUID()] {
		k.mu.Unlock()
		return nil
	}
	if !k.run[instance] {
		if k.pending[instance] == nil {
			k.pending[instance] = map[types.UID]*unstructured.Unstructured{}
		}
		k.pending[instance][p.GetUID()] = p
		k.mu.Unlock()
		return nil
	}
	k.done[p.GetUID()] = true
	k.mu.Unlock()

	if node, _, _ := unstructured.NestedString(p.Object, "spec", "nodeName"); node == "" {
		binding := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Binding",
			"metadata": map[string]any{"name": p.GetName(), "namespace": dmNamespace},
			"target":   map[string]any{"apiVersion": "v1", "kind": "Node", "name": nodeName},
		}}
		if _, err := c.client.Resource(gvrBinding).Namespace(dmNamespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			return ignoreGone(err)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	status := fmt.Sprintf(`{"status":{"phase":"Running","hostIP":"127.0.0.1","podIP":"10.244.0.10","startTime":%[1]q,
"conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":%[1]q},{"type":"Initialized","status":"True","lastTransitionTime":%[1]q},
{"type":"ContainersReady","status":"True","lastTransitionTime":%[1]q},{"type":"Ready","status":"True","lastTransitionTime":%[1]q}],
"containerStatuses":[{"name":"viz","ready":true,"started":true,"restartCount":0,"image":"squonk2-viz-app","imageID":"squonk2-viz-app",
"state":{"running":{"startedAt":%[1]q}}}]}}`, now)
	if _, err := pods.Patch(ctx, p.GetName(), types.MergePatchType, []byte(status), metav1.PatchOptions{}, "status"); err != nil {
		return ignoreGone(err)
	}
	k.mu.Lock()
	k.readyAt[instance] = time.Now()
	k.mu.Unlock()
	return nil
}

// runPods runs the instance's Pods, those there are and those to come.
func (k *kubelet) runPods(instance string) {
	k.mu.Lock()
	k.run[instance] = true
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

// podReadyAt waits until the kubelet has reported a Pod of the instance
// ready after since, and returns when it did.
func (k *kubelet) podReadyAt(ctx context.Context, instance string, since time.Time) (time.Time, error) {
	var at time.Time
	err := waitFor(ctx, 2*time.Minute, 10*time.Millisecond, instance+"'s Pod to run", func() (bool, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		at = k.readyAt[instance]
		return at.After(since), nil
	})
	return at, err
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

func ptrUID(u types.UID) *types.UID {
	return &u
}
