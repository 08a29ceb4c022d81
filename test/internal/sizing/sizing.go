// Package sizing holds the figures of the ceiling benchmark (make
// e2e-ceiling) and draws them: each component's CPU at rest and resident
// memory against the number of instances, in each mode.
package sizing

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// A Run is what one run of the benchmark measured, and the Go runtime's
// limits each component ran with.
type Run struct {
	Date   string            `json:"date"`
	Limits map[string]Limits `json:"limits"`
	Points []Point           `json:"points"`
}

// Limits are a component's GOMAXPROCS and GOMEMLIMIT (in MiB), zero where
// it has none.
type Limits struct {
	Procs     int     `json:"gomaxprocs,omitempty"`
	MemoryMiB float64 `json:"gomemlimitMiB,omitempty"`
}

// A Point is one mode's fleet at one size.
type Point struct {
	Mode      string `json:"mode"`
	Instances int    `json:"instances"`
	// GrewSeconds is how long growing to this size took, from the size
	// before; GrowthCores the CPUs each component kept busy meanwhile.
	GrewSeconds float64            `json:"grewSeconds"`
	GrowthCores map[string]float64 `json:"growthCores"`
	// CPUAtRest is each component's CPU seconds per minute at rest;
	// ResidentMiB its resident memory at rest.
	CPUAtRest   map[string]float64 `json:"cpuSecondsPerMinuteAtRest,omitempty"`
	ResidentMiB map[string]float64 `json:"residentMiB,omitempty"`
	// Broke says what broke when the fleet did not reach this size; Short
	// why it stopped short of the size it was growing to, measured at the
	// size it reached.
	Broke string `json:"broke,omitempty"`
	Short string `json:"short,omitempty"`
}

// Components are the components the benchmark measures, in the order its
// tables and plot show them.
var Components = []string{"etcd", "kube-apiserver", "crossplane", "provider-kubernetes", "function"}

// Read reads a run that Write wrote.
func Read(file string) (Run, error) {
	b, err := os.ReadFile(filepath.Clean(file))
	if err != nil {
		return Run{}, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return Run{}, fmt.Errorf("%s: %w", file, err)
	}
	return r, nil
}

// Merge is the runs as one: their points, a mode's of a later run after
// those of an earlier, and the limits and date of the last.
func Merge(runs ...Run) Run {
	var out Run
	for _, r := range runs {
		out.Points = append(out.Points, r.Points...)
		out.Limits, out.Date = r.Limits, r.Date
	}
	return out
}

// Write writes the run as JSON, and its plot beside it (the same name, .svg).
func (r Run) Write(file string, components []string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		return err
	}
	svg := file[:len(file)-len(filepath.Ext(file))] + ".svg"
	if !slices.ContainsFunc(r.Points, func(p Point) bool { return p.Broke == "" }) {
		return nil // Nothing measured at rest yet.
	}
	return r.Plot(svg, components)
}

// Plot draws, side by side, each component's CPU at rest and its resident
// memory against the number of instances: one colour per component, a solid
// line for the provider mode and a dashed one for the direct mode.
func (r Run) Plot(file string, components []string) error {
	cpu := r.panel("CPU at rest", "CPU seconds per minute", components, func(p Point) map[string]float64 { return p.CPUAtRest })
	memory := r.panel("Resident memory at rest", "MiB", components, func(p Point) map[string]float64 { return p.ResidentMiB })
	if cpu == nil || memory == nil {
		return fmt.Errorf("%s: no size was measured at rest", file)
	}
	const width, height = 26 * vg.Centimeter, 11 * vg.Centimeter
	canvas := vgsvg.NewWith(vgsvg.UseWH(width, height), vgsvg.EmbedFonts(false))
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3}
	plots := [][]*plot.Plot{{cpu, memory}}
	canvases := plot.Align(plots, tiles, draw.New(canvas))
	cpu.Draw(canvases[0][0])
	memory.Draw(canvases[0][1])
	f, err := os.Create(filepath.Clean(file))
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// modeDashes draws each mode's lines.
var modeDashes = map[string][]vg.Length{"provider": nil, "direct": {vg.Points(5), vg.Points(3)}}

// panel is one plot of a figure per component and mode against the
// instances, or nil when no point has it.
func (r Run) panel(title, unit string, components []string, figure func(Point) map[string]float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "DataVisualisations Ready"
	p.Y.Label.Text = unit
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	drawn := false
	for ci, component := range components {
		for _, mode := range []string{"provider", "direct"} {
			var xys plotter.XYs
			for _, pt := range r.Points {
				if v, ok := figure(pt)[component]; ok && pt.Mode == mode {
					xys = append(xys, plotter.XY{X: float64(pt.Instances), Y: v})
				}
			}
			if len(xys) == 0 {
				continue
			}
			slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				continue
			}
			line.Color, points.Color = palette[ci%len(palette)], palette[ci%len(palette)]
			line.Dashes = modeDashes[mode]
			p.Add(line, points)
			p.Legend.Add(component+", "+mode, line, points)
			drawn = true
		}
	}
	if !drawn {
		return nil
	}
	return p
}

// palette tells the components apart (Okabe and Ito's colours, which
// colour-blind readers tell apart too).
var palette = []color.Color{
	color.RGBA{R: 0xe6, G: 0x9f, B: 0x00, A: 0xff},
	color.RGBA{R: 0x56, G: 0xb4, B: 0xe9, A: 0xff},
	color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff},
	color.RGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff},
	color.RGBA{R: 0xcc, G: 0x79, B: 0xa7, A: 0xff},
	color.RGBA{R: 0x00, G: 0x72, B: 0xb2, A: 0xff},
}
