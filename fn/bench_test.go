package fn

import (
	"context"
	"testing"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/informaticsmatters/function-squonk2-viz/bench/fixture"
)

// benchRequests are the shared realistic requests: the Data Manager's
// DataVisualisation in steady state (with its three observed Objects, whose
// status holds the live objects, about 34 KB), and on its first reconcile.
func benchRequests(b *testing.B) map[string]*fnv1.RunFunctionRequest {
	b.Helper()
	steady, err := fixture.Load("../bench/testdata/xr.yaml", "../bench/testdata/observed", "")
	if err != nil {
		b.Fatal(err)
	}
	first, err := fixture.Load("../bench/testdata/xr.yaml", "", "")
	if err != nil {
		b.Fatal(err)
	}
	return map[string]*fnv1.RunFunctionRequest{"SteadyState": steady, "FirstReconcile": first}
}

func BenchmarkRunFunction(b *testing.B) {
	f := NewFunction(logging.NewNopLogger(), DefaultSettings(), testVersion)
	for name, req := range benchRequests(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rsp, err := f.RunFunction(context.Background(), req)
				if err != nil || len(rsp.GetResults()) > 0 {
					b.Fatalf("RunFunction: %v %v", err, rsp.GetResults())
				}
			}
		})
	}
}

// BenchmarkRunFunctionUncached composes afresh on every call, as for a
// DataVisualisation the function has not seen, or not since it changed.
func BenchmarkRunFunctionUncached(b *testing.B) {
	for name, req := range benchRequests(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f := NewFunction(logging.NewNopLogger(), DefaultSettings(), testVersion)
				rsp, err := f.RunFunction(context.Background(), req)
				if err != nil || len(rsp.GetResults()) > 0 {
					b.Fatalf("RunFunction: %v %v", err, rsp.GetResults())
				}
			}
		})
	}
}

func BenchmarkBuilders(b *testing.B) {
	req := benchRequests(b)["SteadyState"]
	resolve := func() *instance {
		xr, errs := decodeXR(req)
		s, settingErrs, err := DefaultSettings().resolve(req.GetInput(), &xr.Spec.IMDataManager)
		if err != nil {
			b.Fatal(err)
		}
		errs = append(errs, settingErrs...)
		if errs = append(errs, validate(xr, s)...); len(errs) > 0 {
			b.Fatal(errs)
		}
		return newInstance(xr, s)
	}
	inst := resolve()
	b.Run("Instance", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resolve()
		}
	})
	b.Run("Manifests", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			manifests(inst)
		}
	})
	b.Run("Wrap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := inst.mode.resources(manifests(inst), inst.providerConfigRef); err != nil {
				b.Fatal(err)
			}
		}
	})
}
