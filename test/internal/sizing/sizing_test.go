package sizing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteDrawsEachComponentInEachMode(t *testing.T) {
	cases := map[string]struct {
		reason string
		run    Run
		want   []string // in the SVG
		noPlot bool
	}{
		"BothModes": {
			reason: "Each component measured at rest is a line of each mode, named in the legend, on both panels.",
			run: Run{Points: []Point{
				{Mode: "provider", Instances: 200, CPUAtRest: map[string]float64{"crossplane": 0.1}, ResidentMiB: map[string]float64{"crossplane": 290}},
				{Mode: "provider", Instances: 1000, CPUAtRest: map[string]float64{"crossplane": 0.4}, ResidentMiB: map[string]float64{"crossplane": 1100}},
				{Mode: "direct", Instances: 200, CPUAtRest: map[string]float64{"crossplane": 0.2}, ResidentMiB: map[string]float64{"crossplane": 210}},
			}},
			want: []string{"crossplane, provider", "crossplane, direct", "CPU at rest", "Resident memory at rest", "DataVisualisations Ready"},
		},
		"OnlyABrokenSize": {
			reason: "A run that measured no size at rest is written, with no plot.",
			run:    Run{Points: []Point{{Mode: "provider", Instances: 200, Broke: "crossplane is not running"}}},
			noPlot: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ceiling.json")
			if err := tc.run.Write(file, []string{"kube-apiserver", "crossplane"}); err != nil {
				t.Fatalf("%s\nWrite(...): %v", tc.reason, err)
			}
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("%s\nWrite(...) wrote no figures: %v", tc.reason, err)
			}
			svg, err := os.ReadFile(strings.TrimSuffix(file, ".json") + ".svg")
			if tc.noPlot {
				if err == nil {
					t.Errorf("%s\nWrite(...) drew a plot of nothing", tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(svg), w) {
					t.Errorf("%s\nthe plot does not say %q", tc.reason, w)
				}
			}
			if strings.Contains(string(svg), "kube-apiserver") {
				t.Errorf("%s\nthe plot draws a component that was not measured", tc.reason)
			}
		})
	}
}
