package fn

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Built-in defaults of the settings, as the viz operator had them.
const (
	defaultImage              = "ghcr.io/informaticsmatters/squonk2-viz-app"
	defaultIngressClass       = "nginx"
	defaultNodeSelectorKey    = "informaticsmatters.com/purpose-application"
	defaultNodeSelectorValue  = "yes"
	defaultPriorityClassName  = "im-application-low"
	defaultFSGroup            = int64(100)
	defaultProviderConfigKind = "ClusterProviderConfig"
	defaultProviderConfigName = "default"
	defaultMaxCPU             = "8"
	defaultMaxMemory          = "32Gi"
	defaultMaxProxyBodySize   = "1g"
	defaultStartDeadline      = "10m"
	defaultRolloutOver        = "1h"
)

var defaultPath = field.NewPath("default")

// DefaultSettings returns the built-in defaults.
func DefaultSettings() Settings {
	return Settings{
		ingressDomain:      setting[string]{From: defaultPath.Child("ingressDomain")},
		ingressTLSSecret:   setting[string]{From: defaultPath.Child("ingressTlsSecret")},
		ingressCertIssuer:  setting[string]{From: defaultPath.Child("ingressCertIssuer")},
		image:              setting[string]{Value: defaultImage, From: defaultPath.Child("image")},
		ingressClass:       setting[string]{Value: defaultIngressClass, From: defaultPath.Child("ingressClass")},
		imagePullSecret:    setting[string]{From: defaultPath.Child("imagePullSecret")},
		nodeSelectorKey:    setting[string]{Value: defaultNodeSelectorKey, From: defaultPath.Child("nodeSelector", "key")},
		nodeSelectorValue:  setting[string]{Value: defaultNodeSelectorValue, From: defaultPath.Child("nodeSelector", "value")},
		applyPriorityClass: setting[bool]{From: defaultPath.Child("priorityClass", "apply")},
		priorityClassName:  setting[string]{Value: defaultPriorityClassName, From: defaultPath.Child("priorityClass", "name")},
		fsGroup:            setting[int64]{Value: defaultFSGroup, From: defaultPath.Child("fsGroup")},
		mode:               setting[mode]{Value: modeProvider, From: defaultPath.Child("mode")},
		providerConfigRef: setting[providerConfigRef]{
			Value: providerConfigRef{Kind: defaultProviderConfigKind, Name: defaultProviderConfigName},
			From:  defaultPath.Child("providerConfigRef"),
		},
		allowedIngressDomains:  setting[[]string]{From: defaultPath.Child("allowed", "ingressDomains")},
		allowedIngressClasses:  setting[[]string]{From: defaultPath.Child("allowed", "ingressClasses")},
		allowedTLSSecrets:      setting[[]string]{From: defaultPath.Child("allowed", "tlsSecrets")},
		allowedServiceAccounts: setting[[]string]{From: defaultPath.Child("allowed", "serviceAccounts")},
		allowedLabelPrefixes:   setting[[]string]{From: defaultPath.Child("allowed", "labelPrefixes")},
		maxCPU:                 setting[string]{Value: defaultMaxCPU, From: defaultPath.Child("maxima", "cpu")},
		maxMemory:              setting[string]{Value: defaultMaxMemory, From: defaultPath.Child("maxima", "memory")},
		maxProxyBodySize:       setting[string]{Value: defaultMaxProxyBodySize, From: defaultPath.Child("maxima", "proxyBodySize")},
		startDeadline:          setting[string]{Value: defaultStartDeadline, From: defaultPath.Child("startDeadline")},
		rolloutStart:           setting[string]{From: defaultPath.Child("rollout", "start")},
		configMap:              setting[string]{From: defaultPath.Child("configMap")},
		rolloutOver:            setting[string]{Value: defaultRolloutOver, From: defaultPath.Child("rollout", "over")},
	}
}

// The environment variables the function reads once, at start.
const (
	envIngressDomain      = "INGRESS_DOMAIN"
	envIngressTLSSecret   = "INGRESS_TLS_SECRET"
	envIngressCertIssuer  = "INGRESS_CERT_ISSUER"
	envImage              = "SVO_IMAGE"
	envIngressClass       = "SVO_INGRESS_CLASS"
	envImagePullSecret    = "SVO_IMAGE_PULL_SECRET"
	envNodeSelectorKey    = "SVO_POD_NODE_SELECTOR_KEY"
	envNodeSelectorValue  = "SVO_POD_NODE_SELECTOR_VALUE"
	envApplyPriorityClass = "SVO_APPLY_POD_PRIORITY_CLASS"
	envPriorityClassName  = "SVO_DEFAULT_POD_PRIORITY_CLASS"

	envAllowedIngressDomains  = "SVO_ALLOWED_INGRESS_DOMAINS"
	envAllowedIngressClasses  = "SVO_ALLOWED_INGRESS_CLASSES"
	envAllowedTLSSecrets      = "SVO_ALLOWED_TLS_SECRETS"
	envAllowedServiceAccounts = "SVO_ALLOWED_SERVICE_ACCOUNTS"
	envAllowedLabelPrefixes   = "SVO_ALLOWED_LABEL_PREFIXES"
	envMaxCPU                 = "SVO_MAX_CPU"
	envMaxMemory              = "SVO_MAX_MEMORY"
	envMaxProxyBodySize       = "SVO_MAX_PROXY_BODY_SIZE"
	envStartDeadline          = "SVO_START_DEADLINE"
	envRolloutStart           = "SVO_ROLLOUT_START"
	envRolloutOver            = "SVO_ROLLOUT_OVER"
	envSettingsConfigMap      = "SVO_SETTINGS_CONFIGMAP"
)

// environment describes each variable: what it sets, and how.
var environment = []struct {
	name string
	help string
	set  func(s *Settings, v string, from *field.Path)
}{
	{envIngressDomain, "Ingress host of every instance, unless the Input or the DataVisualisation sets one.", str(func(s *Settings) *setting[string] { return &s.ingressDomain })},
	{envIngressTLSSecret, "TLS Secret of every instance's Ingress: one certificate for the domain.", str(func(s *Settings) *setting[string] { return &s.ingressTLSSecret })},
	{envIngressCertIssuer, "cert-manager ClusterIssuer of a certificate per instance, when there is no TLS Secret.", str(func(s *Settings) *setting[string] { return &s.ingressCertIssuer })},
	{envImage, "viz-app image repository, without a tag (" + defaultImage + ").", str(func(s *Settings) *setting[string] { return &s.image })},
	{envIngressClass, "Ingress class (" + defaultIngressClass + ").", str(func(s *Settings) *setting[string] { return &s.ingressClass })},
	{envImagePullSecret, "image pull Secret that every instance references.", str(func(s *Settings) *setting[string] { return &s.imagePullSecret })},
	{envNodeSelectorKey, "Pod node selector key (" + defaultNodeSelectorKey + ").", str(func(s *Settings) *setting[string] { return &s.nodeSelectorKey })},
	{envNodeSelectorValue, "Pod node selector value (" + defaultNodeSelectorValue + ").", str(func(s *Settings) *setting[string] { return &s.nodeSelectorValue })},
	{envApplyPriorityClass, "any value gives Pods a priority class.", func(s *Settings, _ string, from *field.Path) {
		s.applyPriorityClass = setting[bool]{Value: true, From: from}
	}},
	{envPriorityClassName, "the priority class (" + defaultPriorityClassName + ").", str(func(s *Settings) *setting[string] { return &s.priorityClassName })},
	{envAllowedIngressDomains, "comma-separated hosts a DataVisualisation's ingressDomain may name, besides INGRESS_DOMAIN.", list(func(s *Settings) *setting[[]string] { return &s.allowedIngressDomains })},
	{envAllowedIngressClasses, "comma-separated classes its ingressClass may name, besides SVO_INGRESS_CLASS.", list(func(s *Settings) *setting[[]string] { return &s.allowedIngressClasses })},
	{envAllowedTLSSecrets, "comma-separated Secrets its ingressTlsSecret may name, besides INGRESS_TLS_SECRET.", list(func(s *Settings) *setting[[]string] { return &s.allowedTLSSecrets })},
	{envAllowedServiceAccounts, "comma-separated service accounts its serviceAccountName may name, besides default.", list(func(s *Settings) *setting[[]string] { return &s.allowedServiceAccounts })},
	{envAllowedLabelPrefixes, "comma-separated label key prefixes its labels may use, besides data-manager.informaticsmatters.com/.", list(func(s *Settings) *setting[[]string] { return &s.allowedLabelPrefixes })},
	{envMaxCPU, "the most CPU an instance may request or be limited to (" + defaultMaxCPU + ").", str(func(s *Settings) *setting[string] { return &s.maxCPU })},
	{envMaxMemory, "the most memory an instance may request or be limited to (" + defaultMaxMemory + ").", str(func(s *Settings) *setting[string] { return &s.maxMemory })},
	{envMaxProxyBodySize, "the largest ingressProxyBodySize; 0 allows unlimited uploads (" + defaultMaxProxyBodySize + ").", str(func(s *Settings) *setting[string] { return &s.maxProxyBodySize })},
	{envStartDeadline, "how long an instance may take to start before it says StartDeadlineExceeded (" + defaultStartDeadline + ").", str(func(s *Settings) *setting[string] { return &s.startDeadline })},
	{envRolloutStart, "an RFC 3339 time from which running instances take the current Pod template, restarting (none).", str(func(s *Settings) *setting[string] { return &s.rolloutStart })},
	{envRolloutOver, "how long such a rollout takes, spread over the instances (" + defaultRolloutOver + ").", str(func(s *Settings) *setting[string] { return &s.rolloutOver })},
	{envSettingsConfigMap, "namespace/name of a ConfigMap whose data are these settings, read whenever it changes (none: the environment).", str(func(s *Settings) *setting[string] { return &s.configMap })},
}

// str sets the string setting that dst selects.
func str(dst func(s *Settings) *setting[string]) func(s *Settings, v string, from *field.Path) {
	return func(s *Settings, v string, from *field.Path) {
		*dst(s) = setting[string]{Value: v, From: from}
	}
}

// list sets the list setting that dst selects from a comma-separated value,
// each item trimmed of spaces, empty ones dropped.
func list(dst func(s *Settings) *setting[[]string]) func(s *Settings, v string, from *field.Path) {
	return func(s *Settings, v string, from *field.Path) {
		var items []string
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		*dst(s) = setting[[]string]{Value: items, From: from}
	}
}

// EnvironmentHelp lists the environment variables the function reads, one a
// line, for its --help.
func EnvironmentHelp() string {
	var b strings.Builder
	for _, e := range environment {
		fmt.Fprintf(&b, "  %-32s %s\n", e.name, e.help)
	}
	return b.String()
}

// WithEnvironment returns the settings overlaid by the operator's environment
// variables, looked up with lookup (os.LookupEnv in production). As with the
// operator, a variable that is set to the empty string counts as unset, and
// any value of SVO_APPLY_POD_PRIORITY_CLASS applies the priority class.
func (s Settings) WithEnvironment(lookup func(string) (string, bool)) Settings {
	return s.withVariables(lookup, field.NewPath("env"))
}

// withVariables returns the settings overlaid by the variables that lookup
// finds, each from the path root[NAME].
func (s Settings) withVariables(lookup func(string) (string, bool), root *field.Path) Settings {
	for _, e := range environment {
		if v, ok := lookup(e.name); ok && v != "" {
			e.set(&s, v, root.Key(e.name))
		}
	}
	return s
}
