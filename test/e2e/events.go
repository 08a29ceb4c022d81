//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// awaitTimeout bounds every wait for an event.
const awaitTimeout = 5 * time.Minute

// await watches the named object of the Data Manager's namespace until cond
// holds for it, and returns when the event that made it hold arrived, and
// the object; cond is given nil while the object does not exist. A live
// step is timed from its trigger to that moment: no polling interval and no
// sleep lies in between.
func await(ctx context.Context, gvr gvrType, name string, cond func(*unstructured.Unstructured) bool) (time.Time, *unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, awaitTimeout)
	defer cancel()
	client := c.client.Resource(gvr).Namespace(dmNamespace)
	opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
	var last *unstructured.Unstructured
	for {
		list, err := client.List(ctx, opts)
		if err != nil {
			if ctx.Err() != nil {
				return time.Time{}, last, fmt.Errorf("%s %s: %w", gvr.Resource, name, ctx.Err())
			}
			time.Sleep(100 * time.Millisecond) // The API server restarts: list again.
			continue
		}
		last = nil
		if len(list.Items) > 0 {
			last = &list.Items[0]
		}
		if cond(last) {
			return time.Now(), last, nil
		}
		w, err := client.Watch(ctx, metav1.ListOptions{FieldSelector: opts.FieldSelector, ResourceVersion: list.GetResourceVersion()})
		if err != nil {
			continue
		}
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue // An error event: watch again.
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				last = u
			case watch.Deleted:
				last = nil
			default:
				continue
			}
			if cond(last) {
				w.Stop()
				return time.Now(), last, nil
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return time.Time{}, last, fmt.Errorf("%s %s: %w", gvr.Resource, name, ctx.Err())
		}
	}
}

// exists and gone are conditions for await.
func exists(u *unstructured.Unstructured) bool { return u != nil }
func gone(u *unstructured.Unstructured) bool   { return u == nil }

// replaced is a condition for await: the object exists with another uid.
func replaced(old *unstructured.Unstructured) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool { return u != nil && u.GetUID() != old.GetUID() }
}

// xrCondition is a condition for await: the DataVisualisation's condition
// has the status.
func xrCondition(typ, status string) func(*unstructured.Unstructured) bool {
	return func(u *unstructured.Unstructured) bool {
		if u == nil {
			return false
		}
		s, _, _ := condition(u, typ)
		return s == status
	}
}

// ignoreGone treats an object that is gone, or was replaced, as done with.
func ignoreGone(err error) error {
	if kerrors.IsNotFound(err) || kerrors.IsConflict(err) {
		return nil
	}
	return err
}

// A latency table collects how long live steps took, each from the event
// that triggered it, with the target it must meet.
type latencies struct {
	mu   sync.Mutex
	rows []latencyRow
}

type latencyRow struct {
	mode    string
	what    string
	samples []time.Duration
	target  time.Duration // 0: measured and reported only
	p       int           // the percentile the target applies to
}

// add records a measurement in a mode of one or more samples. The target,
// if any, applies to percentile p of the samples.
func (l *latencies) add(m mode, what string, samples []time.Duration, p int, target time.Duration) latencyRow {
	s := slices.Clone(samples)
	slices.Sort(s)
	row := latencyRow{mode: m.name, what: what, samples: s, target: target, p: p}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, row)
	return row
}

// one records a single measurement against a target.
func (l *latencies) one(m mode, what string, d, target time.Duration) latencyRow {
	return l.add(m, what, []time.Duration{d}, 100, target)
}

// met reports whether the row meets its target, and says so if not.
func (r latencyRow) met() error {
	if r.target == 0 || percentile(r.samples, r.p) <= r.target {
		return nil
	}
	return fmt.Errorf("%s (%s mode): p%d %s, above the target %s (all: %s)", r.what, r.mode, r.p, percentile(r.samples, r.p), r.target, r.format())
}

func (r latencyRow) format() string {
	if len(r.samples) == 1 {
		return r.samples[0].Round(time.Millisecond).String()
	}
	return fmt.Sprintf("n=%d: p50 %s, p95 %s, max %s", len(r.samples),
		percentile(r.samples, 50), percentile(r.samples, 95), r.samples[len(r.samples)-1].Round(time.Millisecond))
}

func (l *latencies) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t sideBySide
	for _, r := range l.rows {
		target := "measured"
		if r.target > 0 {
			target = fmt.Sprintf("≤ %s", r.target)
			if r.p < 100 {
				target = fmt.Sprintf("p%d ≤ %s", r.p, r.target)
			}
			if r.met() != nil {
				target += " (not met)"
			}
		}
		t.set(r.what, r.mode, r.format(), target)
	}
	return t.markdown("live step, timed from its trigger", "time", "target")
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)].Round(time.Millisecond)
}
