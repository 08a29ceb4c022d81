// Package fn is a Crossplane composition function that turns a Squonk2
// DataVisualisation into a running squonk2-viz-app instance: a Deployment, a
// Service and an Ingress, each wrapped in a provider-kubernetes Object, or,
// in the direct mode, composed as they are.
//
// A request passes each stage once, each in a file of its own: the
// DataVisualisation is decoded (xr.go, decode.go), the settings resolved
// (settings.go), every rule checked (validate.go), the instance resolved
// (instance.go, names.go), its manifests built (manifests.go) and carried as
// its mode says (mode.go: object.go or direct.go), its ownership checked
// (owners.go), its status written (status.go), the Pod template it keeps
// chosen (template.go), its readiness read from
// what Crossplane observes (ready.go), and why it has not started, if it has
// not, from its Deployment, Pods and claim (started.go). What it composes is cached
// (cache.go).
package fn

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/response"
)

// Function composes viz-app instances.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log      logging.Logger
	settings Settings
	cache    compositionCache
	now      func() time.Time
	version  string
	// configMap, when the settings name one, is read on every change.
	configMap *settingsConfigMap
}

// NewFunction returns a Function of the release version with the supplied
// settings: the built-in defaults overlaid by the environment, read at
// start, which the settings ConfigMap replaces once Crossplane fetched it.
func NewFunction(log logging.Logger, s Settings, version string) *Function {
	cm, _ := parseSettingsConfigMap(s.configMap.Value, s.configMap.From) // Settings.Validate reports a bad one.
	return &Function{log: log, settings: s, now: time.Now, version: version, configMap: cm}
}

// noTTL asks Crossplane for no call but on a change: a Ready instance whose
// inputs do not change costs nothing. Crossplane watches everything the
// function reads but the clock and its process environment: its composed
// resources, what it requires (the Pods, the claim, the settings
// ConfigMap), the DataVisualisation, and the Composition (whose Input moves
// every DataVisualisation to its new revision). What depends on the clock
// asks for a call of its own (requeueBy); Crossplane's sync interval (an
// hour by default) brings a changed process environment.
const noTTL = 0

// requeueBy has Crossplane call the function again within d.
func requeueBy(rsp *fnv1.RunFunctionResponse, d time.Duration) {
	d = max(d, time.Second)
	if ttl := rsp.GetMeta().GetTtl().AsDuration(); ttl == 0 || d < ttl {
		rsp.Meta.Ttl = durationpb.New(d)
	}
}

// RunFunction composes the instance of one DataVisualisation.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, noTTL)

	comp, err := f.compose(req)
	if err != nil {
		f.log.Debug("Rejected the DataVisualisation", "tag", req.GetMeta().GetTag(), "error", err.Error())
		setRequirements(rsp, f.configMap.requirements())
		reject(rsp, err)
		return rsp, nil
	}
	required, err := checkOwnership(req, comp.mode, comp.objects, comp.uid)
	setRequirements(rsp, joinRequirements(f.configMap.requirements(), required, comp.start.requirements()))
	if err != nil {
		f.log.Debug("Blocked the DataVisualisation", "tag", req.GetMeta().GetTag(), "error", err.Error())
		block(rsp, err)
		return rsp, nil
	}
	setStatus(rsp, comp.viz)
	now := f.now()
	tpl := chooseTemplate(req, comp, now)
	setTemplate(rsp, tpl, comp.uid, now)
	resources := comp.resources
	if !tpl.current {
		resources = withTemplate(comp.mode, resources, tpl.pod)
	}
	states := comp.mode.states(req, resources)
	if comp.mode == modeProvider {
		resources, states = withObjectOwners(req, resources, states, comp.uid)
	}
	setResources(rsp, comp.mode, resources, states)
	setStarted(rsp, req, readStart(req, comp.mode, comp.start, states[nameDeployment]))
	f.log.Debug("Composed the viz instance", "tag", req.GetMeta().GetTag(), "url", comp.url)
	return rsp, nil
}

// compose returns what the function composes for the request's
// DataVisualisation, from the cache when neither it nor the Input changed.
func (f *Function) compose(req *fnv1.RunFunctionRequest) (*composition, error) {
	settings, settingsVersion := f.settings, ""
	if f.configMap != nil {
		if data, version, ok := fetchedSettings(req); ok {
			settings, settingsVersion = f.settings.withConfigMap(data, f.configMap), version
		}
	}
	key, cacheable := cacheKey(req, settingsVersion)
	if cacheable {
		if comp, ok := f.cache.get(key); ok {
			return comp, nil
		}
	}
	xr, errs := decodeXR(req)
	s, settingErrs, err := settings.resolve(req.GetInput(), &xr.Spec.IMDataManager)
	if err != nil {
		return nil, explainNewerInput(err, f.version)
	}
	errs = append(errs, settingErrs...)
	if errs = append(errs, validate(xr, s)...); len(errs) > 0 {
		return nil, errors.Wrap(errs.ToAggregate(), "cannot compose a viz instance")
	}
	inst := newInstance(xr, s)
	ms := manifests(inst)
	resources, err := inst.mode.resources(ms, inst.providerConfigRef)
	if err != nil {
		return nil, err
	}
	objects, err := objectsOf(ms)
	if err != nil {
		return nil, err
	}
	viz, err := vizStatus(inst)
	if err != nil {
		return nil, errors.Wrap(err, "cannot compose status.viz")
	}
	comp := &composition{
		mode: inst.mode, resources: resources, objects: objects, uid: inst.uid, viz: viz, url: inst.url(),
		start: inst.start(), rollout: inst.rollout,
	}
	if cacheable {
		f.cache.put(key, comp)
	}
	return comp, nil
}
