package gpu_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/hfconfig"
)

func TestPlanFFDPacksDecreasing(t *testing.T) {
	bins := []gpu.Bin{{UUID: "g0", CapacityBytes: 10}, {UUID: "g1", CapacityBytes: 10}, {UUID: "g2", CapacityBytes: 10}}
	tests := []struct {
		name      string
		models    []gpu.PlanModel
		wantUsed  int
		wantLower int
		wantGPUs  map[string]string // model -> comma-joined UUIDs
		unplaced  []string
	}{
		{
			name:      "large models first leave no hole that small ones cannot fill",
			models:    []gpu.PlanModel{{Name: "s1", RequiredBytes: 3}, {Name: "s2", RequiredBytes: 3}, {Name: "l1", RequiredBytes: 7}, {Name: "l2", RequiredBytes: 7}},
			wantUsed:  2,
			wantLower: 2,
			wantGPUs:  map[string]string{"l1": "g0", "l2": "g1", "s1": "g0", "s2": "g1"},
		},
		{
			name:      "a model over two GPUs takes its share on the first two with room",
			models:    []gpu.PlanModel{{Name: "big", RequiredBytes: 16, GPUCount: 2}, {Name: "x", RequiredBytes: 9}},
			wantUsed:  3,
			wantLower: 3,
			wantGPUs:  map[string]string{"x": "g0", "big": "g1,g2"},
		},
		{
			name:      "a model larger than any GPU is unplaced with why",
			models:    []gpu.PlanModel{{Name: "huge", RequiredBytes: 11}, {Name: "ok", RequiredBytes: 2}},
			wantUsed:  1,
			wantLower: 2,
			wantGPUs:  map[string]string{"ok": "g0"},
			unplaced:  []string{"huge"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := gpu.PlanFFD(tt.models, bins)
			if p.GPUsUsed != tt.wantUsed || p.LowerBoundGPUs != tt.wantLower {
				t.Errorf("used %d, lower bound %d; want %d, %d", p.GPUsUsed, p.LowerBoundGPUs, tt.wantUsed, tt.wantLower)
			}
			got := map[string]string{}
			for _, a := range p.Assignments {
				got[a.Model] = strings.Join(a.UUIDs, ",")
			}
			for m, want := range tt.wantGPUs {
				if got[m] != want {
					t.Errorf("%s on %q, want %q", m, got[m], want)
				}
			}
			var unplaced []string
			for _, u := range p.Unplaced {
				unplaced = append(unplaced, u.Model)
				if u.Reason == "" {
					t.Errorf("%s unplaced without a reason", u.Model)
				}
			}
			if !slices.Equal(unplaced, tt.unplaced) {
				t.Errorf("unplaced %v, want %v", unplaced, tt.unplaced)
			}
		})
	}
}

// fleetModels sizes 40 models from the real configs in testdata/hf-configs by hfconfig: each
// config at the default context (4096 tokens) and one sequence, then the language models under
// 20 GiB again serving 8 sequences, then 32, until there are 40. DeepSeek-R1 (about 750 GB) is
// left out: it needs more than the fleet. Each model's GPU count is what its estimate needs on
// an 80 GiB GPU with the headroom (Llama-2-70B and Mixtral-8x7B need 2).
func fleetModels(t testing.TB, gpuBytes, headroom int64) []gpu.PlanModel {
	t.Helper()
	dir := "../testdata/hf-configs"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("the Hugging Face configs in testdata/hf-configs are required: %v", err)
	}
	var models, llms []gpu.PlanModel
	add := func(name string, total int64) gpu.PlanModel {
		room := gpuBytes - headroom
		return gpu.PlanModel{Name: name, RequiredBytes: total, GPUCount: int((total + room - 1) / room)}
	}
	for _, e := range entries {
		if !e.IsDir() || strings.Contains(e.Name(), "DeepSeek") {
			continue
		}
		cfg, err := os.ReadFile(filepath.Join(dir, e.Name(), "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		a, err := hfconfig.Analyze(cfg, nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, add(e.Name(), a.Memory.TotalBytes))
		if a.IsLLM && a.Memory.TotalBytes < 20*GiB {
			llms = append(llms, gpu.PlanModel{Name: e.Name()})
		}
	}
	var variants []gpu.PlanModel
	for _, seqs := range []int64{8, 32} {
		for _, m := range llms {
			cfg, err := os.ReadFile(filepath.Join(dir, m.Name, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := hfconfig.Analyze(cfg, nil, hfconfig.AnalyzeOptions{Sequences: seqs})
			if err != nil {
				t.Fatal(err)
			}
			variants = append(variants, add(fmt.Sprintf("%s@%dseq", m.Name, seqs), b.Memory.TotalBytes))
		}
	}
	for _, m := range variants {
		if len(models) == 40 {
			break
		}
		models = append(models, m)
	}
	if len(models) != 40 {
		t.Fatalf("%d models from the configs, want 40", len(models))
	}
	// Arrival order: shuffled with a fixed seed, as requests would come.
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(models), func(i, j int) { models[i], models[j] = models[j], models[i] })
	return models
}

// TestPlanRealisticFleet: 40 models sized from the real configs on 8 x 80 GiB GPUs. FFD uses no
// more GPUs than first-fit in arrival order, and no fewer than the lower bound.
func TestPlanRealisticFleet(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 80, 80, 80, 80, 80, 80, 80, 80), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	models := fleetModels(t, 80*GiB, GiB)
	ffd, err := a.PlanPlacement(models, true, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	bins := make([]gpu.Bin, 8)
	for i := range bins {
		bins[i] = gpu.Bin{UUID: gpu.StaticUUID(i), Index: i, CapacityBytes: 79 * GiB}
	}
	ff := gpu.PlanFirstFit(models, bins)
	var total int64
	for _, m := range models {
		total += m.RequiredBytes
	}
	t.Logf("40 models, %.1f GiB in all, on 8 x 80 GiB (1 GiB headroom): FFD uses %d GPUs (%d unplaced), first-fit in arrival order %d GPUs (%d unplaced), lower bound %d",
		float64(total)/float64(GiB), ffd.GPUsUsed, len(ffd.Unplaced), ff.GPUsUsed, len(ff.Unplaced), ffd.LowerBoundGPUs)
	for _, u := range ff.Unplaced {
		t.Logf("first-fit left %s unplaced: %s", u.Model, u.Reason)
	}
	if len(ffd.Unplaced) > len(ff.Unplaced) {
		t.Errorf("FFD left %d models unplaced, first-fit %d", len(ffd.Unplaced), len(ff.Unplaced))
	}
	if len(ffd.Unplaced) == len(ff.Unplaced) && ffd.GPUsUsed > ff.GPUsUsed {
		t.Errorf("FFD uses %d GPUs, first-fit %d", ffd.GPUsUsed, ff.GPUsUsed)
	}
	if len(ffd.Unplaced) == 0 && ffd.GPUsUsed < ffd.LowerBoundGPUs {
		t.Errorf("FFD uses %d GPUs, below the lower bound %d: the bound or the plan is wrong", ffd.GPUsUsed, ffd.LowerBoundGPUs)
	}
	if len(ffd.Assignments)+len(ffd.Unplaced) != len(models) {
		t.Errorf("%d assignments + %d unplaced, want %d models", len(ffd.Assignments), len(ffd.Unplaced), len(models))
	}
	// No GPU holds more than it offers.
	load := map[string]int64{}
	for _, as := range ffd.Assignments {
		for _, u := range as.UUIDs {
			load[u] += as.PerGPUBytes
		}
	}
	for u, b := range load {
		if b > 79*GiB {
			t.Errorf("GPU %s holds %s, more than 79 GiB", u, gpu.FormatBytes(b))
		}
	}
	t.Log(ffd.Reason())
}

// BenchmarkPlanPlacement1000Models64GPUs: FFD of 1,000 models over 64 GPUs (target <= 10 ms).
func BenchmarkPlanPlacement1000Models64GPUs(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	models := make([]gpu.PlanModel, 1000)
	for i := range models {
		models[i] = gpu.PlanModel{Name: fmt.Sprintf("m%d", i), RequiredBytes: (1 + r.Int64N(40)) * GiB / 2}
	}
	bins := make([]gpu.Bin, 64)
	for i := range bins {
		bins[i] = gpu.Bin{UUID: gpu.StaticUUID(i), Index: i, CapacityBytes: 79 * GiB}
	}
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		gpu.PlanFFD(models, bins)
	}
}

// TestCheckPlanBounds walks each of a plan's limits across its edge.
func TestCheckPlanBounds(t *testing.T) {
	many := func(n int) []gpu.PlanModel {
		ms := make([]gpu.PlanModel, n)
		for i := range ms {
			ms[i] = gpu.PlanModel{Name: "m" + strconv.Itoa(i), RequiredBytes: 1}
		}
		return ms
	}
	for _, tt := range []struct {
		name   string
		models []gpu.PlanModel
		bad    string // "" when accepted
	}{
		{"exactly the most models is accepted", many(gpu.MaxPlanModels), ""},
		{"one model more is refused", many(gpu.MaxPlanModels + 1), "models"},
		{"no model is refused", nil, "models"},
		{"a model of one byte is accepted", []gpu.PlanModel{{Name: "m", RequiredBytes: 1}}, ""},
		{"a model of no bytes is refused", []gpu.PlanModel{{Name: "m"}}, "models[0].required_bytes"},
		{"exactly the most GPUs is accepted", []gpu.PlanModel{{Name: "m", RequiredBytes: 1, GPUCount: gpu.MaxGPUCount}}, ""},
		{"one GPU more is refused", []gpu.PlanModel{{Name: "m", RequiredBytes: 1, GPUCount: gpu.MaxGPUCount + 1}}, "models[0].gpu_count"},
		{"a negative GPU count is refused", []gpu.PlanModel{{Name: "m", RequiredBytes: 1, GPUCount: -1}}, "models[0].gpu_count"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := gpu.CheckPlan(tt.models)
			if (tt.bad == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.bad)) {
				t.Fatalf("CheckPlan = %v, want %q", err, tt.bad)
			}
		})
	}
}

// TestAPlanOverGPUsWithNoRoomHasNoLowerBound: with every GPU's capacity 0 nothing is placed and
// no lower bound is given (not a division by zero).
func TestAPlanOverGPUsWithNoRoomHasNoLowerBound(t *testing.T) {
	p := gpu.PlanFFD([]gpu.PlanModel{{Name: "m", RequiredBytes: GiB}}, []gpu.Bin{{UUID: "a", CapacityBytes: 0}, {UUID: "b", CapacityBytes: -1}})
	if len(p.Unplaced) != 1 || p.LowerBoundGPUs != 0 || p.GPUsUsed != 0 {
		t.Fatalf("plan %+v, want m unplaced and no lower bound", p)
	}
}
