package fn

import (
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/response"
)

// The condition that says whether the DataVisualisation and the function's
// settings describe an instance that can run. The function sets it, and
// ResourcesReady, on every call, so that neither goes stale.
const (
	typeInputValid     = "InputValid"
	reasonValid        = "Valid"
	reasonInvalidInput = "InvalidInput"
)

// The condition that says whether every object the instance composes is
// free or its own: one that another party made blocks it.
const (
	typeObjectsOwned     = "ObjectsOwned"
	reasonOwned          = "Owned"
	reasonOwnedByAnother = "OwnedByAnother"
)

// vizStatus returns the DataVisualisation's status.viz: the instance's URL,
// where the Data Manager looks for it, and what it runs.
func vizStatus(i *instance) (*structpb.Struct, error) {
	return structpb.NewStruct(map[string]any{
		"url":                i.url(),
		"image":              i.image,
		"serviceAccountName": i.serviceAccountName,
		"resources": map[string]any{
			"requests": map[string]any{"memory": quantityString(i.resources.Requests, corev1.ResourceMemory)},
			"limits":   map[string]any{"memory": quantityString(i.resources.Limits, corev1.ResourceMemory)},
		},
		"project": map[string]any{
			"claimName": i.projectClaimName,
			"id":        i.projectID,
		},
	})
}

func quantityString(l corev1.ResourceList, name corev1.ResourceName) string {
	q := l[name]
	return q.String()
}

// setStatus sets status.viz of the desired DataVisualisation in the
// response, keeping any other status that earlier steps set, and says the
// input is valid.
func setStatus(rsp *fnv1.RunFunctionResponse, viz *structpb.Struct) {
	desiredStatus(rsp).Fields["viz"] = structpb.NewStructValue(viz)
	response.ConditionTrue(rsp, typeInputValid, reasonValid)
	response.ConditionTrue(rsp, typeObjectsOwned, reasonOwned)
}

// desiredStatus returns the status of the desired DataVisualisation in the
// response, made when there is none.
func desiredStatus(rsp *fnv1.RunFunctionResponse) *structpb.Struct {
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
	return status
}

// reject ends the pipeline with a Fatal result, so that Crossplane changes
// nothing, and says why on the DataVisualisation's InputValid condition.
func reject(rsp *fnv1.RunFunctionResponse, err error) {
	response.Fatal(rsp, err)
	response.ConditionFalse(rsp, typeInputValid, reasonInvalidInput).WithMessage(err.Error())
}

// block ends the pipeline with a Fatal result, so that Crossplane applies
// nothing over an object of another owner, and says which on the
// DataVisualisation's ObjectsOwned condition.
func block(rsp *fnv1.RunFunctionResponse, err error) {
	response.Fatal(rsp, err)
	response.ConditionTrue(rsp, typeInputValid, reasonValid)
	response.ConditionFalse(rsp, typeObjectsOwned, reasonOwnedByAnother).WithMessage(err.Error())
}
