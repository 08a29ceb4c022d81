package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// TestRunFunctionPassesEarlierStepsThrough checks that resources that earlier
// pipeline steps desired, and the XR status they set, survive this step.
func TestRunFunctionPassesEarlierStepsThrough(t *testing.T) {
	earlier := toStruct(t, "{apiVersion: v1, kind: ConfigMap, data: {a: b}}")
	req := newRequest(t, toStruct(t, minimalXR), "", nil)
	req.Desired = &fnv1.State{
		Composite: &fnv1.Resource{Resource: toStruct(t, "{status: {other: kept}}")},
		Resources: map[string]*fnv1.Resource{"earlier": {Resource: earlier, Ready: fnv1.Ready_READY_TRUE}},
	}
	rsp := run(t, newFunction(map[string]string{envIngressDomain: "env.example.org"}), req)

	want := &fnv1.Resource{Resource: toStruct(t, "{apiVersion: v1, kind: ConfigMap, data: {a: b}}"), Ready: fnv1.Ready_READY_TRUE}
	if diff := cmp.Diff(want, rsp.GetDesired().GetResources()["earlier"], protocmp.Transform()); diff != "" {
		t.Errorf("RunFunction(...): earlier step's resource: -want, +got:\n%s", diff)
	}
	if got := desiredValue(t, rsp, "xr", "status.other"); got != "kept" {
		t.Errorf("RunFunction(...): earlier step's XR status: want kept, got %v", got)
	}
	if n := len(rsp.GetDesired().GetResources()); n != 4 {
		t.Errorf("RunFunction(...): want 4 desired resources (1 earlier + 3 composed), got %d", n)
	}
}
