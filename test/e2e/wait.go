//go:build e2e

package e2e

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// awaitTimeout bounds every wait.
var awaitTimeout = flag.Duration("await-timeout", 5*time.Minute, "how long any one wait may take")

// A watching is a wait that has begun: the suite's one way to wait for the
// API server and to time what it reports. It is built on client-go's
// watchtools.UntilWithSync, an informer that lists, watches, and lists and
// watches again when the watch breaks (an API server restart, an expired
// resource version), so no event is lost and nothing polls. A live step is
// timed from its trigger to the arrival of the event that made the
// condition hold.
type watching[T client.Object] struct {
	done chan struct{}
	at   time.Time
	obj  T
	err  error
}

// watchFor begins to wait until cond holds for the object that ref names
// (by namespace and name), and returns once the watch has listed, so that a
// trigger sent after it is seen as an event. cond is given the zero T (nil)
// while the object does not exist.
func watchFor[T client.Object](ctx context.Context, ref T, cond func(T) bool) *watching[T] {
	return startWatch(ctx, ref, nil, cond)
}

// watchForAny is watchFor for the objects of ref's kind and namespace that a
// label selector picks: it waits until cond holds for one of them.
func watchForAny[T client.Object](ctx context.Context, ref T, selector labels.Set, cond func(T) bool) *watching[T] {
	return startWatch(ctx, ref, selector, cond)
}

// until waits until cond holds for the object that ref names, for a
// condition whose trigger has passed (or that has none), and returns when it
// held and the object.
func until[T client.Object](ctx context.Context, ref T, cond func(T) bool) (time.Time, T, error) {
	return watchFor(ctx, ref, cond).wait()
}

// wait returns when the event that made the condition hold arrived, and the
// object it held for.
func (w *watching[T]) wait() (time.Time, T, error) {
	<-w.done
	return w.at, w.obj, w.err
}

func startWatch[T client.Object](ctx context.Context, ref T, selector labels.Set, cond func(T) bool) *watching[T] {
	w := &watching[T]{done: make(chan struct{})}
	listed := make(chan struct{})
	var once sync.Once
	markListed := func() { once.Do(func() { close(listed) }) }
	what := describe(ref, selector)
	lw, err := c.listWatch(ref, selector)
	if err != nil {
		w.err = err
		close(w.done)
		return w
	}
	holds := func(o T) bool {
		if cond(o) {
			w.at, w.obj = time.Now(), o
			return true
		}
		w.obj = o // The last seen, for a failure message.
		return false
	}
	go func() {
		defer close(w.done)
		defer markListed()
		ctx, cancel := context.WithTimeout(ctx, *awaitTimeout)
		defer cancel()
		var zero T
		_, err := watchtools.UntilWithSync(ctx, lw, ref.DeepCopyObject(), func(store cache.Store) (bool, error) {
			defer markListed()
			items := store.List()
			if len(items) == 0 {
				return holds(zero), nil
			}
			for _, item := range items {
				if o, ok := item.(T); ok && holds(o) {
					return true, nil
				}
			}
			return false, nil
		}, func(ev watch.Event) (bool, error) {
			switch ev.Type {
			case watch.Added, watch.Modified:
				o, ok := ev.Object.(T)
				return ok && holds(o), nil
			case watch.Deleted:
				return holds(zero), nil
			default:
				return false, nil
			}
		})
		if err != nil {
			w.err = fmt.Errorf("%s: %w", what, err)
		}
	}()
	<-listed
	return w
}

// describe names what a wait watches, for its errors.
func describe(ref client.Object, selector labels.Set) string {
	if selector != nil {
		return fmt.Sprintf("%s in %s with %s", kindOf(ref), ref.GetNamespace(), selector)
	}
	return fmt.Sprintf("%s %s/%s", kindOf(ref), ref.GetNamespace(), ref.GetName())
}

// listWatch lists and watches, with the suite's client, the objects of
// ref's kind in its namespace: the one of its name, or those the selector
// picks.
func (c *cluster) listWatch(ref client.Object, selector labels.Set) (cache.ListerWatcher, error) {
	gvk, err := apiutil.GVKForObject(ref, scheme)
	if err != nil {
		return nil, err
	}
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	_, isUnstructured := ref.(*unstructured.Unstructured)
	newList := func() (client.ObjectList, error) {
		if isUnstructured {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(listGVK)
			return l, nil
		}
		o, err := scheme.New(listGVK)
		if err != nil {
			return nil, err
		}
		l, ok := o.(client.ObjectList)
		if !ok {
			return nil, fmt.Errorf("%s is not a list", listGVK)
		}
		return l, nil
	}
	options := func(o metav1.ListOptions) *client.ListOptions {
		if ref.GetName() != "" {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ref.GetName()).String()
		}
		if selector != nil {
			o.LabelSelector = selector.String()
		}
		return &client.ListOptions{Namespace: ref.GetNamespace(), Limit: o.Limit, Continue: o.Continue, Raw: &o}
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l, err := newList()
			if err != nil {
				return nil, err
			}
			return l, c.kube.List(ctx, l, options(o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			l, err := newList()
			if err != nil {
				return nil, err
			}
			return c.kube.Watch(ctx, l, options(o))
		},
	}, nil
}

// exists and gone are conditions for a wait.
func exists[T client.Object](o T) bool { return !isAbsent(o) }
func gone[T client.Object](o T) bool   { return isAbsent(o) }

// isAbsent reports whether a wait was given no object: the zero T.
func isAbsent[T client.Object](o T) bool {
	var zero T
	return any(o) == any(zero)
}

// xrCondition is a condition for a wait: the DataVisualisation's condition
// has the status.
func xrCondition(typ, status string) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		if u == nil {
			return false
		}
		s, _, _ := condition(u, typ)
		return s == status && conditionCurrent(u, typ)
	}
}

// conditionCurrent reports whether an XR's condition was written for its
// current generation: Crossplane records the generation it reconciled in
// each condition's observedGeneration, so a condition of an earlier spec
// (before Crossplane reconciles a change, or written late from a stale
// read) says nothing of the current one.
func conditionCurrent(u *unstructured.Unstructured, typ string) bool {
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		m, _ := c.(map[string]any)
		if m["type"] != typ {
			continue
		}
		observed, found, _ := unstructured.NestedInt64(m, "observedGeneration")
		return !found || observed == u.GetGeneration()
	}
	return false
}
