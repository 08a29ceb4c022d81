package fn

import (
	"bytes"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/informaticsmatters/function-squonk2-viz/input/v1beta1"
)

// Built-in defaults of the settings, as the viz operator had them.
const (
	DefaultImage              = "ghcr.io/informaticsmatters/squonk2-viz-app"
	DefaultIngressClass       = "nginx"
	DefaultNodeSelectorKey    = "informaticsmatters.com/purpose-application"
	DefaultNodeSelectorValue  = "yes"
	DefaultPriorityClassName  = "im-application-low"
	DefaultFSGroup            = int64(100)
	DefaultProviderConfigKind = "ClusterProviderConfig"
	DefaultProviderConfigName = "default"
)

// The environment variables the function reads once, at start.
const (
	EnvIngressDomain      = "INGRESS_DOMAIN"
	EnvIngressTLSSecret   = "INGRESS_TLS_SECRET"
	EnvIngressCertIssuer  = "INGRESS_CERT_ISSUER"
	EnvImage              = "SVO_IMAGE"
	EnvIngressClass       = "SVO_INGRESS_CLASS"
	EnvImagePullSecret    = "SVO_IMAGE_PULL_SECRET"
	EnvNodeSelectorKey    = "SVO_POD_NODE_SELECTOR_KEY"
	EnvNodeSelectorValue  = "SVO_POD_NODE_SELECTOR_VALUE"
	EnvApplyPriorityClass = "SVO_APPLY_POD_PRIORITY_CLASS"
	EnvPriorityClassName  = "SVO_DEFAULT_POD_PRIORITY_CLASS"
)

// A Setting is a configured value and the place it came from, so that an
// error about it names the field or variable that the user has to change.
type Setting[T any] struct {
	Value T
	From  *field.Path
}

// ProviderConfigRef names the provider-kubernetes provider config that the
// composed Objects use.
type ProviderConfigRef struct {
	Kind string
	Name string
}

// Settings are the function's own configuration: the viz operator's
// environment variables, overlaid by the Composition's Input.
type Settings struct {
	IngressDomain      Setting[string]
	IngressTLSSecret   Setting[string]
	IngressCertIssuer  Setting[string]
	Image              Setting[string]
	IngressClass       Setting[string]
	ImagePullSecret    Setting[string]
	NodeSelectorKey    Setting[string]
	NodeSelectorValue  Setting[string]
	ApplyPriorityClass Setting[bool]
	PriorityClassName  Setting[string]
	FSGroup            Setting[int64]
	ProviderConfigRef  Setting[ProviderConfigRef]
}

var defaultPath = field.NewPath("default")

// DefaultSettings returns the built-in defaults.
func DefaultSettings() Settings {
	return Settings{
		IngressDomain:      Setting[string]{From: defaultPath.Child("ingressDomain")},
		IngressTLSSecret:   Setting[string]{From: defaultPath.Child("ingressTlsSecret")},
		IngressCertIssuer:  Setting[string]{From: defaultPath.Child("ingressCertIssuer")},
		Image:              Setting[string]{Value: DefaultImage, From: defaultPath.Child("image")},
		IngressClass:       Setting[string]{Value: DefaultIngressClass, From: defaultPath.Child("ingressClass")},
		ImagePullSecret:    Setting[string]{From: defaultPath.Child("imagePullSecret")},
		NodeSelectorKey:    Setting[string]{Value: DefaultNodeSelectorKey, From: defaultPath.Child("nodeSelector", "key")},
		NodeSelectorValue:  Setting[string]{Value: DefaultNodeSelectorValue, From: defaultPath.Child("nodeSelector", "value")},
		ApplyPriorityClass: Setting[bool]{From: defaultPath.Child("priorityClass", "apply")},
		PriorityClassName:  Setting[string]{Value: DefaultPriorityClassName, From: defaultPath.Child("priorityClass", "name")},
		FSGroup:            Setting[int64]{Value: DefaultFSGroup, From: defaultPath.Child("fsGroup")},
		ProviderConfigRef: Setting[ProviderConfigRef]{
			Value: ProviderConfigRef{Kind: DefaultProviderConfigKind, Name: DefaultProviderConfigName},
			From:  defaultPath.Child("providerConfigRef"),
		},
	}
}

// WithEnvironment returns the settings overlaid by the operator's environment
// variables, looked up with lookup (os.LookupEnv in production). As with the
// operator, a variable that is set to the empty string counts as unset, and
// any value of SVO_APPLY_POD_PRIORITY_CLASS applies the priority class.
func (s Settings) WithEnvironment(lookup func(string) (string, bool)) Settings {
	env := func(dst *Setting[string], name string) {
		if v, ok := lookup(name); ok && v != "" {
			*dst = Setting[string]{Value: v, From: field.NewPath("env").Key(name)}
		}
	}
	env(&s.IngressDomain, EnvIngressDomain)
	env(&s.IngressTLSSecret, EnvIngressTLSSecret)
	env(&s.IngressCertIssuer, EnvIngressCertIssuer)
	env(&s.Image, EnvImage)
	env(&s.IngressClass, EnvIngressClass)
	env(&s.ImagePullSecret, EnvImagePullSecret)
	env(&s.NodeSelectorKey, EnvNodeSelectorKey)
	env(&s.NodeSelectorValue, EnvNodeSelectorValue)
	env(&s.PriorityClassName, EnvPriorityClassName)
	if v, ok := lookup(EnvApplyPriorityClass); ok && v != "" {
		s.ApplyPriorityClass = Setting[bool]{Value: true, From: field.NewPath("env").Key(EnvApplyPriorityClass)}
	}
	return s
}

// ReadInput returns the Composition's Input for this step; an empty one when
// the step has none. Unknown fields, such as a misspelt setting, are errors.
func ReadInput(req *fnv1.RunFunctionRequest) (*v1beta1.Input, error) {
	in := &v1beta1.Input{}
	if req.GetInput() == nil {
		return in, nil
	}
	b, err := protojson.Marshal(req.GetInput())
	if err != nil {
		return nil, errors.Wrapf(err, "cannot read the function's Input (%s)", inputPath)
	}
	// encoding/json, unlike the SDK's decoder, words its errors the same way
	// every time, and they name the field.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return nil, errors.Wrapf(err, "cannot read the function's Input (%s)", inputPath)
	}
	return in, nil
}

// inputPath is the root of the field paths of the Composition's Input.
var inputPath = field.NewPath("input")

// WithInput returns the settings overlaid by the fields that the Composition's
// Input sets. A field set to the empty string clears the value below it, so
// that a Composition can, for example, turn off an environment's TLS secret.
func (s Settings) WithInput(in *v1beta1.Input) Settings {
	if in == nil {
		return s
	}
	set(&s.IngressDomain, in.IngressDomain, inputPath.Child("ingressDomain"))
	set(&s.IngressTLSSecret, in.IngressTLSSecret, inputPath.Child("ingressTlsSecret"))
	set(&s.IngressCertIssuer, in.IngressCertIssuer, inputPath.Child("ingressCertIssuer"))
	set(&s.Image, in.Image, inputPath.Child("image"))
	set(&s.IngressClass, in.IngressClass, inputPath.Child("ingressClass"))
	set(&s.ImagePullSecret, in.ImagePullSecret, inputPath.Child("imagePullSecret"))
	if ns := in.NodeSelector; ns != nil {
		set(&s.NodeSelectorKey, ns.Key, inputPath.Child("nodeSelector", "key"))
		set(&s.NodeSelectorValue, ns.Value, inputPath.Child("nodeSelector", "value"))
	}
	if pc := in.PriorityClass; pc != nil {
		set(&s.ApplyPriorityClass, pc.Apply, inputPath.Child("priorityClass", "apply"))
		set(&s.PriorityClassName, pc.Name, inputPath.Child("priorityClass", "name"))
	}
	set(&s.FSGroup, in.FSGroup, inputPath.Child("fsGroup"))
	if ref := in.ProviderConfigRef; ref != nil {
		s.ProviderConfigRef = Setting[ProviderConfigRef]{
			Value: ProviderConfigRef{Kind: ref.Kind, Name: ref.Name},
			From:  inputPath.Child("providerConfigRef"),
		}
	}
	return s
}

func set[T any](dst *Setting[T], v *T, from *field.Path) {
	if v != nil {
		*dst = Setting[T]{Value: *v, From: from}
	}
}

// Validate checks every setting and returns one error per bad value, each
// naming the variable or Input field it came from. The ingress domain is not
// required here, because a DataVisualisation may bring its own.
func (s Settings) Validate() field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateHost(s.IngressDomain)...)
	errs = append(errs, validateOptionalName(s.IngressTLSSecret)...)
	errs = append(errs, validateOptionalName(s.IngressCertIssuer)...)
	errs = append(errs, validateImageRepository(s.Image)...)
	errs = append(errs, validateOptionalName(s.IngressClass)...)
	errs = append(errs, validateOptionalName(s.ImagePullSecret)...)
	errs = append(errs, validateNodeSelector(s.NodeSelectorKey, s.NodeSelectorValue)...)
	if s.ApplyPriorityClass.Value {
		errs = append(errs, validateName(s.PriorityClassName)...)
	}
	errs = append(errs, validateID(s.FSGroup, 0)...)
	errs = append(errs, validateProviderConfigRef(s.ProviderConfigRef)...)
	return errs
}
