package fn

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// An objectRef names what a composed resource applies: the kind and the name that
// must be free, or the DataVisualisation's, before it is first composed.
type objectRef struct {
	apiVersion, kind, namespace, name string
}

// objectsOf returns the object that each manifest applies.
func objectsOf(ms []manifest) (map[resource.Name]objectRef, error) {
	out := make(map[resource.Name]objectRef, len(ms))
	for _, m := range ms {
		meta, err := apimeta.Accessor(m.object)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot read the %s's metadata", m.name)
		}
		gvk := m.object.GetObjectKind().GroupVersionKind()
		out[m.name] = objectRef{apiVersion: gvk.GroupVersion().String(), kind: gvk.Kind, namespace: meta.GetNamespace(), name: meta.GetName()}
	}
	return out, nil
}

// requiredKey names the existing object of a composed resource among the
// resources the function requires of Crossplane.
func requiredKey(name resource.Name) string {
	return "existing-" + string(name)
}

// checkOwnership makes sure the function composes over no object that is
// not the DataVisualisation's. Before a resource is first composed (while
// Crossplane observes no composed resource for it in the mode), the
// function requires of Crossplane
// any existing object of its kind and name. It composes over one only when
// the object names the DataVisualisation (its uid) as an owner: the mark
// the function puts on everything it composes, and the viz operator did on
// its objects, which the migration takes over. It returns the requirements,
// and an error naming each object that blocks the instance and who owns it.
func checkOwnership(req *fnv1.RunFunctionRequest, m mode, objects map[resource.Name]objectRef, uid string) (map[string]*fnv1.ResourceSelector, error) {
	var required map[string]*fnv1.ResourceSelector
	blocked := foreignComposed(req, uid)
	for _, name := range composedNames {
		if _, composed := req.GetObserved().GetResources()[string(m.composedName(name))]; composed {
			continue
		}
		o := objects[name]
		if required == nil {
			required = make(map[string]*fnv1.ResourceSelector, len(composedNames))
		}
		required[requiredKey(name)] = &fnv1.ResourceSelector{
			ApiVersion: o.apiVersion, Kind: o.kind, Namespace: &o.namespace,
			Match: &fnv1.ResourceSelector_MatchName{MatchName: o.name},
		}
		for _, existing := range req.GetRequiredResources()[requiredKey(name)].GetItems() {
			if !ownedBy(existing.GetResource(), uid) {
				blocked = append(blocked, fmt.Sprintf("the %s %s/%s exists and is not this DataVisualisation's (%s)",
					o.kind, o.namespace, o.name, owner(existing.GetResource())))
			}
		}
	}
	if len(blocked) > 0 {
		return required, fmt.Errorf("cannot compose over an object of another owner: %s; remove or rename it, or this DataVisualisation",
			strings.Join(blocked, "; "))
	}
	return required, nil
}

// foreignComposed names each composed resource that Crossplane observes for
// the DataVisualisation and that is not one of the function's own for this
// instance: one of a name the function never composes, or one that this
// DataVisualisation does not control.
// Crossplane takes what a DataVisualisation's spec.crossplane.resourceRefs
// lists as its composed resources, and would compose over or delete them;
// a Fatal result stops it first.
func foreignComposed(req *fnv1.RunFunctionRequest, uid string) []string {
	var foreign []string
	for name, r := range req.GetObserved().GetResources() {
		switch {
		case !composes(resource.Name(name)):
			foreign = append(foreign, fmt.Sprintf("Crossplane observes a composed resource %s, which this function never composes", quoted(name)))
		case uid != "" && !controlledBy(r.GetResource(), uid):
			foreign = append(foreign, fmt.Sprintf("the composed resource %s is not controlled by this DataVisualisation (%s)", name, owner(r.GetResource())))
		}
	}
	slices.Sort(foreign)
	return foreign
}

// composes reports whether the function composes a resource of the name,
// in either mode.
func composes(name resource.Name) bool {
	for _, object := range composedNames {
		if modeProvider.composedName(object) == name || modeDirect.composedName(object) == name {
			return true
		}
	}
	return false
}

// controlledBy reports whether the DataVisualisation, by its uid, is an
// object's controller.
func controlledBy(o *structpb.Struct, uid string) bool {
	for _, ref := range metadata(o)["ownerReferences"].GetListValue().GetValues() {
		f := ref.GetStructValue().GetFields()
		if f["uid"].GetStringValue() == uid && f["controller"].GetBoolValue() {
			return true
		}
	}
	return false
}

// ownedBy reports whether an object names the DataVisualisation, by its
// uid, as an owner. A DataVisualisation without a uid (a crossplane render
// preview) owns nothing.
func ownedBy(o *structpb.Struct, uid string) bool {
	for _, ref := range metadata(o)["ownerReferences"].GetListValue().GetValues() {
		if uid != "" && ref.GetStructValue().GetFields()["uid"].GetStringValue() == uid {
			return true
		}
	}
	return false
}

// owner says who an object belongs to, as far as it tells: its owner
// references, its Helm release, or the field manager that created it. What
// it takes from the object, another party's, is quoted.
func owner(o *structpb.Struct) string {
	meta := metadata(o)
	var owners []string
	for _, ref := range meta["ownerReferences"].GetListValue().GetValues() {
		f := ref.GetStructValue().GetFields()
		owners = append(owners, fmt.Sprintf("%s %s, uid %s",
			kindOf(f["kind"].GetStringValue()), quoted(f["name"].GetStringValue()), quoted(f["uid"].GetStringValue())))
	}
	if len(owners) > 0 {
		return "owned by " + strings.Join(owners, " and ")
	}
	if release := meta["annotations"].GetStructValue().GetFields()["meta.helm.sh/release-name"].GetStringValue(); release != "" {
		return "Helm release " + quoted(release)
	}
	if managers := meta["managedFields"].GetListValue().GetValues(); len(managers) > 0 {
		return "made by " + quoted(managers[0].GetStructValue().GetFields()["manager"].GetStringValue())
	}
	return "no owner named"
}

// plainKind matches a kind as Kubernetes spells kinds.
var plainKind = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,62}$`)

// kindOf is an owner reference's kind as a message names it: as it is when
// it is spelt as a kind, else quoted.
func kindOf(s string) string {
	if plainKind.MatchString(s) {
		return s
	}
	return quoted(s)
}

// quotedMax is the most characters a message quotes from another party's
// object: a Kubernetes name's length.
const quotedMax = 63

// quoted is a value from another party's object as a message quotes it:
// shortened to quotedMax characters (marked with "..." when it was longer)
// and in Go's double-quoted form, so that no newline, control character or
// quote in it can shape the message.
func quoted(s string) string {
	if r := []rune(s); len(r) > quotedMax {
		return strconv.Quote(string(r[:quotedMax])) + "..."
	}
	return strconv.Quote(s)
}

// setRequirements asks Crossplane for the existing objects that
// checkOwnership needs, on every call, so that Crossplane sees the same
// requirements each time and stops asking.
func setRequirements(rsp *fnv1.RunFunctionResponse, required map[string]*fnv1.ResourceSelector) {
	if len(required) > 0 {
		rsp.Requirements = &fnv1.Requirements{Resources: required}
	}
}

func metadata(o *structpb.Struct) map[string]*structpb.Value {
	return o.GetFields()["metadata"].GetStructValue().GetFields()
}
