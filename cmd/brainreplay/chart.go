package main

import (
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/modelium/brain/replay"
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

// writeCapChart draws a capped comparison: a group of bars per cap, one per victim choice, each the
// choice's cold starts as a percentage of LRU's at the same cap (absolute counts differ by orders
// of magnitude between caps); without an LRU run, the absolute cold starts.
func writeCapChart(path string, reports []*report) error {
	p := plot.New()
	r0 := reports[0]
	p.Title.Text = fmt.Sprintf("Cold starts under a GPU memory cap: %s, rows %s (%d models), %s policy, keep-alive %s", r0.Trace, r0.Rows, r0.Models, policyName(r0), duration(r0.KeepAliveSeconds))
	p.X.Label.Text = "GPU memory cap (room for this share of the models' total size)"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	var caps, victims []string
	values := make(map[[2]string]float64)
	for _, r := range reports {
		if len(caps) == 0 || caps[len(caps)-1] != r.Cap {
			caps = append(caps, r.Cap)
		}
		if !slices.Contains(victims, r.Victims) {
			victims = append(victims, r.Victims)
		}
		values[[2]string{r.Cap, r.Victims}] = float64(r.ColdStarts)
	}
	relative := slices.Contains(victims, string(replay.VictimsLRU))
	p.Y.Label.Text = "cold starts"
	if relative {
		p.Y.Label.Text = "cold starts, % of LRU's at the same cap"
	}
	w := vg.Points(12)
	for i, v := range victims {
		vals := make(plotter.Values, len(caps))
		for k, c := range caps {
			vals[k] = values[[2]string{c, v}]
			if lru := values[[2]string{c, string(replay.VictimsLRU)}]; relative && lru > 0 {
				vals[k] = 100 * vals[k] / lru
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = w * vg.Length(2*i-len(victims)+1) / 2
		p.Add(bars)
		label := replay.Victims(v).Imitates()
		p.Legend.Add(label, bars)
	}
	p.NominalX(caps...)
	p.Y.Min = 0
	p.Y.Max *= 1.3 // room for the legend
	p.Y.Tick.Marker = groupedTicks{}
	if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}
