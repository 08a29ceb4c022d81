package fn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/function-sdk-go/errors"

	"github.com/informaticsmatters/function-squonk2-viz/input/v1beta1"
)

// A setting is a configured value and the place it came from, so that an
// error about it names the field or variable that the user has to change.
type setting[T any] struct {
	Value T
	From  *field.Path
}

// providerConfigRef names the provider-kubernetes provider config that the
// composed Objects use.
type providerConfigRef struct {
	Kind string
	Name string
}

// Settings are the function's own configuration: the viz operator's
// environment variables, overlaid by the Composition's Input.
type Settings struct {
	ingressDomain      setting[string]
	ingressTLSSecret   setting[string]
	ingressCertIssuer  setting[string]
	image              setting[string]
	ingressClass       setting[string]
	imagePullSecret    setting[string]
	nodeSelectorKey    setting[string]
	nodeSelectorValue  setting[string]
	applyPriorityClass setting[bool]
	priorityClassName  setting[string]
	fsGroup            setting[int64]
	mode               setting[mode]
	providerConfigRef  setting[providerConfigRef]

	// What a DataVisualisation may pick beyond the configured values, and
	// the most it may ask for.
	allowedIngressDomains  setting[[]string]
	allowedIngressClasses  setting[[]string]
	allowedTLSSecrets      setting[[]string]
	allowedServiceAccounts setting[[]string]
	allowedLabelPrefixes   setting[[]string]
	maxCPU                 setting[string]
	maxMemory              setting[string]
	maxProxyBodySize       setting[string]

	// startDeadline is how long an instance may take to start, a duration.
	startDeadline setting[string]

	// rolloutStart and rolloutOver give running instances the current Pod
	// template on purpose: an RFC 3339 time (empty: none) and a duration.
	rolloutStart setting[string]
	rolloutOver  setting[string]

	// configMap names the ConfigMap, namespace/name, whose data replace the
	// environment's settings once Crossplane has fetched it.
	configMap setting[string]
}

// resolve returns the settings of one request, and an error for each that
// is invalid: these settings, overlaid by the Composition step's Input and
// then by the DataVisualisation's own ingress fields. An ingress domain is
// required by then. An Input that cannot be read is an error of its own.
func (s Settings) resolve(input *structpb.Struct, dm *imDataManager) (Settings, field.ErrorList, error) {
	in, err := readInput(input)
	if err != nil {
		return s, nil, err
	}
	s = s.withInput(in)
	errs := s.Validate()
	errs = append(errs, s.allows(dm)...)
	s = s.withXR(dm)
	if s.ingressDomain.Value == "" {
		errs = append(errs, field.Required(dmPath.Child("ingressDomain"),
			fmt.Sprintf("no ingress domain in the DataVisualisation, the function's Input (%s) or its environment (%s)",
				inputPath.Child("ingressDomain"), envIngressDomain)))
	}
	return s, errs, nil
}

// inputPath is the root of the field paths of the Composition's Input.
var inputPath = field.NewPath("input")

// readInput decodes the Composition step's Input; an empty one when the step
// has none. Unknown fields, such as a misspelt setting, are errors.
func readInput(input *structpb.Struct) (*v1beta1.Input, error) {
	in := &v1beta1.Input{}
	if input == nil {
		return in, nil
	}
	b, err := protojson.Marshal(input)
	if err != nil {
		return nil, errors.Wrapf(err, "cannot read the function's Input (%s)", inputPath)
	}
	// encoding/json, unlike the SDK's decoder, words its errors the same way
	// every time, and they name the field.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, unknownInputField{name: strings.Trim(name, `"`), madeFor: in.Annotations[annotationFunctionVersion]}
		}
		return nil, errors.Wrapf(err, "cannot read the function's Input (%s)", inputPath)
	}
	return in, nil
}

// annotationFunctionVersion, on the Input of the Configuration's
// Compositions, names the Function release they were built with.
const annotationFunctionVersion = "viz.fn.squonk.it/function-version"

// An unknownInputField is a field of the Input that this Function does not
// know: a misspelt setting, or one of a newer release.
type unknownInputField struct {
	name    string
	madeFor string // The release the Input names, if any.
}

func (u unknownInputField) Error() string {
	return fmt.Sprintf("cannot read the function's Input (%s): unknown field %q", inputPath, u.name)
}

// explainNewerInput says, of an Input field this release does not know,
// which release the Input needs.
func explainNewerInput(err error, version string) error {
	var u unknownInputField
	if !errors.As(err, &u) {
		return err
	}
	if u.madeFor != "" && u.madeFor != version {
		return errors.Errorf("%s: the Configuration is newer than this Function: its Composition was built for function-squonk2-viz %s "+
			"(the Input's annotation %s), and this Function is %s; install function-squonk2-viz %s", u, u.madeFor, annotationFunctionVersion, version, u.madeFor)
	}
	return errors.Errorf("%s: this Function (function-squonk2-viz %s) has no such setting; see the README's Configuration", u, version)
}

// withInput returns the settings overlaid by the fields that the Input sets.
// A field set to the empty string clears the value below it, so that a
// Composition can, for example, turn off an environment's TLS secret.
func (s Settings) withInput(in *v1beta1.Input) Settings {
	if in == nil {
		return s
	}
	p := inputPath
	set(&s.ingressDomain, in.IngressDomain, p.Child("ingressDomain"))
	set(&s.ingressTLSSecret, in.IngressTLSSecret, p.Child("ingressTlsSecret"))
	set(&s.ingressCertIssuer, in.IngressCertIssuer, p.Child("ingressCertIssuer"))
	set(&s.image, in.Image, p.Child("image"))
	set(&s.ingressClass, in.IngressClass, p.Child("ingressClass"))
	set(&s.imagePullSecret, in.ImagePullSecret, p.Child("imagePullSecret"))
	if ns := in.NodeSelector; ns != nil {
		set(&s.nodeSelectorKey, ns.Key, p.Child("nodeSelector", "key"))
		set(&s.nodeSelectorValue, ns.Value, p.Child("nodeSelector", "value"))
	}
	if pc := in.PriorityClass; pc != nil {
		set(&s.applyPriorityClass, pc.Apply, p.Child("priorityClass", "apply"))
		set(&s.priorityClassName, pc.Name, p.Child("priorityClass", "name"))
	}
	set(&s.fsGroup, in.FSGroup, p.Child("fsGroup"))
	if in.Mode != nil {
		s.mode = setting[mode]{Value: mode(*in.Mode), From: p.Child("mode")}
	}
	if ref := in.ProviderConfigRef; ref != nil {
		s.providerConfigRef = setting[providerConfigRef]{
			Value: providerConfigRef{Kind: ref.Kind, Name: ref.Name},
			From:  p.Child("providerConfigRef"),
		}
	}
	if a := in.Allowed; a != nil {
		setList(&s.allowedIngressDomains, a.IngressDomains, p.Child("allowed", "ingressDomains"))
		setList(&s.allowedIngressClasses, a.IngressClasses, p.Child("allowed", "ingressClasses"))
		setList(&s.allowedTLSSecrets, a.TLSSecrets, p.Child("allowed", "tlsSecrets"))
		setList(&s.allowedServiceAccounts, a.ServiceAccounts, p.Child("allowed", "serviceAccounts"))
		setList(&s.allowedLabelPrefixes, a.LabelPrefixes, p.Child("allowed", "labelPrefixes"))
	}
	set(&s.startDeadline, in.StartDeadline, p.Child("startDeadline"))
	if r := in.Rollout; r != nil {
		set(&s.rolloutStart, r.Start, p.Child("rollout", "start"))
		set(&s.rolloutOver, r.Over, p.Child("rollout", "over"))
	}
	if m := in.Maxima; m != nil {
		set(&s.maxCPU, m.CPU, p.Child("maxima", "cpu"))
		set(&s.maxMemory, m.Memory, p.Child("maxima", "memory"))
		set(&s.maxProxyBodySize, m.ProxyBodySize, p.Child("maxima", "proxyBodySize"))
	}
	return s
}

// setList sets a list setting when the Input gives the list.
func setList(dst *setting[[]string], v []string, from *field.Path) {
	if v != nil {
		*dst = setting[[]string]{Value: v, From: from}
	}
}

func set[T any](dst *setting[T], v *T, from *field.Path) {
	if v != nil {
		*dst = setting[T]{Value: *v, From: from}
	}
}

// allows checks the values a DataVisualisation picks for itself: each of
// the right form, and one the platform allows (the configured value, or one
// its list names). Each error names the field, the value and what is
// allowed.
func (s Settings) allows(dm *imDataManager) field.ErrorList {
	var errs field.ErrorList
	for _, c := range []struct {
		v          string
		key        string
		form       func(setting[string]) field.ErrorList
		configured string
		allowed    setting[[]string]
	}{
		{v: dm.IngressClass, key: "ingressClass", form: validateOptionalName, configured: s.ingressClass.Value, allowed: s.allowedIngressClasses},
		{v: dm.IngressDomain, key: "ingressDomain", form: validateHost, configured: s.ingressDomain.Value, allowed: s.allowedIngressDomains},
		{v: dm.IngressTLSSecret, key: "ingressTlsSecret", form: validateOptionalName, configured: s.ingressTLSSecret.Value, allowed: s.allowedTLSSecrets},
		{v: dm.ServiceAccountName, key: "serviceAccountName", form: validateName, configured: defaultServiceAccountName, allowed: s.allowedServiceAccounts},
	} {
		if c.v == "" || c.v == c.configured || slices.Contains(c.allowed.Value, c.v) {
			continue
		}
		if form := c.form(dmField(c.v, c.key)); len(form) > 0 {
			errs = append(errs, form...)
			continue
		}
		allowed := slices.DeleteFunc(append([]string{c.configured}, c.allowed.Value...), func(v string) bool { return v == "" })
		errs = append(errs, field.Invalid(dmPath.Child(c.key), c.v,
			fmt.Sprintf("is not a value the platform allows: it allows %s (the configured value, and %s)", quotedList(allowed), c.allowed.From)))
	}
	return errs
}

// quotedList is a list of values as a message names them, or "none".
func quotedList(vs []string) string {
	if len(vs) == 0 {
		return "none"
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// withXR returns the settings overlaid by the DataVisualisation's own ingress
// fields, those that it sets.
func (s Settings) withXR(dm *imDataManager) Settings {
	for _, o := range []struct {
		v   string
		key string
		dst *setting[string]
	}{
		{v: dm.IngressClass, key: "ingressClass", dst: &s.ingressClass},
		{v: dm.IngressDomain, key: "ingressDomain", dst: &s.ingressDomain},
		{v: dm.IngressTLSSecret, key: "ingressTlsSecret", dst: &s.ingressTLSSecret},
	} {
		if o.v != "" {
			*o.dst = setting[string]{Value: o.v, From: dmPath.Child(o.key)}
		}
	}
	return s
}

// Validate checks every setting and returns one error per bad value, each
// naming the variable or Input field it came from. The ingress domain is not
// required here, because a DataVisualisation may bring its own.
func (s Settings) Validate() field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateHost(s.ingressDomain)...)
	errs = append(errs, validateOptionalName(s.ingressTLSSecret)...)
	errs = append(errs, validateOptionalName(s.ingressCertIssuer)...)
	errs = append(errs, validateImageRepository(s.image)...)
	errs = append(errs, validateOptionalName(s.ingressClass)...)
	errs = append(errs, validateOptionalName(s.imagePullSecret)...)
	errs = append(errs, validateNodeSelector(s.nodeSelectorKey, s.nodeSelectorValue)...)
	if s.applyPriorityClass.Value {
		errs = append(errs, validateName(s.priorityClassName)...)
	}
	errs = append(errs, validateID(s.fsGroup, 0)...)
	if !slices.Contains(modes, string(s.mode.Value)) {
		errs = append(errs, field.NotSupported(s.mode.From, s.mode.Value, modes))
	}
	errs = append(errs, validateProviderConfigRef(s.providerConfigRef)...)
	for _, l := range []setting[[]string]{s.allowedIngressClasses, s.allowedTLSSecrets, s.allowedServiceAccounts} {
		for i, v := range l.Value {
			errs = append(errs, validateName(setting[string]{Value: v, From: l.From.Index(i)})...)
		}
	}
	for i, v := range s.allowedIngressDomains.Value {
		errs = append(errs, validateHost(setting[string]{Value: v, From: s.allowedIngressDomains.From.Index(i)})...)
	}
	for i, v := range s.allowedLabelPrefixes.Value {
		errs = append(errs, validateLabelPrefix(setting[string]{Value: v, From: s.allowedLabelPrefixes.From.Index(i)})...)
	}
	for _, m := range []setting[string]{s.maxCPU, s.maxMemory} {
		if q, err := resource.ParseQuantity(m.Value); err != nil || q.Sign() <= 0 {
			errs = append(errs, field.Invalid(m.From, m.Value, "must be a positive quantity such as 8 or 32Gi"))
		}
	}
	if d, err := time.ParseDuration(s.startDeadline.Value); err != nil || d < time.Second || d%time.Second != 0 || d > math.MaxInt32*time.Second {
		errs = append(errs, field.Invalid(s.startDeadline.From, s.startDeadline.Value, "must be a duration of whole seconds, at least 1s, such as 10m"))
	}
	if _, err := time.Parse(time.RFC3339, s.rolloutStart.Value); s.rolloutStart.Value != "" && err != nil {
		errs = append(errs, field.Invalid(s.rolloutStart.From, s.rolloutStart.Value, "must be an RFC 3339 time such as 2026-12-01T18:00:00Z, or empty for no rollout"))
	}
	if d, err := time.ParseDuration(s.rolloutOver.Value); err != nil || d < 0 {
		errs = append(errs, field.Invalid(s.rolloutOver.From, s.rolloutOver.Value, "must be a duration such as 30m, or 0 for all at once"))
	}
	if _, err := parseSettingsConfigMap(s.configMap.Value, s.configMap.From); err != nil {
		errs = append(errs, err)
	}
	if _, ok := bodySize(s.maxProxyBodySize.Value); !ok {
		errs = append(errs, field.Invalid(s.maxProxyBodySize.From, s.maxProxyBodySize.Value, "must be a size such as 1g or 500m, or 0 to allow unlimited uploads"))
	}
	return errs
}

// validateLabelPrefix checks a label key prefix, such as example.org/: a
// DNS subdomain and a slash.
func validateLabelPrefix(s setting[string]) field.ErrorList {
	domain, ok := strings.CutSuffix(s.Value, "/")
	if !ok {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a label key prefix that ends in '/', such as example.org/")}
	}
	return invalid(s, validation.IsDNS1123Subdomain(domain))
}

// imageRepositoryPattern is the OCI distribution grammar of a repository
// with an optional registry host and port, and no tag or digest.
var imageRepositoryPattern = regexp.MustCompile(
	`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// validateHost checks an Ingress host that may be empty: a lower-case DNS
// name, not an IP address.
func validateHost(s setting[string]) field.ErrorList {
	if s.Value == "" {
		return nil
	}
	if net.ParseIP(s.Value) != nil {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be a DNS name, not an IP address")}
	}
	return invalid(s, validation.IsDNS1123Subdomain(s.Value))
}

// validateImageRepository checks an image repository without a tag.
func validateImageRepository(s setting[string]) field.ErrorList {
	if s.Value == "" {
		return field.ErrorList{field.Required(s.From, "")}
	}
	if !imageRepositoryPattern.MatchString(s.Value) {
		return field.ErrorList{field.Invalid(s.From, s.Value, "must be an image repository such as ghcr.io/org/name, with no tag or digest")}
	}
	return nil
}

// validateNodeSelector checks the Pod node selector; an empty key turns the
// node selector off.
func validateNodeSelector(key, value setting[string]) field.ErrorList {
	if key.Value == "" {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, invalid(key, validation.IsQualifiedName(key.Value))...)
	errs = append(errs, invalid(value, validation.IsValidLabelValue(value.Value))...)
	return errs
}

// validateProviderConfigRef checks the provider config of the Objects.
func validateProviderConfigRef(s setting[providerConfigRef]) field.ErrorList {
	var errs field.ErrorList
	kind := s.From.Child("kind")
	switch s.Value.Kind {
	case "ClusterProviderConfig", "ProviderConfig":
	default:
		errs = append(errs, field.NotSupported(kind, s.Value.Kind, []string{"ClusterProviderConfig", "ProviderConfig"}))
	}
	return append(errs, validateName(setting[string]{Value: s.Value.Name, From: s.From.Child("name")})...)
}
