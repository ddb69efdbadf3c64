package main

// A smoke run of the whole harness against the real brain binary, with tiny settings and no
// thresholds: `make test` keeps `make bench` from rotting without timing anything.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSmokeRunsEveryPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the brain binary")
	}
	dir := t.TempDir()
	brain := filepath.Join(dir, "brain")
	build := exec.Command("go", "build", "-o", brain, "../brain")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the brain: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{
		"--brain", brain,
		"--config", "../../configs/bench-eight-gpus.yaml",
		"--hf-config", "../../testdata/hf-configs/meta-llama__Llama-3.1-8B/config.json",
		"--out", out,
		"--concurrency", "6", "--workers-per-conn", "3",
		"--slice", "100ms", "--rounds", "2", "--warmup", "20ms", "--paced-rate", "300",
		"--subscribers", "20", "--stalled", "2", "--backlog", "50", "--fanout-rounds", "2",
		"--models", "2000", "--settle", "100ms",
		"--profile-dir", filepath.Join(dir, "profiles"), "--profile-seconds", "1",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("brainbench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if got, want := len(res.Unary), len(subjects(nil))+1; got != want {
		t.Errorf("%d unary comparisons, want %d (every subject and the paced one)", got, want)
	}
	for _, c := range res.Unary {
		if c.Subject.Calls == 0 || c.Baseline.Calls == 0 || c.ThroughputRatio <= 0 {
			t.Errorf("%s: nothing measured: %+v", c.Name, c)
		}
	}
	if len(res.Fanout) != 2 || res.Fanout[1].Stalled != 2 || res.Fanout[0].Deliveries != 2*20 {
		t.Errorf("fan-out results: %+v", res.Fanout)
	}
	if res.Memory.Models != 2000 || res.Memory.After.RSSBytes == 0 {
		t.Errorf("memory results: %+v", res.Memory)
	}
	for _, p := range res.Profiles {
		for _, f := range []string{p.BrainProfile, p.ClientProfile} {
			if st, err := os.Stat(f); err != nil || st.Size() == 0 {
				t.Errorf("profile %s: %v", f, err)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ratios to the baseline", "Watch fan-out", "Memory", "Targets"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
}

func TestProfileName(t *testing.T) {
	for in, want := range map[string]string{
		"ChooseRuntime (name)":        "chooseruntime-name.cpu.prof",
		"Health/Check":                "health-check.cpu.prof",
		"ReportTraffic (100 samples)": "reporttraffic-100-samples.cpu.prof",
	} {
		if got := profileName(in); got != want {
			t.Errorf("profileName(%q) = %q, want %q", in, got, want)
		}
	}
}
