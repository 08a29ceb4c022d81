package fn

import (
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// Custom condition types that the function sets on a DataVisualisation, with
// the same types on every call, so that none goes stale.
const (
	// TypeInputValid says whether the DataVisualisation and the function's
	// settings describe an instance that can run.
	TypeInputValid = "InputValid"
	// TypeResourcesReady says whether the instance's Deployment is
	// available and its Service and Ingress exist.
	TypeResourcesReady = "ResourcesReady"
)

// Condition reasons.
const (
	ReasonValid        = "Valid"
	ReasonInvalidInput = "InvalidInput"
	ReasonAvailable    = "Available"
	ReasonWaiting      = "Waiting"
)

// VizStatus returns the DataVisualisation's status.viz: the instance's URL,
// where the Data Manager looks for it, and what it runs.
func VizStatus(i *Instance) (*structpb.Struct, error) {
	return structpb.NewStruct(map[string]any{
		"url":                i.URL(),
		"image":              i.Image,
		"serviceAccountName": i.ServiceAccountName,
		"resources": map[string]any{
			"requests": map[string]any{"memory": quantity(i.Resources.Requests, corev1.ResourceMemory)},
			"limits":   map[string]any{"memory": quantity(i.Resources.Limits, corev1.ResourceMemory)},
		},
		"project": map[string]any{
			"claimName": i.ProjectClaimName,
			"id":        i.ProjectID,
		},
	})
}

// SetVizStatus sets status.viz of the desired DataVisualisation in the
// response, keeping any other status that earlier steps set.
func SetVizStatus(rsp *fnv1.RunFunctionResponse, viz *structpb.Struct) {
	if rsp.GetDesired() == nil {
		rsp.Desired = &fnv1.State{}
	}
	if rsp.GetDesired().GetComposite() == nil {
		rsp.Desired.Composite = &fnv1.Resource{}
	}
	xr := rsp.GetDesired().GetComposite()
	if xr.GetResource() == nil {
		xr.Resource = &structpb.Struct{}
	}
	if xr.GetResource().GetFields() == nil {
		xr.Resource.Fields = map[string]*structpb.Value{}
	}
	status := xr.GetResource().GetFields()["status"].GetStructValue()
	if status == nil {
		status = &structpb.Struct{}
		xr.Resource.Fields["status"] = structpb.NewStructValue(status)
	}
	if status.GetFields() == nil {
		status.Fields = map[string]*structpb.Value{}
	}
	status.Fields["viz"] = structpb.NewStructValue(viz)
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) string {
	q := l[name]
	return q.String()
}
