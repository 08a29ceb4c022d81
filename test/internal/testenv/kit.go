package testenv

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// A RuntimeContainer is what a kit file's DeploymentRuntimeConfig gives the
// package runtime container: its arguments, and its environment with each
// envFrom ConfigMap of the same file resolved, as NAME=value.
type RuntimeContainer struct {
	Args []string
	Env  []string
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
		rc := RuntimeContainer{Args: ct.Args}
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
			rc.Env = append(rc.Env, e.Name+"="+e.Value)
		}
		return rc, nil
	}
	return RuntimeContainer{}, fmt.Errorf("no package-runtime container in a DeploymentRuntimeConfig of %s", file)
}
