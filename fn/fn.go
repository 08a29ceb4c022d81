// Package fn is a Crossplane composition function that turns a Squonk2
// DataVisualisation into a running squonk2-viz-app instance: a Deployment, a
// Service and an Ingress, each wrapped in a provider-kubernetes Object.
package fn

import (
	"context"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

// Function composes viz-app instances.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log      logging.Logger
	settings Settings
	cache    compositionCache
}

// NewFunction returns a Function with the supplied settings: the built-in
// defaults overlaid by the environment, read once at start.
func NewFunction(log logging.Logger, s Settings) *Function {
	return &Function{log: log, settings: s}
}

// RunFunction composes the instance of one DataVisualisation.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, response.DefaultTTL)

	comp, err := f.compose(req)
	if err != nil {
		f.log.Debug("Rejected the DataVisualisation", "tag", req.GetMeta().GetTag(), "error", err.Error())
		reject(rsp, err)
		return rsp, nil
	}

	states := make(map[resource.Name]State, len(ComposedNames))
	for _, name := range ComposedNames {
		states[name] = ObservedState(req, name)
	}
	ready, waiting := Readiness(states)
	setDesiredResources(rsp, comp, ready)
	SetVizStatus(rsp, comp.viz)

	response.ConditionTrue(rsp, TypeInputValid, ReasonValid)
	if waiting != "" {
		response.ConditionFalse(rsp, TypeResourcesReady, ReasonWaiting).WithMessage("Waiting for: " + waiting)
	} else {
		response.ConditionTrue(rsp, TypeResourcesReady, ReasonAvailable)
	}
	f.log.Debug("Composed the viz instance", "tag", req.GetMeta().GetTag(), "url", comp.url, "waiting", waiting)
	return rsp, nil
}

// compose returns what the function composes for the request's
// DataVisualisation, from the cache when neither it nor the Input changed.
func (f *Function) compose(req *fnv1.RunFunctionRequest) (*composition, error) {
	key, cacheable := cacheKey(req)
	if cacheable {
		if comp, ok := f.cache.get(key); ok {
			return comp, nil
		}
	}
	in, err := ReadInput(req)
	if err != nil {
		return nil, err
	}
	inst, errs := NewInstance(observedXR(req), f.settings.WithInput(in))
	if len(errs) > 0 {
		return nil, errors.Wrap(errs.ToAggregate(), "cannot compose a viz instance")
	}
	resources, err := Compose(inst)
	if err != nil {
		return nil, err
	}
	viz, err := VizStatus(inst)
	if err != nil {
		return nil, errors.Wrap(err, "cannot compose status.viz")
	}
	comp := &composition{resources: resources, viz: viz, url: inst.URL()}
	if cacheable {
		f.cache.put(key, comp)
	}
	return comp, nil
}

// observedXR returns the parts of the observed DataVisualisation that an
// instance depends on: its name and namespace, and spec.imDataManager. It
// leaves out what Crossplane adds (spec.crossplane, status), which can be
// large.
func observedXR(req *fnv1.RunFunctionRequest) map[string]any {
	fields := req.GetObserved().GetComposite().GetResource().GetFields()
	xr := map[string]any{}
	if meta := fields["metadata"].GetStructValue(); meta != nil {
		m := map[string]any{}
		for _, k := range []string{"name", "namespace"} {
			if v, ok := meta.GetFields()[k]; ok {
				m[k] = v.AsInterface()
			}
		}
		xr["metadata"] = m
	}
	if spec, ok := fields["spec"]; ok {
		if s := spec.GetStructValue(); s != nil {
			xr["spec"] = map[string]any{}
			if dm, ok := s.GetFields()["imDataManager"]; ok {
				xr["spec"] = map[string]any{"imDataManager": dm.AsInterface()}
			}
		} else {
			xr["spec"] = spec.AsInterface() // Not an object: NewInstance says so.
		}
	}
	return xr
}

// setDesiredResources adds the composed resources to the response, with
// their readiness, and leaves those of earlier pipeline steps as they were.
func setDesiredResources(rsp *fnv1.RunFunctionResponse, comp *composition, ready map[resource.Name]fnv1.Ready) {
	if rsp.GetDesired() == nil {
		rsp.Desired = &fnv1.State{}
	}
	if rsp.GetDesired().GetResources() == nil {
		rsp.Desired.Resources = make(map[string]*fnv1.Resource, len(comp.resources))
	}
	for name, s := range comp.resources {
		rsp.Desired.Resources[string(name)] = &fnv1.Resource{Resource: s, Ready: ready[name]}
	}
}

// reject ends the pipeline with a Fatal result, so that Crossplane changes
// nothing, and says why on the DataVisualisation's InputValid condition.
func reject(rsp *fnv1.RunFunctionResponse, err error) {
	response.Fatal(rsp, err)
	response.ConditionFalse(rsp, TypeInputValid, ReasonInvalidInput).WithMessage(err.Error())
}
