package fn

import (
	"fmt"
	"math"
	"net"
	"path"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// imageTagPattern is the OCI distribution grammar of a tag.
	imageTagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

	// imageRepositoryPattern is the OCI distribution grammar of a
	// repository with an optional registry host and port, and no tag or
	// digest.
	imageRepositoryPattern = regexp.MustCompile(
		`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?` +
			`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

	// proxyBodySizePattern is the size syntax of nginx's client_max_body_size.
	proxyBodySizePattern = regexp.MustCompile(`^\d+[kKmMgG]?$`)
)

// maxID is the largest user or group ID Kubernetes accepts in a Pod.
const maxID = math.MaxInt32

func invalid(s Setting[string], msgs []string) field.ErrorList {
	if len(msgs) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(s.From, s.Value, strings.Join(msgs, "; "))}
}

// validateName checks a required object name (a DNS-1123 subdomain), such as
// a Secret, a PersistentVolumeClaim or a ServiceAccount name.
func validateName(s Setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "")}
	}
	return invalid(s, validation.IsDNS1123Subdomain(s.Value))
}

// validateOptionalName checks an object name that may be empty.
func validateOptionalName(s Setting[string]) field.ErrorList {
	if s.Value == "" {
		return nil
	}
	return validateName(s)
}

// validateHost checks an Ingress host that may be empty: a lower-case DNS
// name, not an IP address.
func validateHost(s Setting[string]) field.ErrorList {
	if s.Value == "" {
		return nil
	}
	if net.ParseIP(s.Value) != nil {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a DNS name, not an IP address")}
	}
	return invalid(s, validation.IsDNS1123Subdomain(s.Value))
}

// validateImageRepository checks an image repository without a tag.
func validateImageRepository(s Setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "")}
	}
	if !imageRepositoryPattern.MatchString(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be an image repository such as ghcr.io/org/name, with no tag or digest")}
	}
	return nil
}

// validateImageTag checks the image tag that the Data Manager provides.
func validateImageTag(s Setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "the image tag of the viz-app, for example 1.2.0")}
	}
	if !imageTagPattern.MatchString(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value,
			"must be an image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'")}
	}
	return nil
}

// validateNodeSelector checks the Pod node selector; an empty key turns the
// node selector off.
func validateNodeSelector(key, value Setting[string]) field.ErrorList {
	if key.Value == "" {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, invalid(key, validation.IsQualifiedName(key.Value))...)
	errs = append(errs, invalid(value, validation.IsValidLabelValue(value.Value))...)
	return errs
}

// validateID checks a Pod user or group ID.
func validateID(s Setting[int64], minimum int64) field.ErrorList {
	if s.Value < minimum || s.Value > maxID {
		return field.ErrorList{field.Invalid(s.From, s.Value, fmt.Sprintf("must be between %d and %d", minimum, maxID))}
	}
	return nil
}

// validateProviderConfigRef checks the provider config of the Objects.
func validateProviderConfigRef(s Setting[ProviderConfigRef]) field.ErrorList {
	var errs field.ErrorList
	kind := s.From.Child("kind")
	switch s.Value.Kind {
	case "ClusterProviderConfig", "ProviderConfig":
	default:
		errs = append(errs, field.NotSupported(kind, s.Value.Kind, []string{"ClusterProviderConfig", "ProviderConfig"}))
	}
	return append(errs, validateName(Setting[string]{Value: s.Value.Name, From: s.From.Child("name")})...)
}

// validateProjectID checks the Project ID, which is the sub-path of the
// Project volume that the instance mounts: a relative path that stays inside
// the volume.
func validateProjectID(s Setting[string]) field.ErrorList {
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
func validateProxyBodySize(s Setting[string]) field.ErrorList {
	if !proxyBodySizePattern.MatchString(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a size such as 1m, 500k or 0 (no limit)")}
	}
	return nil
}
