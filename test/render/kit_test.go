//go:build integration

package render

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// kitDocuments returns every document of the kit's YAML files
// (example/platform and example/data-manager), each as JSON, by file.
func kitDocuments(t *testing.T) map[string][][]byte {
	t.Helper()
	docs := map[string][][]byte{}
	for _, dir := range []string{"platform", "data-manager"} {
		files, err := filepath.Glob(filepath.Join(*repo, "example", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if filepath.Base(file) == "crossplane-values.yaml" { // Helm values: TestCrossplaneValuesAreTheChartsKeys.
				continue
			}
			b, err := os.ReadFile(filepath.Clean(file))
			if err != nil {
				t.Fatal(err)
			}
			dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
			for {
				var raw runtime.RawExtension
				if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if len(raw.Raw) > 0 {
					docs[file] = append(docs[file], raw.Raw)
				}
			}
		}
	}
	return docs
}

// TestKitManifestsDecodeStrictly decodes each Kubernetes object of the kit
// (RBAC, ConfigMaps, admission policies, the NetworkPolicy, the quota and
// LimitRange) into its Go type, refusing a field the type does not have: a
// misspelt or misplaced field fails here, offline, before the end-to-end
// suite's API server validates and enforces them. Crossplane's kinds are
// TestValidateExampleManifests'.
func TestKitManifestsDecodeStrictly(t *testing.T) {
	var decoded int
	for file, docs := range kitDocuments(t) {
		for _, doc := range docs {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			gvk := schema.FromAPIVersionAndKind(head.APIVersion, head.Kind)
			obj, err := scheme.Scheme.New(gvk)
			if err != nil {
				continue // Not a Kubernetes kind.
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Errorf("%s: %s: %v", file, gvk.Kind, err)
			}
			decoded++
		}
	}
	if decoded < 10 {
		t.Errorf("decoded %d Kubernetes objects of the kit; want all of them", decoded)
	}
}

// TestKitAdmissionPoliciesCompile compiles every CEL expression of the kit's
// ValidatingAdmissionPolicies (variables, match conditions, validations and
// messages) as the API server does when it stores a policy.
func TestKitAdmissionPoliciesCompile(t *testing.T) {
	var policies int
	for file, docs := range kitDocuments(t) {
		for _, doc := range docs {
			var p admissionregistrationv1.ValidatingAdmissionPolicy
			if err := yaml.Unmarshal(doc, &p); err != nil || p.Kind != "ValidatingAdmissionPolicy" {
				continue
			}
			policies++
			compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
			if err != nil {
				t.Fatal(err)
			}
			opts := plugincel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil, HasAuthorizer: true}
			check := func(what string, r plugincel.CompilationResult) {
				if r.Error != nil {
					t.Errorf("%s: policy %s: %s: %v", file, p.Name, what, r.Error)
				}
			}
			for _, v := range p.Spec.Variables {
				check("variable "+v.Name, compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, opts, environment.StoredExpressions))
			}
			for _, mc := range p.Spec.MatchConditions {
				check("match condition "+mc.Name, compiler.CompileCELExpression(&validating.ValidationCondition{Expression: mc.Expression}, opts, environment.StoredExpressions))
			}
			for _, v := range p.Spec.Validations {
				check("validation "+v.Message, compiler.CompileCELExpression(&validating.ValidationCondition{Expression: v.Expression}, opts, environment.StoredExpressions))
				if v.MessageExpression != "" {
					check("the message of validation "+v.Message, compiler.CompileCELExpression(&validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}, opts, environment.StoredExpressions))
				}
			}
		}
	}
	if policies != 4 {
		t.Errorf("compiled %d admission policies; the kit has 4", policies)
	}
}
