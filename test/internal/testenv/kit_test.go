package testenv

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestEnvValueResolvesAsTheKubeletDoes(t *testing.T) {
	limits := corev1.ResourceRequirements{Limits: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1500m"),
		corev1.ResourceMemory: resource.MustParse("256Mi"),
	}}
	field := func(res, divisor string) corev1.EnvVar {
		ref := &corev1.ResourceFieldSelector{Resource: res}
		if divisor != "" {
			ref.Divisor = resource.MustParse(divisor)
		}
		return corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: ref}}
	}
	cases := map[string]struct {
		reason  string
		env     corev1.EnvVar
		want    string
		wantErr bool
	}{
		"AValue":                 {reason: "A plain value is itself.", env: corev1.EnvVar{Name: "X", Value: "v"}, want: "v"},
		"CPULimitRoundsUp":       {reason: "GOMAXPROCS from a 1500m limit is 2: the kubelet rounds a CPU limit up to the divisor.", env: field("limits.cpu", "1"), want: "2"},
		"CPULimitInMillicores":   {reason: "A divisor of 1m gives millicores.", env: field("limits.cpu", "1m"), want: "1500"},
		"MemoryLimitInBytes":     {reason: "GOMEMLIMIT from a 256Mi limit is its bytes; no divisor is 1.", env: field("limits.memory", ""), want: "268435456"},
		"MemoryLimitInMebibytes": {reason: "A divisor of 1Mi gives MiB.", env: field("limits.memory", "1Mi"), want: "256"},
		"ALimitTheKitDoesNotSet": {reason: "A limit the container does not set cannot be read.", env: field("limits.ephemeral-storage", ""), wantErr: true},
		"ARequestIsNotRead":      {reason: "Only limits are read: the kit sets the Go runtime from them.", env: field("requests.cpu", ""), wantErr: true},
		"AFieldRefIsNotReadHere": {reason: "Only values and resource fields are read.", env: corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := envValue(tc.env, limits)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nenvValue(...): want error %t, got %v", tc.reason, tc.wantErr, err)
			}
			if got != tc.want {
				t.Errorf("%s\nenvValue(...): want %q, got %q", tc.reason, tc.want, got)
			}
		})
	}
}
