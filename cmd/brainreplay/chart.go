package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// writeChart draws the trade-off of the runs: cold starts against idle model-minutes, one curve
// per policy through its keep-alive values, each point labelled with its keep-alive. The format
// follows the file's extension (.png or .svg).
func writeChart(path string, reports []*report) error {
	p := plot.New()
	r0 := reports[0]
	p.Title.Text = fmt.Sprintf("Replay of %s, rows %s (%d models, %d minutes)", r0.Trace, r0.Rows, r0.Models, r0.Minutes)
	p.X.Label.Text = "idle model-minutes (loaded, no request)"
	p.Y.Label.Text = "cold starts"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true

	var order []string
	byPolicy := make(map[string][]*report)
	for _, r := range reports {
		if _, ok := byPolicy[r.Policy]; !ok {
			order = append(order, r.Policy)
		}
		byPolicy[r.Policy] = append(byPolicy[r.Policy], r)
	}
	for i, policy := range order {
		runs := byPolicy[policy]
		xys := make(plotter.XYs, len(runs))
		labels := make([]string, len(runs))
		for j, r := range runs {
			xys[j] = plotter.XY{X: float64(r.IdleModelMinutes), Y: float64(r.ColdStarts)}
			labels[j] = " " + duration(r.KeepAliveSeconds)
			if r.MinProbability != 0 {
				labels[j] = fmt.Sprintf(" p>=%g", r.MinProbability)
			}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		c := plotutil.Color(i)
		line.Color, points.Color = c, c
		points.Shape = plotutil.Shape(i)
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		for k := range lbl.TextStyle {
			lbl.TextStyle[k].Color = color.Gray{Y: 60}
		}
		p.Add(line, points, lbl)
		legend := policy + " keep-alive"
		if runs[0].MinProbability != 0 {
			legend = policy + " (min_probability)"
		}
		p.Legend.Add(legend, line, points)
	}
	// From zero, so that the eye compares distances honestly; room on the right for the labels.
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max *= 1.06
	p.Y.Max *= 1.04
	p.X.Tick.Marker, p.Y.Tick.Marker = groupedTicks{}, groupedTicks{}
	if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

// groupedTicks labels the default ticks as whole numbers with thousands separators.
type groupedTicks struct{}

func (groupedTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = group(int64(ticks[i].Value))
		}
	}
	return ticks
}
