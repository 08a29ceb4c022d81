package testenv

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// A RuntimeContainer is what a kit file's DeploymentRuntimeConfig gives the
// package runtime container: its arguments, its resources, and its
// environment as NAME=value, with each envFrom ConfigMap of the same file
// and each resourceFieldRef resolved as the kubelet resolves them.
type RuntimeContainer struct {
	Args      []string
	Env       []string
	Resources corev1.ResourceRequirements
}

// kitObject is the part of a kit object these helpers read.
type kitObject struct {
	Kind     string                `json:"kind"`
	Metadata struct{ Name string } `json:"metadata"`
	Data     map[string]string     `json:"data"`
	Spec     struct {
		DeploymentTemplate struct {
			Spec appsv1.DeploymentSpec `json:"spec"`
		} `json:"deploymentTemplate"`
	} `json:"spec"`
}

// KitRuntimeContainer reads the package runtime container of the
// DeploymentRuntimeConfig in a file of the kit (example/platform).
func KitRuntimeContainer(file string) (RuntimeContainer, error) {
	f, err := os.Open(filepath.Clean(file))
	if err != nil {
		return RuntimeContainer{}, err
	}
	defer f.Close()
	configMaps := map[string]map[string]string{}
	var containers []corev1.Container
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var o kitObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return RuntimeContainer{}, fmt.Errorf("%s: %w", file, err)
		}
		switch o.Kind {
		case "ConfigMap":
			configMaps[o.Metadata.Name] = o.Data
		case "DeploymentRuntimeConfig":
			containers = append(containers, o.Spec.DeploymentTemplate.Spec.Template.Spec.Containers...)
		}
	}
	for i := range containers {
		ct := &containers[i]
		if ct.Name != "package-runtime" {
			continue
		}
		rc := RuntimeContainer{Args: ct.Args, Resources: ct.Resources}
		for _, from := range ct.EnvFrom {
			if from.ConfigMapRef == nil {
				return RuntimeContainer{}, fmt.Errorf("%s: only envFrom ConfigMaps are read", file)
			}
			data, ok := configMaps[from.ConfigMapRef.Name]
			if !ok {
				return RuntimeContainer{}, fmt.Errorf("%s: no ConfigMap %s for envFrom", file, from.ConfigMapRef.Name)
			}
			for _, k := range slices.Sorted(maps.Keys(data)) {
				rc.Env = append(rc.Env, k+"="+data[k])
			}
		}
		for _, e := range ct.Env {
			v, err := envValue(e, ct.Resources)
			if err != nil {
				return RuntimeContainer{}, fmt.Errorf("%s: env %s: %w", file, e.Name, err)
			}
			rc.Env = append(rc.Env, e.Name+"="+v)
		}
		return rc, nil
	}
	return RuntimeContainer{}, fmt.Errorf("no package-runtime container in a DeploymentRuntimeConfig of %s", file)
}

// envValue is an environment variable's value: its own, or a resource limit
// of its container, divided by the divisor and rounded up, as the kubelet
// gives a resourceFieldRef (so that GOMAXPROCS is the CPU limit rounded up
// to whole CPUs, and GOMEMLIMIT the memory limit in bytes).
func envValue(e corev1.EnvVar, resources corev1.ResourceRequirements) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	ref := e.ValueFrom.ResourceFieldRef
	if ref == nil {
		return "", errors.New("only a value or a resourceFieldRef is read")
	}
	name, ok := strings.CutPrefix(ref.Resource, "limits.")
	limit, set := resources.Limits[corev1.ResourceName(name)]
	if !ok || !set {
		return "", fmt.Errorf("resourceFieldRef %s: only a limit the container sets is read", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == string(corev1.ResourceCPU) {
		return strconv.FormatInt(ceilDiv(limit.MilliValue(), divisor.MilliValue()), 10), nil
	}
	return strconv.FormatInt(ceilDiv(limit.Value(), divisor.Value()), 10), nil
}

// ceilDiv is a / b rounded up, for positive numbers.
func ceilDiv(a, b int64) int64 {
	return (a + b - 1) / b
}
