package fn

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// The API version and kind of a DataVisualisation.
const (
	xrAPIVersion = "squonk.it/v1"
	xrKind       = "DataVisualisation"
)

// dataVisualisation is the part of a squonk.it/v1 DataVisualisation that the
// function reads. It is the one description of the DataVisualisation's
// fields: the XRD's schema is checked against it field by field
// (TestXRDSchemaMatchesTheGoType), so neither can drift from the other.
//
// A string left empty counts as absent, as it did for the viz operator; a
// nil pointer or slice is absent.
type dataVisualisation struct {
	Metadata xrMetadata `json:"metadata"`
	Spec     xrSpec     `json:"spec"`
}

type xrMetadata struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// UID is empty in a crossplane render preview, and set in a cluster.
	UID string `json:"uid"`
}

type xrSpec struct {
	IMDataManager imDataManager `json:"imDataManager"`
}

// imDataManager is what the Data Manager provides for an instance. The field
// order is the order in which errors about them are reported.
type imDataManager struct {
	IngressClass         string          `json:"ingressClass"`
	IngressDomain        string          `json:"ingressDomain"`
	IngressTLSSecret     string          `json:"ingressTlsSecret"`
	ImageTag             string          `json:"imageTag"`
	ServiceAccountName   string          `json:"serviceAccountName"`
	Resources            xrResources     `json:"resources"`
	SecurityContext      securityContext `json:"securityContext"`
	Project              project         `json:"project"`
	IngressProxyBodySize string          `json:"ingressProxyBodySize"`
	// ImagePullSecrets, when present, even empty, replaces the function's
	// default pull secret.
	ImagePullSecrets []string `json:"imagePullSecrets"`
	// Labels are Pod labels, each key=value.
	Labels []string `json:"labels"`
	// TaskID is accepted, and unused.
	TaskID string `json:"taskId"`
}

type xrResources struct {
	Requests resourceList `json:"requests"`
	Limits   resourceList `json:"limits"`
}

// resourceList holds quantities as the Data Manager writes them. Storage is
// accepted, and unused.
type resourceList struct {
	CPU     quantity `json:"cpu"`
	Memory  quantity `json:"memory"`
	Storage quantity `json:"storage"`
}

// A quantity is a Kubernetes resource quantity, such as 500m or 1Gi. Like
// Kubernetes, the function takes a whole number for one too.
type quantity string

type securityContext struct {
	RunAsUser  *int64 `json:"runAsUser"`
	RunAsGroup *int64 `json:"runAsGroup"`
	// FSGroup is accepted; the function's Input sets the Pod's fsGroup.
	FSGroup *int64 `json:"fsGroup"`
}

type project struct {
	ClaimName string `json:"claimName"`
	ID        string `json:"id"`
}

// Built-in defaults of a DataVisualisation's spec.imDataManager, as the viz
// operator had them.
const (
	defaultServiceAccountName = "default"
	defaultRequestsCPU        = "10m"
	defaultRequestsMemory     = "256Mi"
	defaultLimitsCPU          = "1"
	defaultLimitsMemory       = "1Gi"
	defaultRunAsUser          = int64(1000)
	defaultRunAsGroup         = int64(100)
	defaultProxyBodySize      = "1m"
)

// setDefaults fills what the DataVisualisation leaves out with the built-in
// defaults, as an API server would, so that the rules check, and the
// instance uses, the same values.
func (dm *imDataManager) setDefaults() {
	for _, d := range []struct {
		v   *string
		def string
	}{
		{v: &dm.ServiceAccountName, def: defaultServiceAccountName},
		{v: (*string)(&dm.Resources.Requests.CPU), def: defaultRequestsCPU},
		{v: (*string)(&dm.Resources.Requests.Memory), def: defaultRequestsMemory},
		{v: (*string)(&dm.Resources.Limits.CPU), def: defaultLimitsCPU},
		{v: (*string)(&dm.Resources.Limits.Memory), def: defaultLimitsMemory},
		{v: &dm.IngressProxyBodySize, def: defaultProxyBodySize},
	} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	if dm.SecurityContext.RunAsUser == nil {
		dm.SecurityContext.RunAsUser = ptr.To(defaultRunAsUser)
	}
	if dm.SecurityContext.RunAsGroup == nil {
		dm.SecurityContext.RunAsGroup = ptr.To(defaultRunAsGroup)
	}
}

// The roots of the field paths of a DataVisualisation.
var (
	metadataPath = field.NewPath("metadata")
	dmPath       = field.NewPath("spec", "imDataManager")
)

// decodeXR decodes the observed DataVisualisation once, and sets its
// defaults. It returns an error
// for each field of the wrong type, naming the field and its value, and
// leaves that field absent. Fields the function does not read, such as those
// Crossplane adds, are skipped without being converted.
func decodeXR(req *fnv1.RunFunctionRequest) (*dataVisualisation, field.ErrorList) {
	xr := &dataVisualisation{}
	d := &decoder{}
	d.object(req.GetObserved().GetComposite().GetResource(), nil, xr)
	xr.Spec.IMDataManager.setDefaults()
	return xr, d.errs
}
