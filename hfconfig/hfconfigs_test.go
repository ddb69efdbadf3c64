package hfconfig_test

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modelium/brain/hfconfig"
)

// hfConfigs is the folder of real Hugging Face configs shared by the project.
// Tests run in hfconfig/; the configs are copied into the repository (testdata/hf-configs/SOURCES.md).
const hfConfigs = "../testdata/hf-configs"

// published is one row of SOURCES.md's "Published parameter counts" table.
type published struct {
	params   float64
	required bool
}

// readPublished parses the published counts from SOURCES.md, so that the
// test holds the estimates to the data's own statement.
func readPublished(t *testing.T) map[string]published {
	t.Helper()
	f, err := os.Open(filepath.Join(hfConfigs, "SOURCES.md"))
	if err != nil {
		t.Fatalf("the Hugging Face configs in testdata/hf-configs are required : %v", err)
	}
	defer f.Close()
	out := map[string]published{}
	sc := bufio.NewScanner(f)
	inTable := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inTable = strings.Contains(line, "Published parameter counts")
			continue
		}
		cells := strings.Split(line, "|")
		if !inTable || len(cells) != 6 {
			continue
		}
		folder, count, held := strings.TrimSpace(cells[1]), strings.Fields(cells[2]), strings.TrimSpace(cells[4])
		if len(count) != 2 || (held != "required" && held != "optional") {
			continue
		}
		n, err := strconv.ParseFloat(count[0], 64)
		if err != nil {
			t.Fatalf("SOURCES.md row %q: %v", folder, err)
		}
		switch count[1] {
		case "M":
			n *= 1e6
		case "B":
			n *= 1e9
		default:
			t.Fatalf("SOURCES.md row %q: unit %q", folder, count[1])
		}
		out[folder] = published{params: n, required: held == "required"}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// readOptional returns the file's bytes, or nil when it does not exist.
func readOptional(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealConfigs holds the estimate of every real config to the parameter count its model
// card publishes (SOURCES.md): within 10 %, whole (not partial) for the required rows.
func TestRealConfigs(t *testing.T) {
	pub := readPublished(t)
	entries, err := os.ReadDir(hfConfigs)
	if err != nil {
		t.Fatalf("the Hugging Face configs in testdata/hf-configs are required: %v", err)
	}
	folders := 0
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		folders++
		dir := ent.Name()
		t.Run(dir, func(t *testing.T) {
			p, ok := pub[dir]
			if !ok {
				t.Fatalf("SOURCES.md has no published count for %s", dir)
			}
			cfg, err := os.ReadFile(filepath.Join(hfConfigs, dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			index := readOptional(t, filepath.Join(hfConfigs, dir, "model.safetensors.index.json"))
			if index == nil {
				index = readOptional(t, filepath.Join(hfConfigs, dir, "pytorch_model.bin.index.json"))
			}
			a, err := hfconfig.Analyze(cfg, index, hfconfig.AnalyzeOptions{})
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if m := a.Memory; m.TotalBytes != m.WeightsBytes+m.KVCacheBytes+m.OverheadBytes {
				t.Errorf("total %d is not the sum of its parts %+v", m.TotalBytes, m)
			}
			fromConfig := float64(a.ConfigParameterCount)
			dev := (fromConfig - p.params) / p.params
			t.Logf("config estimate %.4g vs published %.4g (%+.1f %%); count %.4g from %s; partial=%v missing=%v assumed=%v",
				fromConfig, p.params, 100*dev, float64(a.ParameterCount), a.ParameterSource, a.Partial, a.MissingFields, a.Assumed)
			if !p.required {
				// An optional row may be partial; if it claims to be whole,
				// it is held to the same 10 %.
				if a.Partial {
					return
				}
				if math.Abs(dev) > 0.10 {
					t.Errorf("optional row, not marked partial: estimate %d is %+.1f %% off the published %.4g", a.ConfigParameterCount, 100*dev, p.params)
				}
				return
			}
			if math.Abs(dev) > 0.10 {
				t.Errorf("config estimate %d is %+.1f %% off the published %.4g", a.ConfigParameterCount, 100*dev, p.params)
			}
			if dev := (float64(a.ParameterCount) - p.params) / p.params; math.Abs(dev) > 0.10 {
				t.Errorf("parameter count %d (%s) is %+.1f %% off the published %.4g", a.ParameterCount, a.ParameterSource, 100*dev, p.params)
			}
			if a.Partial {
				t.Errorf("required row is partial: missing %v", a.MissingFields)
			}
			if index != nil && a.ParameterSource != hfconfig.ParamSourceShardIndex {
				t.Errorf("ParameterSource = %s with an index, want %s", a.ParameterSource, hfconfig.ParamSourceShardIndex)
			}
		})
	}
	if folders != len(pub) {
		t.Errorf("found %d config folders, SOURCES.md publishes %d counts", folders, len(pub))
	}
}
