package fn

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// imageTagPattern is the OCI distribution grammar of a tag.
	imageTagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

	// proxyBodySizePattern is the size syntax of nginx's client_max_body_size.
	proxyBodySizePattern = regexp.MustCompile(`^\d+[kKmMgG]?$`)
)

// maxID is the largest user or group ID Kubernetes accepts in a Pod.
const maxID = math.MaxInt32

// validate checks every rule that a DataVisualisation's own fields, with
// their defaults, must meet to become a working instance. It returns one
// error per bad value, each naming the field and the value.
func validate(xr *dataVisualisation) field.ErrorList {
	var errs field.ErrorList
	if xr.Metadata.Name == "" {
		errs = append(errs, field.Required(metadataPath.Child("name"), ""))
	}
	if xr.Metadata.Namespace == "" {
		errs = append(errs, field.Required(metadataPath.Child("namespace"), "a DataVisualisation is namespaced"))
	}

	dm := &xr.Spec.IMDataManager
	errs = append(errs, validateImageTag(dmField(dm.ImageTag, "imageTag"))...)
	errs = append(errs, validateName(dmField(dm.ServiceAccountName, "serviceAccountName"))...)
	errs = append(errs, validateResources(dm.Resources)...)
	sc := dmPath.Child("securityContext")
	errs = append(errs, validateID(setting[int64]{Value: *dm.SecurityContext.RunAsUser, From: sc.Child("runAsUser")}, 1)...)
	errs = append(errs, validateID(setting[int64]{Value: *dm.SecurityContext.RunAsGroup, From: sc.Child("runAsGroup")}, 0)...)
	errs = append(errs, validateName(dmField(dm.Project.ClaimName, "project", "claimName"))...)
	errs = append(errs, validateProjectID(dmField(dm.Project.ID, "project", "id"))...)
	errs = append(errs, validateProxyBodySize(dmField(dm.IngressProxyBodySize, "ingressProxyBodySize"))...)
	errs = append(errs, validatePullSecrets(dm.ImagePullSecrets)...)
	errs = append(errs, validateLabels(dm.Labels, objectName(xr.Metadata.Name))...)
	return errs
}

// dmField is a string of spec.imDataManager at the path of its keys.
func dmField(v string, keys ...string) setting[string] {
	return setting[string]{Value: v, From: dmPath.Child(keys[0], keys[1:]...)}
}

func invalid(s setting[string], msgs []string) field.ErrorList {
	if len(msgs) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(s.From, s.Value, strings.Join(msgs, "; "))}
}

// validateName checks a required object name (a DNS-1123 subdomain), such as
// a Secret, a PersistentVolumeClaim or a ServiceAccount name.
func validateName(s setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "")}
	}
	return invalid(s, validation.IsDNS1123Subdomain(s.Value))
}

// validateOptionalName checks an object name that may be empty.
func validateOptionalName(s setting[string]) field.ErrorList {
	if s.Value == "" {
		return nil
	}
	return validateName(s)
}

// validateImageTag checks the image tag that the Data Manager provides.
func validateImageTag(s setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "the image tag of the viz-app, for example 1.2.0")}
	}
	if !imageTagPattern.MatchString(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value,
			"must be an image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'")}
	}
	return nil
}

// validateID checks a Pod user or group ID.
func validateID(s setting[int64], minimum int64) field.ErrorList {
	if s.Value < minimum || s.Value > maxID {
		return field.ErrorList{field.Invalid(s.From, s.Value, fmt.Sprintf("must be between %d and %d", minimum, maxID))}
	}
	return nil
}

// validateProjectID checks the Project ID, which is the sub-path of the
// Project volume that the instance mounts: a relative path that stays inside
// the volume.
func validateProjectID(s setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "the Data Manager Project to mount")}
	}
	if path.IsAbs(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a relative path")}
	}
	for _, part := range strings.Split(s.Value, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(s.From, s.Value, "must not contain '..'")}
		}
	}
	if strings.ContainsAny(s.Value, "\x00\n\r") {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must not contain control characters")}
	}
	return nil
}

// validateProxyBodySize checks nginx's proxy-body-size annotation value.
func validateProxyBodySize(s setting[string]) field.ErrorList {
	if !proxyBodySizePattern.MatchString(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a size such as 1m, 500k or 0 (no limit)")}
	}
	return nil
}

// validateResources checks that each quantity parses and is not negative,
// and that each request fits its limit (the API server rejects a Pod whose
// request is larger).
func validateResources(r xrResources) field.ErrorList {
	var errs field.ErrorList
	p := dmPath.Child("resources")
	parse := func(q quantity, from *field.Path) (resource.Quantity, bool) {
		v, err := resource.ParseQuantity(string(q))
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(from, string(q), "must be a quantity such as 500m, 2, 256Mi or 1Gi"))
		case v.Sign() < 0:
			errs = append(errs, field.Invalid(from, string(q), "must not be negative"))
		default:
			return v, true
		}
		return v, false
	}
	for _, c := range []struct {
		name     string
		req, lim quantity
	}{
		{name: "cpu", req: r.Requests.CPU, lim: r.Limits.CPU},
		{name: "memory", req: r.Requests.Memory, lim: r.Limits.Memory},
	} {
		reqFrom, limFrom := p.Child("requests", c.name), p.Child("limits", c.name)
		req, reqOK := parse(c.req, reqFrom)
		lim, limOK := parse(c.lim, limFrom)
		if reqOK && limOK && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(reqFrom, string(c.req),
				fmt.Sprintf("must be less than or equal to the %s limit %q (%s)", c.name, c.lim, limFrom)))
		}
	}
	for _, s := range []struct {
		q    quantity
		from *field.Path
	}{
		{q: r.Requests.Storage, from: p.Child("requests", "storage")},
		{q: r.Limits.Storage, from: p.Child("limits", "storage")},
	} {
		if s.q != "" { // Accepted, and unused: it need only parse.
			parse(s.q, s.from)
		}
	}
	return errs
}

// validatePullSecrets checks the DataVisualisation's own pull Secret names:
// each a valid name, none twice.
func validatePullSecrets(names []string) field.ErrorList {
	var errs field.ErrorList
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		s := dmField(name, "imagePullSecrets")
		s.From = s.From.Index(i)
		if seen[name] {
			errs = append(errs, field.Duplicate(s.From, name))
			continue
		}
		seen[name] = true
		errs = append(errs, validateName(s)...)
	}
	return errs
}

// validateLabels checks the Data Manager's key=value Pod labels. Each must be
// a valid Kubernetes label, no key may have two values, and none may change
// the selector label that ties the Pod to its Deployment and Service.
func validateLabels(labels []string, objectName string) field.ErrorList {
	var errs field.ErrorList
	first := make(map[string]setting[string], len(labels))
	for i, l := range labels {
		s := dmField(l, "labels")
		s.From = s.From.Index(i)
		key, value, ok := strings.Cut(l, "=")
		if !ok {
			errs = append(errs, field.Invalid(s.From, l, "must be key=value"))
			continue
		}
		if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
			errs = append(errs, field.Invalid(s.From, l, "key "+strings.Join(msgs, "; ")))
			continue
		}
		if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
			errs = append(errs, field.Invalid(s.From, l, "value "+strings.Join(msgs, "; ")))
			continue
		}
		if key == selectorLabel && value != objectName {
			errs = append(errs, field.Invalid(s.From, l,
				fmt.Sprintf("must not change the selector label %s=%s", selectorLabel, objectName)))
			continue
		}
		if prev, dup := first[key]; dup && prev.Value != l {
			errs = append(errs, field.Invalid(s.From, l,
				fmt.Sprintf("gives key %q a second value; %s is %q", key, prev.From, prev.Value)))
		} else if !dup {
			first[key] = s
		}
	}
	return errs
}
