package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/replay"
	"github.com/modelium/brain/rules"
)

// capSpec is one GPU memory cap of --gpu-memory: its label as given and its inventory.
type capSpec struct {
	label    string
	devices  []gpu.StaticDevice
	headroom int64 // gpu.headroom_bytes, for the configuration's inventory only
}

// capFromConfig is the --gpu-memory value that takes the configuration's gpu.devices.
const capFromConfig = "config"

// parseCaps reads --gpu-memory: a comma-separated list of caps, each a number of bytes with an
// optional unit (80GiB, 512MiB, 80GB, 85899345920), a percentage of the replayed models' total size
// (10%: room for a tenth of them at once, sizes as the replay counts them), or "config" for the
// configuration's static inventory (gpu.devices).
func parseCaps(list string, sizes []int64, configured []gpu.StaticDevice, headroom int64) ([]capSpec, error) {
	var total int64
	for _, b := range sizes {
		total += b
	}
	var caps []capSpec
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == capFromConfig:
			if len(configured) == 0 {
				return nil, errors.New("--gpu-memory config: the configuration declares no gpu.devices (a static inventory)")
			}
			caps = append(caps, capSpec{label: fmt.Sprintf("config (%d GPUs, %s)", len(configured), gpu.FormatBytes(replay.CapBytes(configured))), devices: configured, headroom: headroom})
		case strings.HasSuffix(s, "%"):
			p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
			if err != nil || !(p > 0 && p <= 100) {
				return nil, fmt.Errorf("--gpu-memory %q: a percentage of the models' total size must be above 0 and at most 100", s)
			}
			caps = append(caps, capSpec{label: s, devices: replay.SingleGPU(int64(math.Ceil(float64(total) * p / 100)))})
		default:
			b, err := parseBytes(s)
			if err != nil {
				return nil, fmt.Errorf("--gpu-memory %q: %w", s, err)
			}
			caps = append(caps, capSpec{label: s, devices: replay.SingleGPU(b)})
		}
	}
	return caps, nil
}

// byteUnits are the units parseBytes accepts, longest first.
var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseBytes reads a positive number of bytes with an optional unit: 80GiB, 1.5TB, 1073741824.
func parseBytes(s string) (int64, error) {
	num, mult := s, 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) || v*mult >= math.MaxInt64 {
		return 0, errors.New("want a positive number of bytes, with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), or P% of the models' total size, or config")
	}
	return int64(v * mult), nil
}

// parseVictims reads --victims: a comma-separated list of victim choices, or all.
func parseVictims(list string) ([]replay.Victims, error) {
	if list == "" || list == "all" {
		return replay.AllVictims, nil
	}
	var out []replay.Victims
	for _, s := range strings.Split(list, ",") {
		v, err := replay.ParseVictims(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--victims: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// keepAliveOf is each model's keep-alive under p (per-model keep_alive, else evict_after_idle;
// forever and always_loaded as the longest), for the Ollama ordering.
func keepAliveOf(p *rules.UnloadPolicy) func(string) time.Duration {
	return func(model string) time.Duration {
		for _, m := range p.AlwaysLoaded {
			if m == model {
				return math.MaxInt64
			}
		}
		if k, ok := p.KeepAlive[model]; ok {
			if k.Forever {
				return math.MaxInt64
			}
			return k.After
		}
		return p.EvictAfterIdle
	}
}

// writeCapTable prints one line per cap and victim choice.
func writeCapTable(w io.Writer, reports []*report) error {
	r0 := reports[0]
	fmt.Fprintf(w, "%s (%s), %s: %s models over %s minutes; %s; model sizes from %s\n\n",
		r0.Trace, r0.Layout, rowsText(r0), group(int64(r0.Models)), group(int64(r0.Minutes)), policyLine(r0), r0.Memory)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "cap\tGPU memory\tvictim choice\tcold starts\tafter eviction\tevictions\tidle model-minutes\tloads\tno room\t\n")
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Cap, gpu.FormatBytes(r.GPUMemoryBytes), replay.Victims(r.Victims).Imitates(),
			group(r.ColdStarts), group(r.ColdStartsAfterEviction), group(r.Evictions), group(r.IdleModelMinutes), group(r.Loads), group(r.PlacementFailures))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r0.ModelsSizedByMedian > 0 {
		fmt.Fprintf(w, "\nnote: %d models have no row in the memory file; they are sized at the median of the others\n", r0.ModelsSizedByMedian)
	}
	_, err := fmt.Fprintln(w, "\nafter eviction: cold starts of models whose latest unload was an eviction; no room: cold starts that found no room even after evictions (the model stays unloaded)")
	return err
}
