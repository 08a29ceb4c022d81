// Package v1beta1 contains the input type for this Function.
// +kubebuilder:object:generate=true
// +groupName=viz.fn.squonk.it
// +versionName=v1beta1
package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Input is the function's step input in a Composition. It carries the settings
// of the viz operator it replaces (its SVO_* and INGRESS_* environment
// variables). Every field is optional: a field that is set wins over the
// function's environment variable, and a DataVisualisation's own
// spec.imDataManager field wins over both.
//
// This isn't a custom resource, in the sense that we never install its CRD.
// It is a KRM-like object, so we generate a CRD to describe its schema.
// Crossplane does not validate or default it: the function does, in code.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories=crossplane
type Input struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// IngressDomain is the default Ingress host of an instance
	// (INGRESS_DOMAIN). An ingress domain is required somewhere: here, in
	// the environment or in the DataVisualisation.
	// +optional
	IngressDomain *string `json:"ingressDomain,omitempty"`

	// IngressTLSSecret is the default TLS Secret of an instance's Ingress
	// (INGRESS_TLS_SECRET). When it is empty, cert-manager is used if an
	// issuer is set.
	// +optional
	IngressTLSSecret *string `json:"ingressTlsSecret,omitempty"`

	// IngressCertIssuer is the cert-manager ClusterIssuer that issues the
	// Ingress certificate when there is no TLS Secret (INGRESS_CERT_ISSUER).
	// +optional
	IngressCertIssuer *string `json:"ingressCertIssuer,omitempty"`

	// Image is the viz-app image repository, without a tag (SVO_IMAGE).
	// The tag comes from the DataVisualisation's spec.imDataManager.imageTag.
	// +optional
	Image *string `json:"image,omitempty"`

	// IngressClass is the default Ingress class (SVO_INGRESS_CLASS).
	// +optional
	IngressClass *string `json:"ingressClass,omitempty"`

	// ImagePullSecret names the kubernetes.io/dockerconfigjson Secret used to
	// pull the image (SVO_IMAGE_PULL_SECRET). The function only references
	// it; the Secret must exist in each Data Manager namespace. An empty
	// string means no pull secret.
	// +optional
	ImagePullSecret *string `json:"imagePullSecret,omitempty"`

	// NodeSelector is the node selector of instance Pods
	// (SVO_POD_NODE_SELECTOR_KEY and SVO_POD_NODE_SELECTOR_VALUE).
	// +optional
	NodeSelector *NodeSelector `json:"nodeSelector,omitempty"`

	// PriorityClass controls the priority class of instance Pods
	// (SVO_APPLY_POD_PRIORITY_CLASS and SVO_DEFAULT_POD_PRIORITY_CLASS).
	// +optional
	PriorityClass *PriorityClass `json:"priorityClass,omitempty"`

	// FSGroup is the Pod fsGroup: the group that owns the Project files.
	// Defaults to 100.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	FSGroup *int64 `json:"fsGroup,omitempty"`

	// Mode is how an instance's Deployment, Service and Ingress are
	// composed: Provider (the default) wraps each in a provider-kubernetes
	// Object, which applies it; Direct has Crossplane apply them itself,
	// with no provider in the path.
	// +kubebuilder:validation:Enum=Provider;Direct
	// +optional
	Mode *Mode `json:"mode,omitempty"`

	// ProviderConfigRef names the provider-kubernetes provider config the
	// composed Objects use, in the Provider mode. Defaults to the
	// ClusterProviderConfig "default".
	// +optional
	ProviderConfigRef *ProviderConfigReference `json:"providerConfigRef,omitempty"`

	// Allowed lists what a DataVisualisation may pick beyond the configured
	// values (SVO_ALLOWED_*). A list that is set replaces the environment's.
	// +optional
	Allowed *Allowed `json:"allowed,omitempty"`

	// Maxima bound the sizes a DataVisualisation may ask for (SVO_MAX_*).
	// +optional
	Maxima *Maxima `json:"maxima,omitempty"`

	// StartDeadline is how long an instance may take to start before its
	// DataVisualisation says StartDeadlineExceeded, a duration such as 10m
	// (SVO_START_DEADLINE). It is also the Deployment's progress deadline.
	// Nothing is deleted at the deadline. Defaults to 10m.
	// +optional
	StartDeadline *string `json:"startDeadline,omitempty"`

	// Rollout gives running instances the current Pod template on purpose.
	// Otherwise an instance keeps the Pod template it was composed with
	// until its own spec.imDataManager changes, so that a new release or
	// setting restarts no running session.
	// +optional
	Rollout *Rollout `json:"rollout,omitempty"`
}

// A Rollout gives every instance whose Pod template was composed before
// Start the current one (restarting its Pod), each at a moment of its own
// between Start and Start+Over, spread evenly by the instance's uid.
type Rollout struct {
	// Start is when the rollout begins, an RFC 3339 time such as
	// 2026-12-01T18:00:00Z (SVO_ROLLOUT_START). Empty: no rollout.
	// +optional
	Start *string `json:"start,omitempty"`

	// Over is how long the rollout takes, a duration such as 30m
	// (SVO_ROLLOUT_OVER). 0 gives every instance the current template at
	// Start. Defaults to 1h.
	// +optional
	Over *string `json:"over,omitempty"`
}

// Allowed lists the values a DataVisualisation may pick. The configured
// value of each (the ingress domain, class and TLS Secret, and the service
// account default) is always allowed.
type Allowed struct {
	// IngressDomains are hosts a DataVisualisation's ingressDomain may name
	// (SVO_ALLOWED_INGRESS_DOMAINS).
	// +optional
	IngressDomains []string `json:"ingressDomains,omitempty"`

	// IngressClasses are classes its ingressClass may name
	// (SVO_ALLOWED_INGRESS_CLASSES).
	// +optional
	IngressClasses []string `json:"ingressClasses,omitempty"`

	// TLSSecrets are Secrets its ingressTlsSecret may name
	// (SVO_ALLOWED_TLS_SECRETS).
	// +optional
	TLSSecrets []string `json:"tlsSecrets,omitempty"`

	// ServiceAccounts are service accounts its serviceAccountName may name,
	// besides default (SVO_ALLOWED_SERVICE_ACCOUNTS).
	// +optional
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`

	// LabelPrefixes are Pod label key prefixes its labels may use, besides
	// the Data Manager's data-manager.informaticsmatters.com/
	// (SVO_ALLOWED_LABEL_PREFIXES).
	// +optional
	LabelPrefixes []string `json:"labelPrefixes,omitempty"`
}

// Maxima bound what a DataVisualisation may ask for.
type Maxima struct {
	// CPU is the most CPU an instance may request or be limited to
	// (SVO_MAX_CPU). Defaults to 8.
	// +optional
	CPU *string `json:"cpu,omitempty"`

	// Memory is the most memory an instance may request or be limited to
	// (SVO_MAX_MEMORY). Defaults to 32Gi.
	// +optional
	Memory *string `json:"memory,omitempty"`

	// ProxyBodySize is the largest ingressProxyBodySize (SVO_MAX_PROXY_BODY_SIZE).
	// 0 allows unlimited uploads. Defaults to 1g.
	// +optional
	ProxyBodySize *string `json:"proxyBodySize,omitempty"`
}

// A Mode is how the function composes an instance's objects.
type Mode string

// The modes.
const (
	// ModeProvider wraps each object in a provider-kubernetes Object.
	ModeProvider Mode = "Provider"
	// ModeDirect composes each object itself: Crossplane applies it.
	ModeDirect Mode = "Direct"
)

// NodeSelector is a single node-selector term of instance Pods.
type NodeSelector struct {
	// Key is the node label key. An empty key means no node selector.
	// +optional
	Key *string `json:"key,omitempty"`

	// Value is the node label value.
	// +optional
	Value *string `json:"value,omitempty"`
}

// PriorityClass controls the priority class of instance Pods.
type PriorityClass struct {
	// Apply sets priorityClassName on instance Pods when true.
	// +optional
	Apply *bool `json:"apply,omitempty"`

	// Name is the priority class applied. Defaults to im-application-low.
	// +optional
	Name *string `json:"name,omitempty"`
}

// ProviderConfigReference names a provider-kubernetes provider config.
type ProviderConfigReference struct {
	// Kind is ClusterProviderConfig, or ProviderConfig for a provider config
	// in the DataVisualisation's namespace.
	// +kubebuilder:validation:Enum=ClusterProviderConfig;ProviderConfig
	Kind string `json:"kind"`

	// Name of the provider config.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}
