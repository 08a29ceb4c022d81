//go:build e2e && !load && !upgrade

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/fieldpath"
)

// A badInput is a case of the function's bad-input table,
// fn/testdata/bad-input.yaml.
type badInput struct {
	Name      string            `json:"name"`
	Set       map[string]any    `json:"set"`
	Remove    string            `json:"remove"`
	Env       map[string]string `json:"env"`
	Input     string            `json:"input"`
	Field     string            `json:"field"`
	Value     string            `json:"value"`
	APIServer string            `json:"apiServer"`
	Why       string            `json:"why"`
}

// index matches a list index at the end of a field path.
var index = regexp.MustCompile(`\[\d+\]$`)

// TestAdmissionMatrix creates each case of the function's bad-input table
// that concerns the DataVisualisation's own fields as the Data Manager would
// (a server-side dry run), and checks that the API server refuses at create
// those the table says it refuses, naming the field, and accepts the others,
// for which the table says why only the function can refuse them. It prints
// the matrix.
func TestAdmissionMatrix(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join(c.cfg.repo, "fn", "testdata", "bad-input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Base  string     `json:"base"`
		Cases []badInput `json:"cases"`
	}
	if err := yaml.UnmarshalStrict(b, &table); err != nil {
		t.Fatal(err)
	}
	var rows []string
	var own, refused int
	for _, tc := range table.Cases {
		if tc.Set == nil && tc.Remove == "" {
			continue // The function's own settings: the API server never sees them.
		}
		own++
		t.Run(tc.Name, func(t *testing.T) {
			objs, err := decodeObjects(strings.NewReader(table.Base))
			if err != nil || len(objs) != 1 {
				t.Fatalf("the table's base: %v", err)
			}
			base := objs[0].Object
			p := fieldpath.Pave(base)
			_ = p.SetValue("metadata.name", "admission-check")
			_ = p.SetValue("metadata.namespace", dmNamespace)
			for path, v := range tc.Set {
				if err := p.SetValue(path, v); err != nil {
					t.Fatal(err)
				}
			}
			if tc.Remove != "" {
				if err := p.DeleteField(tc.Remove); err != nil {
					t.Fatal(err)
				}
			}
			// The Data Manager creates in its namespace: the API server
			// gives an object without one the namespace of the request.
			if _, err := p.GetString("metadata.namespace"); err != nil {
				_ = p.SetValue("metadata.namespace", dmNamespace)
			}
			err = c.kube.Create(ctx, &unstructured.Unstructured{Object: p.UnstructuredContent()}, client.DryRunAll)
			switch {
			case tc.APIServer == "refuses" && err == nil:
				t.Errorf("the API server accepted it; the table says it refuses it")
			case tc.APIServer == "refuses" && !strings.Contains(err.Error(), tc.Field) && !strings.Contains(err.Error(), index.ReplaceAllString(tc.Field, "")):
				t.Errorf("the API server refused it without naming %s: %v", tc.Field, err)
			case tc.APIServer == "accepts" && err != nil:
				t.Errorf("the API server refused it; the table says only the function does (%s): %v", tc.Why, err)
			}
			verdict := "function only: " + tc.Why
			if err != nil {
				refused++
				verdict = "API server: " + strings.ReplaceAll(err.Error(), "|", "\\|")
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s |", tc.Name, tc.Field, verdict))
		})
	}
	admission = fmt.Sprintf("\n| bad input (fn/testdata/bad-input.yaml) | field | refused at create by |\n|---|---|---|\n%s\n\n"+
		"%d of %d cases of the DataVisualisation's own fields refused by the API server at create (%.0f%%).\n",
		strings.Join(rows, "\n"), refused, own, 100*float64(refused)/float64(own))
	t.Log(admission)
	if float64(refused) < 0.9*float64(own) {
		t.Errorf("the API server refuses %d of %d cases; at least 90%% must be refused at create", refused, own)
	}
}
