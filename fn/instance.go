package fn

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Built-in defaults of a DataVisualisation's spec.imDataManager, as the viz
// operator had them.
const (
	DefaultServiceAccountName = "default"
	DefaultRequestsCPU        = "10m"
	DefaultRequestsMemory     = "256Mi"
	DefaultLimitsCPU          = "1"
	DefaultLimitsMemory       = "1Gi"
	DefaultRunAsUser          = int64(1000)
	DefaultRunAsGroup         = int64(100)
	DefaultProxyBodySize      = "1m"
	DefaultInstanceOwner      = "Unknown"
)

// The suffixes of the Data Manager label keys that carry an instance's ID
// and its owner.
const (
	instanceIDLabelSuffix = "/instance-id"
	ownerLabelSuffix      = "/owner"
)

// selectorLabel is the Pod label the Deployment and Service select on.
const selectorLabel = "deployment"

// An Instance is a DataVisualisation resolved against the function's
// settings: every value the composed manifests need, with defaults applied
// and checked.
type Instance struct {
	// Name and Namespace are the DataVisualisation's.
	Name      string
	Namespace string

	// ObjectName names the Deployment, Service and Ingress: Name when it is
	// a valid Service name, else a name derived from it.
	ObjectName string

	Image              string
	ImagePullPolicy    corev1.PullPolicy
	ImagePullSecrets   []string
	ServiceAccountName string
	Resources          corev1.ResourceRequirements
	RunAsUser          int64
	RunAsGroup         int64
	FSGroup            int64
	NodeSelector       map[string]string
	PriorityClassName  string

	ProjectClaimName string
	ProjectID        string

	// PodLabels are the Data Manager's labels, in the order given.
	PodLabels  []Label
	InstanceID string
	Owner      string

	IngressClass      string
	IngressDomain     string
	IngressTLSSecret  string
	IngressCertIssuer string
	ProxyBodySize     string

	ProviderConfigRef ProviderConfigRef
}

// A Label is a Pod label from the Data Manager.
type Label struct {
	Key   string
	Value string
}

// BasePath is the path the viz-app serves under and the Ingress routes.
func (i *Instance) BasePath() string {
	return "/" + i.Name
}

// URL is where the Data Manager's users reach the instance.
func (i *Instance) URL() string {
	return "https://" + i.IngressDomain + i.BasePath()
}

var (
	metadataPath = field.NewPath("metadata")
	dmPath       = field.NewPath("spec", "imDataManager")
)

// NewInstance resolves a DataVisualisation (its unstructured content) against
// the settings. It returns every problem it finds, each naming the field and
// the value, or none and a complete Instance.
func NewInstance(xr map[string]any, s Settings) (*Instance, field.ErrorList) {
	r := &fieldReader{}
	meta, _ := r.object(xr, nil, "metadata")
	name, hasName := r.str(meta, metadataPath, "name")
	namespace, hasNamespace := r.str(meta, metadataPath, "namespace")
	if !hasName {
		r.errs = append(r.errs, field.Required(name.From, ""))
	}
	if !hasNamespace {
		r.errs = append(r.errs, field.Required(namespace.From, "a DataVisualisation is namespaced"))
	}
	spec, specPath := r.object(xr, nil, "spec")
	dm, _ := r.object(spec, specPath, "imDataManager")

	// The DataVisualisation's own ingress settings win over the function's.
	for _, o := range []struct {
		key string
		dst *Setting[string]
	}{
		{key: "ingressClass", dst: &s.IngressClass},
		{key: "ingressDomain", dst: &s.IngressDomain},
		{key: "ingressTlsSecret", dst: &s.IngressTLSSecret},
	} {
		if v, ok := r.str(dm, dmPath, o.key); ok {
			*o.dst = v
		}
	}
	errs := s.Validate()
	if s.IngressDomain.Value == "" {
		errs = append(errs, field.Required(dmPath.Child("ingressDomain"),
			fmt.Sprintf("no ingress domain in the DataVisualisation, the function's Input (%s) or its environment (%s)",
				inputPath.Child("ingressDomain"), EnvIngressDomain)))
	}

	i := &Instance{
		Name:              name.Value,
		Namespace:         namespace.Value,
		ObjectName:        ObjectName(name.Value),
		FSGroup:           s.FSGroup.Value,
		IngressClass:      s.IngressClass.Value,
		IngressDomain:     s.IngressDomain.Value,
		IngressTLSSecret:  s.IngressTLSSecret.Value,
		IngressCertIssuer: s.IngressCertIssuer.Value,
		ProviderConfigRef: s.ProviderConfigRef.Value,
	}
	if s.NodeSelectorKey.Value != "" {
		i.NodeSelector = map[string]string{s.NodeSelectorKey.Value: s.NodeSelectorValue.Value}
	}
	if s.ApplyPriorityClass.Value {
		i.PriorityClassName = s.PriorityClassName.Value
	}

	tag, _ := r.str(dm, dmPath, "imageTag")
	errs = append(errs, validateImageTag(tag)...)
	i.Image = s.Image.Value + ":" + tag.Value
	i.ImagePullPolicy = pullPolicy(tag.Value)

	sa := stringOr(r, dm, dmPath, "serviceAccountName", DefaultServiceAccountName)
	errs = append(errs, validateName(sa)...)
	i.ServiceAccountName = sa.Value

	var resErrs field.ErrorList
	i.Resources, resErrs = resources(r, dm)
	errs = append(errs, resErrs...)

	sc, scPath := r.object(dm, dmPath, "securityContext")
	user := integerOr(r, sc, scPath, "runAsUser", DefaultRunAsUser)
	group := integerOr(r, sc, scPath, "runAsGroup", DefaultRunAsGroup)
	r.integer(sc, scPath, "fsGroup") // Accepted, but the Input sets fsGroup.
	errs = append(errs, validateID(user, 1)...)
	errs = append(errs, validateID(group, 0)...)
	i.RunAsUser, i.RunAsGroup = user.Value, group.Value

	project, projectPath := r.object(dm, dmPath, "project")
	claim, _ := r.str(project, projectPath, "claimName")
	id, _ := r.str(project, projectPath, "id")
	errs = append(errs, validateName(claim)...)
	errs = append(errs, validateProjectID(id)...)
	i.ProjectClaimName, i.ProjectID = claim.Value, id.Value

	size := stringOr(r, dm, dmPath, "ingressProxyBodySize", DefaultProxyBodySize)
	errs = append(errs, validateProxyBodySize(size)...)
	i.ProxyBodySize = size.Value

	var secretErrs field.ErrorList
	i.ImagePullSecrets, secretErrs = imagePullSecrets(r, dm, s.ImagePullSecret)
	errs = append(errs, secretErrs...)

	var labelErrs field.ErrorList
	i.PodLabels, labelErrs = podLabels(r, dm, i.ObjectName)
	errs = append(errs, labelErrs...)
	i.InstanceID = labelValue(i.PodLabels, instanceIDLabelSuffix, i.Name)
	i.Owner = labelValue(i.PodLabels, ownerLabelSuffix, DefaultInstanceOwner)

	r.str(dm, dmPath, "taskId") // Accepted, unused.

	// Type errors first: they explain any Required error that follows.
	if errs = append(r.errs, errs...); len(errs) > 0 {
		return nil, errs
	}
	return i, nil
}

// pullPolicy is Always for the moving tags latest and stable, whose image
// changes under the same name, and IfNotPresent for every other tag.
func pullPolicy(tag string) corev1.PullPolicy {
	switch strings.ToLower(tag) {
	case "latest", "stable":
		return corev1.PullAlways
	default:
		return corev1.PullIfNotPresent
	}
}

func stringOr(r *fieldReader, m map[string]any, p *field.Path, key, def string) Setting[string] {
	if v, ok := r.str(m, p, key); ok {
		return v
	}
	return Setting[string]{Value: def, From: p.Child(key)}
}

func integerOr(r *fieldReader, m map[string]any, p *field.Path, key string, def int64) Setting[int64] {
	if v, ok := r.integer(m, p, key); ok {
		return v
	}
	return Setting[int64]{Value: def, From: p.Child(key)}
}

// resources reads the container's requests and limits, applying the
// defaults, and checks that each request fits its limit (the API server
// rejects a Pod whose request is larger). Storage is accepted but unused.
func resources(r *fieldReader, dm map[string]any) (corev1.ResourceRequirements, field.ErrorList) {
	res, resPath := r.object(dm, dmPath, "resources")
	requests, requestsPath := r.object(res, resPath, "requests")
	limits, limitsPath := r.object(res, resPath, "limits")

	var errs field.ErrorList
	parse := func(m map[string]any, p *field.Path, key, def string) (resource.Quantity, Setting[string]) {
		s, ok := r.quantity(m, p, key)
		if !ok {
			if def == "" {
				return resource.Quantity{}, s
			}
			s.Value = def
		}
		q, err := resource.ParseQuantity(s.Value)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(s.From, s.Value, "must be a quantity such as 500m, 2, 256Mi or 1Gi"))
		case q.Sign() < 0:
			errs = append(errs, field.Invalid(s.From, s.Value, "must not be negative"))
		}
		return q, s
	}
	rl := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, c := range []struct {
		name                 corev1.ResourceName
		defRequest, defLimit string
	}{
		{name: corev1.ResourceCPU, defRequest: DefaultRequestsCPU, defLimit: DefaultLimitsCPU},
		{name: corev1.ResourceMemory, defRequest: DefaultRequestsMemory, defLimit: DefaultLimitsMemory},
	} {
		before := len(errs)
		req, reqFrom := parse(requests, requestsPath, string(c.name), c.defRequest)
		lim, limFrom := parse(limits, limitsPath, string(c.name), c.defLimit)
		rl.Requests[c.name], rl.Limits[c.name] = req, lim
		if len(errs) == before && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(reqFrom.From, reqFrom.Value,
				fmt.Sprintf("must be less than or equal to the %s limit %q (%s)", c.name, limFrom.Value, limFrom.From)))
		}
	}
	parse(requests, requestsPath, string(corev1.ResourceStorage), "")
	parse(limits, limitsPath, string(corev1.ResourceStorage), "")
	return rl, errs
}

// imagePullSecrets returns the DataVisualisation's own list of pull secrets
// when it has one, else the function's default pull secret, if any.
func imagePullSecrets(r *fieldReader, dm map[string]any, def Setting[string]) ([]string, field.ErrorList) {
	list, ok := r.strings(dm, dmPath, "imagePullSecrets")
	if !ok {
		if def.Value == "" {
			return nil, nil
		}
		return []string{def.Value}, nil
	}
	var errs field.ErrorList
	names := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if seen[s.Value] {
			errs = append(errs, field.Duplicate(s.From, s.Value))
			continue
		}
		seen[s.Value] = true
		errs = append(errs, validateName(s)...)
		names = append(names, s.Value)
	}
	return names, errs
}

// podLabels parses the Data Manager's key=value labels. Each must be a valid
// Kubernetes label, no key may have two values, and none may change the
// selector label that ties the Pod to its Deployment and Service.
func podLabels(r *fieldReader, dm map[string]any, objectName string) ([]Label, field.ErrorList) {
	list, _ := r.strings(dm, dmPath, "labels")
	var errs field.ErrorList
	labels := make([]Label, 0, len(list))
	first := make(map[string]Setting[string], len(list))
	for _, s := range list {
		key, value, ok := strings.Cut(s.Value, "=")
		if !ok {
			errs = append(errs, field.Invalid(s.From, s.Value, "must be key=value"))
			continue
		}
		if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
			errs = append(errs, field.Invalid(s.From, s.Value, "key "+strings.Join(msgs, "; ")))
			continue
		}
		if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
			errs = append(errs, field.Invalid(s.From, s.Value, "value "+strings.Join(msgs, "; ")))
			continue
		}
		if key == selectorLabel && value != objectName {
			errs = append(errs, field.Invalid(s.From, s.Value,
				fmt.Sprintf("must not change the selector label %s=%s", selectorLabel, objectName)))
			continue
		}
		if prev, dup := first[key]; dup {
			if prev.Value != s.Value {
				errs = append(errs, field.Invalid(s.From, s.Value,
					fmt.Sprintf("gives key %q a second value; %s is %q", key, prev.From, prev.Value)))
			}
			continue
		}
		first[key] = s
		labels = append(labels, Label{Key: key, Value: value})
	}
	return labels, errs
}

// labelValue returns the value of the first label whose key ends in suffix,
// or def.
func labelValue(labels []Label, suffix, def string) string {
	for _, l := range labels {
		if strings.HasSuffix(l.Key, suffix) {
			return l.Value
		}
	}
	return def
}
