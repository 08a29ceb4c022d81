package fn

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// imageTagPattern is the OCI distribution grammar of a tag.
	imageTagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

	// proxyBodySizePattern is the size syntax of nginx's client_max_body_size,
	// with at most 9 digits, so that no size overflows nginx's offset.
	proxyBodySizePattern = regexp.MustCompile(`^(\d{1,9})([kKmMgG]?)$`)
)

// Fixed bounds of a DataVisualisation's fields, the XRD's too.
const (
	// maxID is the largest user or group ID Kubernetes accepts in a Pod.
	maxID = math.MaxInt32
	// maxTaskID is the longest taskId.
	maxTaskID = 128
	// maxItems is the most labels, and the most pull Secrets.
	maxItems = 32
)

// dmLabelPrefix is the prefix of the Data Manager's Pod label keys, the one
// a DataVisualisation may always use.
const dmLabelPrefix = "data-manager.informaticsmatters.com/"

// validate checks every rule that a DataVisualisation's own fields, with
// their defaults, must meet to become a working instance. It returns one
// error per bad value, each naming the field and the value.
func validate(xr *dataVisualisation, s Settings) field.ErrorList {
	var errs field.ErrorList
	if xr.Metadata.Name == "" {
		errs = append(errs, field.Required(metadataPath.Child("name"), ""))
	}
	if xr.Metadata.Namespace == "" {
		errs = append(errs, field.Required(metadataPath.Child("namespace"), "a DataVisualisation is namespaced"))
	}

	dm := &xr.Spec.IMDataManager
	errs = append(errs, validateImageTag(dmField(dm.ImageTag, "imageTag"))...)
	errs = append(errs, validateResources(dm.Resources, s.maxCPU, s.maxMemory)...)
	sc := dmPath.Child("securityContext")
	errs = append(errs, validateID(setting[int64]{Value: *dm.SecurityContext.RunAsUser, From: sc.Child("runAsUser")}, 1)...)
	errs = append(errs, validateID(setting[int64]{Value: *dm.SecurityContext.RunAsGroup, From: sc.Child("runAsGroup")}, 0)...)
	errs = append(errs, validateName(dmField(dm.Project.ClaimName, "project", "claimName"))...)
	errs = append(errs, validateProjectID(dmField(dm.Project.ID, "project", "id"))...)
	errs = append(errs, validateProxyBodySize(dmField(dm.IngressProxyBodySize, "ingressProxyBodySize"), s.maxProxyBodySize)...)
	errs = append(errs, validatePullSecrets(dm.ImagePullSecrets)...)
	errs = append(errs, validateLabels(dm.Labels, objectName(xr.Metadata.Name), s.allowedLabelPrefixes)...)
	if n := utf8.RuneCountInString(dm.TaskID); n > maxTaskID {
		errs = append(errs, field.Invalid(dmPath.Child("taskId"), string([]rune(dm.TaskID)[:maxTaskID])+"...",
			fmt.Sprintf("must be at most %d characters; it has %d", maxTaskID, n)))
	}
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
		switch part {
		case "..":
			return field.ErrorList{field.Invalid(s.From, s.Value, "must not contain '..'")}
		case "", ".":
			return field.ErrorList{field.Invalid(s.From, s.Value, "must not have an empty or '.' segment: the Project is a directory of the claim, never all of it")}
		}
	}
	if strings.ContainsAny(s.Value, "\x00\n\r") {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must not contain control characters")}
	}
	return nil
}

// validateProxyBodySize checks nginx's proxy-body-size annotation value:
// at most the platform's maximum, and 0 (unlimited) only when the maximum
// is 0.
func validateProxyBodySize(s, maximum setting[string]) field.ErrorList {
	size, ok := bodySize(s.Value)
	if !ok {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a size of at most 9 digits and a unit, such as 1m or 500k")}
	}
	limit, ok := bodySize(maximum.Value)
	switch {
	case !ok || limit == 0: // Settings.Validate reports a bad maximum; 0 allows anything.
		return nil
	case size == 0:
		return field.ErrorList{field.Invalid(s.From, s.Value, fmt.Sprintf("must not be 0 (unlimited): the platform allows at most %s (%s)", maximum.Value, maximum.From))}
	case size > limit:
		return field.ErrorList{field.Invalid(s.From, s.Value, fmt.Sprintf("must be at most %s (%s)", maximum.Value, maximum.From))}
	}
	return nil
}

// bodySize is the number of bytes of an nginx size, whose units are powers
// of 1024.
func bodySize(v string) (int64, bool) {
	m := proxyBodySizePattern.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := map[string]int64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[strings.ToLower(m[2])]
	return n * unit, true
}

// validateResources checks that each quantity parses and is not negative,
// that each request fits its limit (the API server rejects a Pod whose
// request is larger), and that each is at most the platform's maximum.
func validateResources(r xrResources, maxCPU, maxMemory setting[string]) field.ErrorList {
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
		maximum  setting[string]
	}{
		{name: "cpu", req: r.Requests.CPU, lim: r.Limits.CPU, maximum: maxCPU},
		{name: "memory", req: r.Requests.Memory, lim: r.Limits.Memory, maximum: maxMemory},
	} {
		reqFrom, limFrom := p.Child("requests", c.name), p.Child("limits", c.name)
		req, reqOK := parse(c.req, reqFrom)
		lim, limOK := parse(c.lim, limFrom)
		if reqOK && limOK && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(reqFrom, string(c.req),
				fmt.Sprintf("must be less than or equal to the %s limit %q (%s)", c.name, c.lim, limFrom)))
		}
		// Settings.Validate reports a maximum that does not parse. A request
		// fits its limit, so the limit alone is checked against the maximum.
		if maximum, err := resource.ParseQuantity(c.maximum.Value); err == nil && limOK && lim.Cmp(maximum) > 0 {
			errs = append(errs, field.Invalid(limFrom, string(c.lim),
				fmt.Sprintf("must be at most %s, the platform's maximum (%s)", c.maximum.Value, c.maximum.From)))
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
	if len(names) > maxItems {
		return field.ErrorList{field.TooMany(dmPath.Child("imagePullSecrets"), len(names), maxItems)}
	}
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
// a valid Kubernetes label with a key under the Data Manager's prefix or one
// the platform allows, no key may have two values, and none may change the
// selector label that ties the Pod to its Deployment and Service (one that
// repeats it is harmless).
func validateLabels(labels []string, objectName string, prefixes setting[[]string]) field.ErrorList {
	if len(labels) > maxItems {
		return field.ErrorList{field.TooMany(dmPath.Child("labels"), len(labels), maxItems)}
	}
	allowed := append([]string{dmLabelPrefix}, prefixes.Value...)
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
		if key == appNameLabel {
			errs = append(errs, field.Invalid(s.From, l, fmt.Sprintf("must not set %s, which names the application on every instance", appNameLabel)))
			continue
		}
		if key != selectorLabel && !slices.ContainsFunc(allowed, func(p string) bool { return strings.HasPrefix(key, p) }) {
			errs = append(errs, field.Invalid(s.From, l,
				fmt.Sprintf("must have a key under a prefix the platform allows: %s (%s)", quotedList(allowed), prefixes.From)))
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
