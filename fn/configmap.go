package fn

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// requiredSettings is the name under which the function requires its
// settings ConfigMap of Crossplane, which then watches it: a change to the
// settings runs the function again for every DataVisualisation at once.
const requiredSettings = "settings"

// A settingsConfigMap names the ConfigMap whose data are the function's
// settings (SVO_SETTINGS_CONFIGMAP, namespace/name), read on every change.
type settingsConfigMap struct {
	namespace, name string
}

// parseSettingsConfigMap reads namespace/name; empty names none.
func parseSettingsConfigMap(v string, from *field.Path) (*settingsConfigMap, *field.Error) {
	if v == "" {
		return nil, nil
	}
	ns, name, ok := strings.Cut(v, "/")
	if !ok || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return nil, field.Invalid(from, v, "must be the namespace and name of a ConfigMap, such as crossplane-system/function-squonk2-viz")
	}
	return &settingsConfigMap{namespace: ns, name: name}, nil
}

// requirements are the ConfigMap, by name.
func (c *settingsConfigMap) requirements() map[string]*fnv1.ResourceSelector {
	if c == nil {
		return nil
	}
	return map[string]*fnv1.ResourceSelector{requiredSettings: {
		ApiVersion: "v1", Kind: "ConfigMap", Namespace: &c.namespace,
		Match: &fnv1.ResourceSelector_MatchName{MatchName: c.name},
	}}
}

// fetchedSettings returns the ConfigMap Crossplane fetched for the request:
// its data and resource version. Before Crossplane fetches it (its first
// call of a reconcile, whose answer Crossplane does not use), or when it does
// not exist, there is none, and the function's environment stands in.
func fetchedSettings(req *fnv1.RunFunctionRequest) (data map[string]string, version string, ok bool) {
	items := req.GetRequiredResources()[requiredSettings].GetItems()
	if len(items) == 0 {
		return nil, "", false
	}
	cm := items[0].GetResource().GetFields()
	data = map[string]string{}
	for k, v := range cm["data"].GetStructValue().GetFields() {
		data[k] = v.GetStringValue()
	}
	return data, metadata(items[0].GetResource())["resourceVersion"].GetStringValue(), true
}

// withConfigMap returns the settings that the fetched ConfigMap's data give:
// the built-in defaults overlaid by its values, as by environment variables
// of the same names. The ConfigMap replaces the environment, which holds the
// values it had when the function started, so that a value removed from it
// is gone.
func (s Settings) withConfigMap(data map[string]string, c *settingsConfigMap) Settings {
	from := DefaultSettings().withVariables(func(k string) (string, bool) {
		v, ok := data[k]
		return v, ok
	}, field.NewPath(fmt.Sprintf("configMap[%s/%s]", c.namespace, c.name), "data"))
	from.configMap = s.configMap
	return from
}
