// Package fn is a Crossplane composition function that turns a Squonk2
// DataVisualisation into a running squonk2-viz-app instance: a Deployment, a
// Service and an Ingress, each wrapped in a provider-kubernetes Object.
package fn

import (
	"context"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

// Function composes viz-app instances.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log      logging.Logger
	settings Settings
}

// NewFunction returns a Function with the supplied settings: the built-in
// defaults overlaid by the environment, read once at start.
func NewFunction(log logging.Logger, s Settings) *Function {
	return &Function{log: log, settings: s}
}

// RunFunction composes the instance of one DataVisualisation.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	log := f.log.WithValues("tag", req.GetMeta().GetTag())
	rsp := response.To(req, response.DefaultTTL)

	in, err := ReadInput(req)
	if err != nil {
		reject(rsp, err)
		return rsp, nil
	}
	oxr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		reject(rsp, errors.Wrap(err, "cannot read the observed DataVisualisation"))
		return rsp, nil
	}
	log = log.WithValues("namespace", oxr.Resource.GetNamespace(), "name", oxr.Resource.GetName())

	inst, errs := NewInstance(oxr.Resource.Object, f.settings.WithInput(in))
	if len(errs) > 0 {
		log.Debug("Rejected the DataVisualisation", "errors", errs.ToAggregate().Error())
		reject(rsp, errors.Wrap(errs.ToAggregate(), "cannot compose a viz instance"))
		return rsp, nil
	}

	desired, err := Compose(inst)
	if err != nil {
		reject(rsp, err)
		return rsp, nil
	}
	states := make(map[resource.Name]State, len(ComposedNames))
	for _, name := range ComposedNames {
		states[name] = ObservedState(req, name)
	}
	waiting := SetReadiness(desired, states)

	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		reject(rsp, errors.Wrap(err, "cannot read the desired DataVisualisation"))
		return rsp, nil
	}
	if err := dxr.Resource.SetValue("status.viz", VizStatus(inst)); err != nil {
		reject(rsp, errors.Wrap(err, "cannot set status.viz"))
		return rsp, nil
	}
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		reject(rsp, errors.Wrap(err, "cannot set the desired DataVisualisation"))
		return rsp, nil
	}
	if err := response.SetDesiredComposedResources(rsp, desired); err != nil {
		reject(rsp, errors.Wrap(err, "cannot set the desired composed resources"))
		return rsp, nil
	}

	response.ConditionTrue(rsp, TypeInputValid, ReasonValid)
	if waiting != "" {
		response.ConditionFalse(rsp, TypeResourcesReady, ReasonWaiting).WithMessage("Waiting for: " + waiting)
	} else {
		response.ConditionTrue(rsp, TypeResourcesReady, ReasonAvailable)
	}
	log.Debug("Composed the viz instance", "url", inst.URL(), "object-name", inst.ObjectName, "waiting", waiting)
	return rsp, nil
}

// reject ends the pipeline with a Fatal result, so that Crossplane changes
// nothing, and says why on the DataVisualisation's InputValid condition.
func reject(rsp *fnv1.RunFunctionResponse, err error) {
	response.Fatal(rsp, err)
	response.ConditionFalse(rsp, TypeInputValid, ReasonInvalidInput).WithMessage(err.Error())
}
