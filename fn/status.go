package fn

import (
	corev1 "k8s.io/api/core/v1"
)

// Custom condition types that the function sets on a DataVisualisation, with
// the same types on every call, so that none goes stale.
const (
	// TypeInputValid says whether the DataVisualisation and the function's
	// settings describe an instance that can run.
	TypeInputValid = "InputValid"
	// TypeResourcesReady says whether the instance's Deployment is
	// available and its Service and Ingress exist.
	TypeResourcesReady = "ResourcesReady"
)

// Condition reasons.
const (
	ReasonValid        = "Valid"
	ReasonInvalidInput = "InvalidInput"
	ReasonAvailable    = "Available"
	ReasonWaiting      = "Waiting"
)

// VizStatus returns the DataVisualisation's status.viz: the instance's URL,
// where the Data Manager looks for it, and what it runs.
func VizStatus(i *Instance) map[string]any {
	return map[string]any{
		"url":                i.URL(),
		"image":              i.Image,
		"serviceAccountName": i.ServiceAccountName,
		"resources": map[string]any{
			"requests": map[string]any{"memory": quantity(i.Resources.Requests, corev1.ResourceMemory)},
			"limits":   map[string]any{"memory": quantity(i.Resources.Limits, corev1.ResourceMemory)},
		},
		"project": map[string]any{
			"claimName": i.ProjectClaimName,
			"id":        i.ProjectID,
		},
	}
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) string {
	q := l[name]
	return q.String()
}
