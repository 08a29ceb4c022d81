package fn

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// A schema is the part of an OpenAPI v3 schema that says which fields there
// are and of what type.
type schema struct {
	Type       string            `json:"type"`
	Properties map[string]schema `json:"properties"`
	Items      *schema           `json:"items"`
}

// xrdSpecSchema reads the schema of spec from the XRD that ships in the
// Configuration package.
func xrdSpecSchema(t *testing.T) schema {
	t.Helper()
	b, err := os.ReadFile("../package/configuration/xrd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var xrd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema schema `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &xrd); err != nil {
		t.Fatal(err)
	}
	if n := len(xrd.Spec.Versions); n != 1 {
		t.Fatalf("want one version in the XRD, got %d", n)
	}
	return xrd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
}

// schemaDiff lists each field that the Go type t and the schema s do not
// agree on: present in one only, or of another type. Every field of the type
// must be in the schema, and every field of the schema in the type.
func schemaDiff(path string, t reflect.Type, s schema) []string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	want := map[reflect.Kind]string{reflect.String: "string", reflect.Int64: "integer", reflect.Slice: "array", reflect.Struct: "object"}[t.Kind()]
	if s.Type != want {
		return []string{path + ": the Go type is " + t.String() + " (" + want + "), the XRD says " + s.Type}
	}
	var diffs []string
	switch t.Kind() {
	case reflect.Slice:
		if s.Items == nil {
			return []string{path + ": the XRD has no items"}
		}
		diffs = append(diffs, schemaDiff(path+"[]", t.Elem(), *s.Items)...)
	case reflect.Struct:
		fields := map[string]bool{}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fields[name] = true
			p, ok := s.Properties[name]
			if !ok {
				diffs = append(diffs, path+"."+name+": in the Go type, not in the XRD")
				continue
			}
			diffs = append(diffs, schemaDiff(path+"."+name, t.Field(i).Type, p)...)
		}
		for name := range s.Properties {
			if !fields[name] {
				diffs = append(diffs, path+"."+name+": in the XRD, not in the Go type")
			}
		}
	}
	slices.Sort(diffs)
	return diffs
}

// TestXRDSchemaMatchesTheGoType keeps the XRD and the Go type of the
// DataVisualisation's spec, which the function decodes, the same field by
// field.
func TestXRDSchemaMatchesTheGoType(t *testing.T) {
	if diffs := schemaDiff("spec", reflect.TypeFor[xrSpec](), xrdSpecSchema(t)); len(diffs) > 0 {
		t.Errorf("the XRD's spec and the Go type xrSpec differ:\n%s", strings.Join(diffs, "\n"))
	}
}

// TestSchemaDiff proves that schemaDiff sees a field added to either side,
// and a type that changed.
func TestSchemaDiff(t *testing.T) {
	type inner struct {
		Tag string `json:"tag"`
	}
	type goType struct {
		Name   string   `json:"name"`
		Count  *int64   `json:"count"`
		Labels []string `json:"labels"`
		Inner  inner    `json:"inner"`
	}
	str := schema{Type: "string"}
	matching := func() schema {
		return schema{Type: "object", Properties: map[string]schema{
			"name":   str,
			"count":  {Type: "integer"},
			"labels": {Type: "array", Items: &str},
			"inner":  {Type: "object", Properties: map[string]schema{"tag": str}},
		}}
	}
	cases := map[string]struct {
		reason string
		change func(s *schema)
		want   []string
	}{
		"Same": {
			reason: "A schema with the type's fields and types has no difference.",
			change: func(*schema) {},
		},
		"FieldOnlyInTheGoType": {
			reason: "A field added to the Go type and not to the XRD is a difference.",
			change: func(s *schema) { delete(s.Properties["inner"].Properties, "tag") },
			want:   []string{"spec.inner.tag: in the Go type, not in the XRD"},
		},
		"FieldOnlyInTheXRD": {
			reason: "A field added to the XRD and not to the Go type is a difference.",
			change: func(s *schema) { s.Properties["extra"] = str },
			want:   []string{"spec.extra: in the XRD, not in the Go type"},
		},
		"TypeDiffers": {
			reason: "A field whose type differs is a difference.",
			change: func(s *schema) { s.Properties["count"] = str },
			want:   []string{"spec.count: the Go type is int64 (integer), the XRD says string"},
		},
		"ItemTypeDiffers": {
			reason: "A list whose items differ is a difference.",
			change: func(s *schema) { s.Properties["labels"] = schema{Type: "array", Items: &schema{Type: "integer"}} },
			want:   []string{"spec.labels[]: the Go type is string (string), the XRD says integer"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := matching()
			tc.change(&s)
			if diff := cmp.Diff(tc.want, schemaDiff("spec", reflect.TypeFor[goType](), s)); diff != "" {
				t.Errorf("%s\nschemaDiff(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
