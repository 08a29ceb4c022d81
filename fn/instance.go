package fn

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The Data Manager label keys that carry an instance's ID and its owner.
const (
	instanceIDLabel = dmLabelPrefix + "instance-id"
	ownerLabel      = dmLabelPrefix + "owner"
)

// selectorLabel is the Pod label the Deployment and Service select on.
const selectorLabel = "deployment"

// defaultInstanceOwner is DM_INSTANCE_OWNER when no label names the owner.
const defaultInstanceOwner = "Unknown"

// An instance is a valid DataVisualisation resolved against the function's
// settings: every value the composed manifests need.
type instance struct {
	// name, namespace and uid are the DataVisualisation's.
	name      string
	namespace string
	uid       string

	// objectName names the Deployment, Service and Ingress: name when it is
	// a valid Service name, else a name derived from it.
	objectName string

	image              string
	imagePullPolicy    corev1.PullPolicy
	imagePullSecrets   []string
	serviceAccountName string
	resources          corev1.ResourceRequirements
	runAsUser          int64
	runAsGroup         int64
	fsGroup            int64
	nodeSelector       map[string]string
	priorityClassName  string

	projectClaimName string
	projectID        string

	// podLabels are the Data Manager's labels, in the order given, each key
	// once.
	podLabels  []label
	instanceID string
	owner      string

	ingressClass      string
	ingressDomain     string
	ingressTLSSecret  string
	ingressCertIssuer string
	proxyBodySize     string

	mode              mode
	providerConfigRef providerConfigRef

	// startDeadline is how long the instance may take to start.
	startDeadline time.Duration

	// rollout gives it the current Pod template on purpose.
	rollout rollout
}

// A label is a Pod label from the Data Manager.
type label struct {
	key   string
	value string
}

// newInstance resolves a DataVisualisation that validate accepted.
func newInstance(xr *dataVisualisation, s Settings) *instance {
	dm := &xr.Spec.IMDataManager
	i := &instance{
		name:               xr.Metadata.Name,
		namespace:          xr.Metadata.Namespace,
		uid:                xr.Metadata.UID,
		objectName:         objectName(xr.Metadata.Name),
		image:              s.image.Value + ":" + dm.ImageTag,
		imagePullPolicy:    pullPolicy(dm.ImageTag),
		imagePullSecrets:   dm.ImagePullSecrets,
		serviceAccountName: dm.ServiceAccountName,
		resources: corev1.ResourceRequirements{
			// validate has parsed each of them.
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(string(dm.Resources.Requests.CPU)),
				corev1.ResourceMemory: resource.MustParse(string(dm.Resources.Requests.Memory)),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(string(dm.Resources.Limits.CPU)),
				corev1.ResourceMemory: resource.MustParse(string(dm.Resources.Limits.Memory)),
			},
		},
		runAsUser:         *dm.SecurityContext.RunAsUser,
		runAsGroup:        *dm.SecurityContext.RunAsGroup,
		fsGroup:           s.fsGroup.Value,
		projectClaimName:  dm.Project.ClaimName,
		projectID:         dm.Project.ID,
		podLabels:         podLabels(dm.Labels),
		ingressClass:      s.ingressClass.Value,
		ingressDomain:     s.ingressDomain.Value,
		ingressTLSSecret:  s.ingressTLSSecret.Value,
		ingressCertIssuer: s.ingressCertIssuer.Value,
		proxyBodySize:     dm.IngressProxyBodySize,
		mode:              s.mode.Value,
		providerConfigRef: s.providerConfigRef.Value,
		startDeadline:     mustDuration(s.startDeadline.Value),
		rollout:           rollout{over: mustDuration(s.rolloutOver.Value)},
	}
	if s.rolloutStart.Value != "" {
		// Settings.Validate has parsed it.
		i.rollout.start, _ = time.Parse(time.RFC3339, s.rolloutStart.Value)
	}
	if dm.ImagePullSecrets == nil && s.imagePullSecret.Value != "" {
		i.imagePullSecrets = []string{s.imagePullSecret.Value}
	}
	if s.nodeSelectorKey.Value != "" {
		i.nodeSelector = map[string]string{s.nodeSelectorKey.Value: s.nodeSelectorValue.Value}
	}
	if s.applyPriorityClass.Value {
		i.priorityClassName = s.priorityClassName.Value
	}
	i.instanceID = labelValue(i.podLabels, instanceIDLabel, i.name)
	i.owner = labelValue(i.podLabels, ownerLabel, defaultInstanceOwner)
	return i
}

// mustDuration parses a duration that Settings.Validate has parsed.
func mustDuration(v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(err)
	}
	return d
}

// start is what the function watches of the instance to say why it has not
// started.
func (i *instance) start() start {
	return start{namespace: i.namespace, selector: i.selector(), claim: i.projectClaimName, deadline: i.startDeadline.String()}
}

// basePath is the path the viz-app serves under and the Ingress routes.
func (i *instance) basePath() string {
	return "/" + i.name
}

// url is where the Data Manager's users reach the instance.
func (i *instance) url() string {
	return "https://" + i.ingressDomain + i.basePath()
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

// podLabels splits the Data Manager's key=value labels, keeping the first of
// each key (validate refused a second value).
func podLabels(list []string) []label {
	labels := make([]label, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, l := range list {
		key, value, _ := strings.Cut(l, "=")
		if !seen[key] {
			seen[key] = true
			labels = append(labels, label{key: key, value: value})
		}
	}
	return labels
}

// labelValue returns the value of the label with the key, or def.
func labelValue(labels []label, key, def string) string {
	for _, l := range labels {
		if l.key == key {
			return l.value
		}
	}
	return def
}
