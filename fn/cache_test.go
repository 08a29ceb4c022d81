package fn

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// TestRunFunctionCache checks that the cache of compositions gives the same
// answer as composing afresh, and that a new generation of the
// DataVisualisation or a new Input is composed afresh.
func TestRunFunctionCache(t *testing.T) {
	identity := func(generation float64, tag string) func(p *fieldpath.Paved) error {
		return func(p *fieldpath.Paved) error {
			for path, v := range map[string]any{"metadata.uid": "6f0fff9a", "metadata.generation": generation, "spec.imDataManager.imageTag": tag} {
				if err := p.SetValue(path, v); err != nil {
					return err
				}
			}
			return nil
		}
	}
	image := func(t *testing.T, f *Function, gen float64, tag, input string) any {
		t.Helper()
		rsp := run(t, f, newRequest(t, patched(t, minimalXR, identity(gen, tag)), input, nil))
		return desiredValue(t, rsp, "deployment", containerPath+".image")
	}
	const inputA = "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, image: a.example.org/viz}"
	const inputB = "{apiVersion: viz.fn.squonk.it/v1beta1, kind: Input, image: b.example.org/viz}"

	t.Run("CachedAnswerIsTheFreshAnswer", func(t *testing.T) {
		// One instant for both functions: a template records when it
		// was composed, to the second.
		at := time.Now()
		atOneInstant := func() *Function {
			f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
			f.now = func() time.Time { return at }
			return f
		}
		f := atOneInstant()
		req := func() *fnv1.RunFunctionRequest {
			return newRequest(t, patched(t, minimalXR, identity(1, "1.0")), inputA, controlled(t, "6f0fff9a", allObserved(t, "True")))
		}
		first := run(t, f, req())
		second := run(t, f, req())
		fresh := run(t, atOneInstant(), req())
		if diff := cmp.Diff(first, second, protocmp.Transform()); diff != "" {
			t.Errorf("a cached answer differs from the first: -first, +second:\n%s", diff)
		}
		if diff := cmp.Diff(fresh, second, protocmp.Transform()); diff != "" {
			t.Errorf("a cached answer differs from a fresh one: -fresh, +cached:\n%s", diff)
		}
	})
	t.Run("NewGenerationIsComposedAfresh", func(t *testing.T) {
		f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
		if got := image(t, f, 1, "1.0", inputA); got != "a.example.org/viz:1.0" {
			t.Fatalf("generation 1: got %v", got)
		}
		if got := image(t, f, 2, "2.0", inputA); got != "a.example.org/viz:2.0" {
			t.Errorf("generation 2 changed the tag: want a.example.org/viz:2.0, got %v", got)
		}
	})
	t.Run("NewInputIsComposedAfresh", func(t *testing.T) {
		f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
		if got := image(t, f, 1, "1.0", inputA); got != "a.example.org/viz:1.0" {
			t.Fatalf("input A: got %v", got)
		}
		if got := image(t, f, 1, "1.0", inputB); got != "b.example.org/viz:1.0" {
			t.Errorf("a new Input: want b.example.org/viz:1.0, got %v", got)
		}
	})
	t.Run("ReadinessIsNeverCached", func(t *testing.T) {
		f := newFunction(map[string]string{envIngressDomain: "env.example.org"})
		xr := patched(t, minimalXR, identity(1, "1.0"))
		run(t, f, newRequest(t, xr, "", controlled(t, "6f0fff9a", allObserved(t, "False"))))
		rsp := run(t, f, asApplied(t, f, newRequest(t, xr, "", controlled(t, "6f0fff9a", allObserved(t, "True")))))
		if got := rsp.GetDesired().GetResources()["deployment"].GetReady(); got.String() != "READY_TRUE" {
			t.Errorf("the Deployment became ready, but the cached answer says %s", got)
		}
	})
}

// TestCompositionCacheIsBounded checks that however many DataVisualisations
// the function sees, it keeps at most maxCachedCompositions of them, and
// always the one it has just composed.
func TestCompositionCacheIsBounded(t *testing.T) {
	var c compositionCache
	for i := range 3 * maxCachedCompositions {
		key := strconv.Itoa(i)
		c.put(key, &composition{url: key})
		if got := len(c.entries); got > maxCachedCompositions {
			t.Fatalf("after %d compositions the cache holds %d, more than %d", i+1, got, maxCachedCompositions)
		}
		if got, ok := c.get(key); !ok || got.url != key {
			t.Fatalf("composition %d is not cached just after it was put", i)
		}
	}
}
