package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelium/brain/predict"
)

const (
	invFile = "../../testdata/traces/azure-functions-2019/1000_inv.csv"
	memFile = "../../testdata/traces/azure-functions-2019/1000_mem.csv"
)

// firstRows writes the header and the first n rows of the Azure sample to a file of the test's
// own: most tests need a few models, and reading and checking the whole file costs a lot more
// under the race detector than replaying them.
func firstRows(t *testing.T, n int) string {
	t.Helper()
	data, err := os.ReadFile(invFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfterN(string(data), "\n", n+2)
	path := filepath.Join(t.TempDir(), "first.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:n+1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// replayJSON runs the command with --json and decodes its object.
func replayJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(append(args, "--json"), &out, &errOut, false); err != nil {
		t.Fatalf("brainreplay %s: %v", strings.Join(args, " "), err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	return got
}

func TestJSONHasTheFieldsDesignNames(t *testing.T) {
	got := replayJSON(t, "--trace", invFile, "--rows", "1-20", "--memory", memFile, "--policy", "fixed", "--keep-alive", "5m") // the whole file, read
	for _, k := range []string{"models", "minutes", "cold_starts", "idle_model_minutes", "idle_mb_minutes", "loads", "policy", "rows_read", "unloads", "idle_gb_hours", "wall_seconds"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q in %v", k, got)
		}
	}
	if got["models"] != 20.0 || got["minutes"] != 1440.0 || got["policy"] != "fixed" || got["rows_read"] != 1000.0 || got["keep_alive_seconds"] != 300.0 {
		t.Errorf("models %v, minutes %v, policy %v, rows_read %v, keep_alive_seconds %v; want 20, 1440, fixed, 1000, 300",
			got["models"], got["minutes"], got["policy"], got["rows_read"], got["keep_alive_seconds"])
	}
}

func TestKeepAliveChangesTheFigures(t *testing.T) {
	trace := firstRows(t, 20)
	short := replayJSON(t, "--trace", trace, "--policy", "fixed", "--keep-alive", "1m")
	long := replayJSON(t, "--trace", trace, "--policy", "fixed", "--keep-alive", "10m")
	if !(short["cold_starts"].(float64) > long["cold_starts"].(float64) && short["idle_model_minutes"].(float64) < long["idle_model_minutes"].(float64)) {
		t.Errorf("1m: %v cold starts, %v idle; 10m: %v, %v; want more cold starts and fewer idle minutes with 1m",
			short["cold_starts"], short["idle_model_minutes"], long["cold_starts"], long["idle_model_minutes"])
	}
}

func TestTableSaysWhatEachFigureMeans(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"--trace", firstRows(t, 5), "--rows", "1-3", "--policy", "fixed", "--memory", memFile}, &out, &out, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"first.csv (azure-functions-2019-sampled), rows 1-3 of 5",
		"fixed: unload after 5m idle below 0.1 QPS, a cycle every 10s",
		"invocation minutes whose model was not loaded",
		"minutes a model was loaded without a request",
		"idle MB-minutes / 1024 / 60, memory from 1000_mem.csv",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

func TestSweepWritesAChart(t *testing.T) {
	trace := firstRows(t, 5)
	for _, ext := range []string{".png", ".svg"} {
		t.Run(ext, func(t *testing.T) {
			chart := filepath.Join(t.TempDir(), "tradeoff"+ext)
			var out bytes.Buffer
			args := []string{"--trace", trace, "--sweep", "keep-alive=1m,10m", "--chart", chart, "--json"}
			if err := run(args, &out, &out, false); err != nil {
				t.Fatal(err)
			}
			var got sweepReport
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Runs) != 2 || got.Runs[0].KeepAliveSeconds != 60 || got.Runs[1].KeepAliveSeconds != 600 {
				t.Fatalf("runs %+v, want 1m then 10m", got.Runs)
			}
			data, err := os.ReadFile(chart)
			if err != nil {
				t.Fatal(err)
			}
			magic := map[string]string{".png": "\x89PNG", ".svg": "<?xml"}[ext]
			if !bytes.HasPrefix(data, []byte(magic)) {
				t.Errorf("chart starts %q, want %q", data[:min(len(data), 8)], magic)
			}
		})
	}
}

func TestSweepOfMinProbabilityIsThePredictiveCurve(t *testing.T) {
	var out bytes.Buffer
	args := []string{"--trace", invFile, "--rows", "1-20", "--sweep", "policy=fixed,predictive", "--sweep", "keep-alive=1m,10m", "--sweep", "min-probability=0.05,0.5", "--json"}
	if err := run(args, &out, &out, false); err != nil {
		t.Fatal(err)
	}
	var got sweepReport
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	type run struct {
		policy    string
		keepAlive float64
		p         float64
	}
	var runs []run
	for _, r := range got.Runs {
		runs = append(runs, run{r.Policy, r.KeepAliveSeconds, r.MinProbability})
	}
	// keep-alive sweeps the fixed policy, min-probability the predictive one (with the
	// configuration's keep-alive for models without history).
	want := []run{{"fixed", 60, 0}, {"fixed", 600, 0}, {"predictive", 300, 0.05}, {"predictive", 300, 0.5}}
	if !slices.Equal(runs, want) {
		t.Errorf("runs %v, want %v", runs, want)
	}
	if a, b := got.Runs[2], got.Runs[3]; !(a.IdleModelMinutes > b.IdleModelMinutes) {
		t.Errorf("a higher min_probability should keep models less: idle %d at 0.05, %d at 0.5", a.IdleModelMinutes, b.IdleModelMinutes)
	}
}

func TestBadInvocationsAreClearErrors(t *testing.T) {
	dir := t.TempDir()
	negative := filepath.Join(dir, "neg.csv")
	if err := os.WriteFile(negative, []byte("HashFunction,HashApp,HashOwner,minute_1\nf,a,o,-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no trace", nil, "--trace is required: a trace file to replay (see --help)"},
		{"unknown policy", []string{"--trace", invFile, "--policy", "lru"}, `policy "lru": want fixed or predictive`},
		{"bad rows", []string{"--trace", invFile, "--rows", "5-1"}, `--rows "5-1": the last row is before the first`},
		{"rows beyond the trace", []string{"--trace", invFile, "--rows", "999-1001"}, "1000_inv.csv: rows 999-1001 asked, but the file has 1000 data rows"},
		{"a negative count names file, line and column", []string{"--trace", negative}, "neg.csv: line 2, column 4 (minute_1): negative count -1"},
		{"missing trace file", []string{"--trace", filepath.Join(dir, "none.csv")}, "read trace: open " + filepath.Join(dir, "none.csv") + ": no such file or directory"},
		{"sweep and keep-alive together", []string{"--trace", invFile, "--keep-alive", "5m", "--sweep", "keep-alive=1m,2m"}, "--keep-alive 5m0s and --sweep keep-alive=...: give one of them"},
		{"sweep of a bad duration", []string{"--trace", invFile, "--sweep", "keep-alive=1m,soon"}, `--sweep keep-alive: "soon" is not a positive duration such as 5m`},
		{"sweep of an unknown key", []string{"--trace", invFile, "--sweep", "interval=1s"}, `invalid value "interval=1s" for flag -sweep: "interval": the keys are keep-alive, policy and min-probability`},
		{"sweep of a bad probability", []string{"--trace", invFile, "--policy", "predictive", "--sweep", "min-probability=0.05,2"}, `--sweep min-probability: "2" is not a probability above 0 and at most 1`},
		{"chart of an unknown format", []string{"--trace", invFile, "--chart", "x.jpg"}, `--chart "x.jpg": want a file name ending in .png or .svg`},
		{"stray argument", []string{"--trace", invFile, "extra"}, `unexpected argument "extra" (flags only; see --help)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tt.args, &out, &errOut, false)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant        %s", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q on an error", out.String())
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for secs, want := range map[float64]string{10: "10s", 60: "1m", 300: "5m", 90: "1m30s", 3600: "1h", 5400: "1h30m", 0.5: "500ms"} {
		if got := duration(secs); got != want {
			t.Errorf("duration(%g) = %q, want %q", secs, got, want)
		}
	}
}

// writeConfig writes a brain configuration file for one test.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "brain.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTheDaemonsConfigDecides(t *testing.T) {
	rows := []string{"--trace", firstRows(t, 20)}
	figures := func(m map[string]any) [3]any {
		return [3]any{m["cold_starts"], m["idle_model_minutes"], m["unloads"]}
	}
	evict60 := writeConfig(t, "orchestration:\n  policies:\n    evict_after_idle_seconds: 60\n")
	defaults := figures(replayJSON(t, rows...))
	oneMinute := figures(replayJSON(t, append(rows, "--keep-alive", "1m")...))
	fromConfig := figures(replayJSON(t, append(rows, "--config", evict60)...))
	if fromConfig != oneMinute || fromConfig == defaults {
		t.Errorf("evict_after_idle_seconds 60 in the config: %v; --keep-alive 1m: %v; defaults (300 s): %v; want the first two equal and unlike the third",
			fromConfig, oneMinute, defaults)
	}
	if got := figures(replayJSON(t, append(rows, "--config", evict60, "--keep-alive", "5m")...)); got != defaults {
		t.Errorf("--keep-alive 5m over a config of 60 s: %v, want the 5-minute figures %v", got, defaults)
	}

	// Row 1 of the trace, a function unloaded 144 times a day with a 1-minute threshold.
	pinned := replayJSON(t, append(rows, "--config", writeConfig(t, "orchestration:\n  policies:\n    evict_after_idle_seconds: 60\n    always_loaded: [7aa0f8b221c579f9fab07bea9d93fdcc3c7ea09cfdf281ed97958f148471c6e5]\n"))...)
	if p, want := pinned["unloads"].(float64), oneMinute[2].(float64)-144; p != want {
		t.Errorf("with row 1's model always_loaded: %v unloads, want the %v without it less its 144", p, oneMinute[2])
	}

	slow := replayJSON(t, append(rows, "--config", writeConfig(t, "orchestration:\n  decision_interval_seconds: 60\n"))...)
	if slow["decision_interval_seconds"] != 60.0 || slow["cycles"] != 1440.0 {
		t.Errorf("decision_interval_seconds 60: interval %v, %v cycles; want 60, 1440", slow["decision_interval_seconds"], slow["cycles"])
	}
}

func TestABadConfigIsTheDaemonsError(t *testing.T) {
	path := writeConfig(t, "orchestration:\n  policies:\n    evict_after_idle_secs: 60\n")
	err := run([]string{"--trace", invFile, "--config", path}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	want := path + `: line 3: unknown key "evict_after_idle_secs" in a section the brain reads (a misspelling? see the README's configuration section)`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant        %s", err, want)
	}
}

func TestProgressBarOnlyOnATerminal(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		var out, errOut bytes.Buffer
		if err := run([]string{"--trace", firstRows(t, 2), "--json"}, &out, &errOut, terminal); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(errOut.String(), "replaying 2 models"); got != terminal {
			t.Errorf("terminal %v: progress bar shown %v (stderr %q)", terminal, got, errOut.String())
		}
		if !json.Valid(out.Bytes()) {
			t.Errorf("terminal %v: stdout is not one JSON object: %q", terminal, out.String())
		}
	}
}

func TestGPUMemoryComparesTheVictimChoices(t *testing.T) {
	trace := firstRows(t, 10)
	chart := filepath.Join(t.TempDir(), "cap.png")
	var out bytes.Buffer
	// 10 models of the sample: room for 25 % of them, and 2 GiB; a day with models kept an hour.
	args := []string{"--trace", trace, "--memory", memFile, "--keep-alive", "1h", "--gpu-memory", "25%,2GiB", "--victims", "brain,lru", "--chart", chart, "--json"}
	if err := run(args, &out, &out, false); err != nil {
		t.Fatal(err)
	}
	var got sweepReport
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Runs) != 4 {
		t.Fatalf("%d runs, want 2 caps x 2 victim choices", len(got.Runs))
	}
	for i, r := range got.Runs {
		wantCap, wantVictims := []string{"25%", "2GiB"}[i/2], []string{"brain", "lru"}[i%2]
		if r.Cap != wantCap || r.Victims != wantVictims || r.GPUMemoryBytes <= 0 {
			t.Errorf("run %d: cap %q (%d bytes), victims %q; want %q, %q", i, r.Cap, r.GPUMemoryBytes, r.Victims, wantCap, wantVictims)
		}
	}
	if c := got.Runs[2].GPUMemoryBytes; c != 2<<30 {
		t.Errorf("--gpu-memory 2GiB: %d bytes", c)
	}
	if got.Runs[0].Evictions == 0 {
		t.Errorf("room for a quarter of the models evicted nothing: %+v", got.Runs[0].Result)
	}
	if data, err := os.ReadFile(chart); err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Errorf("no PNG chart (%v)", err)
	}

	// The table: a line per cap and victim choice, naming the project each baseline imitates.
	out.Reset()
	if err := run([]string{"--trace", trace, "--memory", memFile, "--gpu-memory", "25%", "--victims", "size-lru"}, &out, &out, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"victim choice", "cold starts", "evictions", "idle model-minutes", "size-weighted LRU (ModelMesh)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestGPUMemoryFromTheConfigsInventory(t *testing.T) {
	trace := firstRows(t, 5)
	cfg := writeConfig(t, "gpu:\n  backend: static\n  headroom_bytes: 0\n  devices:\n    - {name: a, total_bytes: 1073741824}\n    - {name: b, total_bytes: 2147483648, used_bytes: 1073741824}\n")
	got := replayJSON(t, "--trace", trace, "--memory", memFile, "--config", cfg, "--gpu-memory", "config", "--victims", "lru")
	runs := got["runs"].([]any)
	if r := runs[0].(map[string]any); len(runs) != 1 || r["gpu_memory_bytes"] != float64(2<<30) || r["victims"] != "lru" {
		t.Errorf("runs %v: want one LRU run over the configured 2 GiB", runs)
	}
}

func TestGPUMemoryBadValuesAreClearErrors(t *testing.T) {
	trace := firstRows(t, 3)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no memory file", []string{"--gpu-memory", "10%"}, "--gpu-memory needs model sizes"},
		{"a bad size", []string{"--memory", memFile, "--gpu-memory", "lots"}, `--gpu-memory "lots": want a positive number of bytes`},
		{"a percentage above 100", []string{"--memory", memFile, "--gpu-memory", "150%"}, "at most 100"},
		{"no inventory in the config", []string{"--memory", memFile, "--gpu-memory", "config"}, "declares no gpu.devices"},
		{"an unknown victim choice", []string{"--memory", memFile, "--gpu-memory", "10%", "--victims", "mru"}, `victim choice "mru"`},
		{"with a sweep", []string{"--memory", memFile, "--gpu-memory", "10%", "--sweep", "keep-alive=1m,2m"}, "give --sweep or --gpu-memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(append([]string{"--trace", trace}, tt.args...), io.Discard, io.Discard, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"80GiB": 80 << 30, "512MiB": 512 << 20, "80GB": 80e9, "1.5TiB": 3 << 39, "1073741824": 1 << 30, "10 GiB": 10 << 30} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestTheConfigurationsKeepAlivePolicyIsTheDefault(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "brain.yaml")
	if err := os.WriteFile(cfg, []byte("orchestration:\n  policies:\n    keep_alive_policy: predictive\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := replayJSON(t, "--trace", invFile, "--rows", "1-20", "--config", cfg)
	if got["policy"] != "predictive" || got["min_probability"] != predict.DefaultMinProbability {
		t.Errorf("policy %v, min_probability %v: want the configuration's predictive, with its default threshold", got["policy"], got["min_probability"])
	}
}
