package fn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

// The condition that says whether an instance runs the Pod template that the
// function composes for it now, and, when it does not, what differs.
const (
	typeTemplateCurrent = "TemplateCurrent"
	reasonCurrent       = "Current"
	reasonOlderTemplate = "OlderTemplate"
)

// A rollout gives running instances the current Pod template on purpose:
// each instance whose template was composed before start takes the current
// one at a moment of its own between start and start+over.
type rollout struct {
	start time.Time // Zero: no rollout.
	over  time.Duration
}

// at returns when the rollout reaches the instance of the uid: its uid's
// hash spreads the instances evenly over the rollout.
func (r rollout) at(uid string) time.Time {
	sum := sha256.Sum256([]byte(uid))
	share := float64(binary.BigEndian.Uint64(sum[:8])) / (1 << 64)
	return r.start.Add(time.Duration(share * float64(r.over)))
}

// reaches reports whether the rollout gives a template composed at composed
// (zero: by an earlier release) the current one.
func (r rollout) reaches(composed time.Time) bool {
	return !r.start.IsZero() && composed.Before(r.start)
}

// A podTemplate is the Pod template of an instance's Deployment, and what it
// was composed for: the digest of spec.imDataManager and when. A template
// kept from an earlier release has neither.
type podTemplate struct {
	pod      *structpb.Value
	forSpec  string
	composed time.Time
}

// A templateChoice is the Pod template the function composes for an
// instance: the current one, or the one it runs, kept until its spec changes
// or a rollout reaches it.
type templateChoice struct {
	podTemplate
	current bool
	// differs lists where the current template differs from a kept one.
	differs []string
	// rollout is when a rollout gives a kept template the current one;
	// zero when none will.
	rollout time.Time
}

// chooseTemplate returns the Pod template that the instance's Deployment
// carries. An instance keeps the one it was last composed with (its
// status.template, or, when an earlier release composed it, the one its
// Deployment was composed with) until its own spec.imDataManager changes or
// a rollout reaches it: so a new release or setting restarts no running
// Pod. What is kept is what the function composed, never the live object
// (but for the direct mode's first call after an upgrade, which can read
// only the live Deployment), so hand edits are still undone.
func chooseTemplate(req *fnv1.RunFunctionRequest, comp *composition, now time.Time) templateChoice {
	desired := podTemplateOf(comp.mode, comp.resources[nameDeployment])
	spec := specDigest(req)
	current := templateChoice{podTemplate: podTemplate{pod: desired, forSpec: spec, composed: now}, current: true}
	kept, stored := storedTemplate(req)
	if !stored {
		observed, ok := req.GetObserved().GetResources()[string(comp.mode.composedName(nameDeployment))]
		if !ok {
			return current // A new instance.
		}
		kept = podTemplate{pod: podTemplateOf(comp.mode, observed.GetResource()), forSpec: spec}
	}
	switch {
	case kept.pod == nil, kept.forSpec != spec:
		return current
	case proto.Equal(kept.pod, desired),
		!stored && comp.mode == modeDirect && covers(kept.pod, desired): // The API server's defaults.
		if !kept.composed.IsZero() {
			current.composed = kept.composed
		}
		return current
	case comp.rollout.reaches(kept.composed) && !now.Before(comp.rollout.at(comp.uid)):
		return current
	}
	choice := templateChoice{podTemplate: kept, differs: differences("spec.template", kept.pod, desired)}
	if comp.rollout.reaches(kept.composed) {
		choice.rollout = comp.rollout.at(comp.uid)
	}
	return choice
}

// templatePath is where a Deployment carries its Pod template: in the
// provider mode, inside the Object's manifest.
func templatePath(m mode) []string {
	if m == modeDirect {
		return []string{"spec", "template"}
	}
	return []string{"spec", "forProvider", "manifest", "spec", "template"}
}

// podTemplateOf returns the Pod template of a composed Deployment, or nil.
func podTemplateOf(m mode, r *structpb.Struct) *structpb.Value {
	path := templatePath(m)
	v := structpb.NewStructValue(r)
	for _, f := range path {
		v = v.GetStructValue().GetFields()[f]
	}
	if v.GetStructValue() == nil {
		return nil
	}
	return v
}

// withTemplate returns the composed resources with the Deployment's Pod
// template replaced. The cached resources are shared, so the Deployment is
// copied.
func withTemplate(m mode, resources map[resource.Name]*structpb.Struct, pod *structpb.Value) map[resource.Name]*structpb.Struct {
	out := maps.Clone(resources)
	d := proto.Clone(resources[nameDeployment]).(*structpb.Struct) //nolint:forcetypeassert // A clone has its original's type.
	path := templatePath(m)
	parent := d
	for _, f := range path[:len(path)-1] {
		parent = parent.GetFields()[f].GetStructValue()
	}
	parent.Fields[path[len(path)-1]] = pod
	out[nameDeployment] = d
	return out
}

// specDigest is the digest of the DataVisualisation's spec.imDataManager:
// what the Data Manager gave the instance. Crossplane's own spec.crossplane
// is not part of it.
func specDigest(req *fnv1.RunFunctionRequest) string {
	dm := req.GetObserved().GetComposite().GetResource().GetFields()["spec"].GetStructValue().GetFields()["imDataManager"]
	b, err := json.Marshal(dm.AsInterface()) // Sorts the keys of every map.
	if err != nil {
		return "" // A struct from protobuf always marshals.
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// storedTemplate returns the DataVisualisation's status.template: the Pod
// template the function last composed for it.
func storedTemplate(req *fnv1.RunFunctionRequest) (podTemplate, bool) {
	t := req.GetObserved().GetComposite().GetResource().GetFields()["status"].GetStructValue().GetFields()["template"].GetStructValue().GetFields()
	pod := t["pod"]
	if pod.GetStructValue() == nil {
		return podTemplate{}, false
	}
	composed, _ := time.Parse(time.RFC3339, t["composed"].GetStringValue())
	return podTemplate{pod: pod, forSpec: t["forSpec"].GetStringValue(), composed: composed}, true
}

// status returns the choice as the DataVisualisation's status.template. A
// preview, whose DataVisualisation has no uid, says nothing of when.
func (t templateChoice) status(uid string) *structpb.Struct {
	fields := map[string]*structpb.Value{"pod": t.pod, "forSpec": structpb.NewStringValue(t.forSpec)}
	if uid != "" && !t.composed.IsZero() {
		fields["composed"] = structpb.NewStringValue(t.composed.UTC().Format(time.RFC3339))
	}
	return &structpb.Struct{Fields: fields}
}

// maxDifferences is how many differing fields the condition names.
const maxDifferences = 5

// setTemplate writes the choice to the DataVisualisation's status.template
// and its TemplateCurrent condition, and has Crossplane call again when a
// rollout reaches a kept template.
func setTemplate(rsp *fnv1.RunFunctionResponse, t templateChoice, uid string, now time.Time) {
	desiredStatus(rsp).Fields["template"] = structpb.NewStructValue(t.status(uid))
	if t.current {
		response.ConditionTrue(rsp, typeTemplateCurrent, reasonCurrent)
		return
	}
	differs := t.differs
	if len(differs) > maxDifferences {
		differs = append(slices.Clone(differs[:maxDifferences]), fmt.Sprintf("%d more", len(t.differs)-maxDifferences))
	}
	since := "an earlier release"
	if !t.composed.IsZero() {
		since = t.composed.UTC().Format(time.RFC3339)
	}
	msg := fmt.Sprintf("runs the Pod template composed by %s; the current one differs in %s. It takes the current one when spec.imDataManager changes",
		since, strings.Join(differs, ", "))
	if !t.rollout.IsZero() {
		msg += fmt.Sprintf(", or at %s, when the rollout reaches it", t.rollout.UTC().Format(time.RFC3339))
		requeueBy(rsp, t.rollout.Sub(now))
	}
	response.ConditionFalse(rsp, typeTemplateCurrent, reasonOlderTemplate).WithMessage(msg + ".")
}

// differences returns the paths of the fields in which two values differ,
// in order: a field one of them lacks, or of another value.
func differences(path string, a, b *structpb.Value) []string {
	if proto.Equal(a, b) {
		return nil
	}
	if as, bs := a.GetStructValue(), b.GetStructValue(); as != nil && bs != nil {
		keys := slices.Collect(maps.Keys(as.GetFields()))
		for k := range bs.GetFields() {
			if _, ok := as.GetFields()[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		var out []string
		for _, k := range keys {
			out = append(out, differences(childPath(path, k), as.GetFields()[k], bs.GetFields()[k])...)
		}
		return out
	}
	if al, bl := a.GetListValue(), b.GetListValue(); al != nil && bl != nil && len(al.GetValues()) == len(bl.GetValues()) {
		var out []string
		for i := range al.GetValues() {
			out = append(out, differences(fmt.Sprintf("%s[%d]", path, i), al.GetValues()[i], bl.GetValues()[i])...)
		}
		return out
	}
	return []string{path}
}

// childPath is the path of a field: .name, or [key] for a key such as a
// label's, with dots or slashes.
func childPath(path, key string) string {
	if strings.ContainsAny(key, "./") {
		return path + "[" + key + "]"
	}
	return path + "." + key
}

// covers reports whether observed has every field of composed, of the same
// value: the live object of what was composed, with the API server's
// defaults.
func covers(observed, composed *structpb.Value) bool {
	if cs := composed.GetStructValue(); cs != nil {
		os := observed.GetStructValue()
		for k, v := range cs.GetFields() {
			if ov, ok := os.GetFields()[k]; !ok || !covers(ov, v) {
				return false
			}
		}
		return os != nil
	}
	if cl := composed.GetListValue(); cl != nil {
		ol := observed.GetListValue()
		if len(ol.GetValues()) != len(cl.GetValues()) {
			return false
		}
		for i, v := range cl.GetValues() {
			if !covers(ol.GetValues()[i], v) {
				return false
			}
		}
		return ol != nil
	}
	return proto.Equal(observed, composed)
}
