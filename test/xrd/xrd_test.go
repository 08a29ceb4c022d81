//go:build integration

// Package xrd checks the DataVisualisation XRD's schema as the API server
// will: the CustomResourceDefinition Crossplane makes from it must be valid,
// its CEL rules must compile, and their estimated cost must fit the API
// server's budget.
package xrd

import (
	"context"
	"os"
	"testing"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestXRDMakesAValidCRD validates a CustomResourceDefinition with the XRD's
// names and schema as the API server validates one at create.
func TestXRDMakesAValidCRD(t *testing.T) {
	b, err := os.ReadFile("../../package/configuration/xrd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var xrd struct {
		Spec struct {
			Group    string                                        `json:"group"`
			Names    apiextensionsv1.CustomResourceDefinitionNames `json:"names"`
			Versions []struct {
				Name   string                                   `json:"name"`
				Schema apiextensionsv1.CustomResourceValidation `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &xrd); err != nil {
		t.Fatal(err)
	}
	v := xrd.Spec.Versions[0]
	withCrossplaneSpec(v.Schema.OpenAPIV3Schema)
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: xrd.Spec.Names.Plural + "." + xrd.Spec.Group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: xrd.Spec.Group, Names: xrd.Spec.Names, Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: v.Name, Served: true, Storage: true, Schema: &v.Schema,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
			}},
		},
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
	internal := &apiextensionsinternal.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		t.Fatal(err)
	}
	if errs := validation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
		t.Errorf("the API server would refuse the XRD's CRD:\n%v", errs.ToAggregate())
	}
}

// withCrossplaneSpec adds what Crossplane adds to a namespaced XR's spec when
// it makes the CRD (crossplane-runtime's xcrd.CompositeResourceSpecProps,
// which the test module's crossplane-runtime predates), as far as the XRD's
// rules read it: spec.crossplane and its resourceRefs.
func withCrossplaneSpec(root *apiextensionsv1.JSONSchemaProps) {
	spec := root.Properties["spec"]
	ref := apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
		"apiVersion": {Type: "string"}, "kind": {Type: "string"}, "name": {Type: "string"}, "namespace": {Type: "string"},
	}}
	spec.Properties["crossplane"] = apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
		"compositionUpdatePolicy": {Type: "string"},
		"resourceRefs":            {Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &ref}},
	}}
	root.Properties["spec"] = spec
}
