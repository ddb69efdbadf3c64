//go:build !race

// The acceptance figures of DESIGN.md on the Azure trace: 500 models over a day take about a
// second for the three runs, but far longer under the race detector, which
// TestRunMatchesTheDefinitionsOnRandomTraces covers on smaller traces with the same definitions.

package replay_test

import (
	"math"
	"testing"
	"time"

	"github.com/modelium/brain/replay"
)

const azureDir = "../testdata/traces/azure-functions-2019/"

func TestRunReproducesTheDesignFiguresOnRows1To500(t *testing.T) {
	tr, err := replay.ReadTraceFile(azureDir+"1000_inv.csv", replay.Rows{First: 1, Last: 500})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := replay.ReadMemoryFile(azureDir + "1000_mem.csv")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Layout != replay.LayoutAzure2019Sampled || tr.RowsRead != 1000 || len(tr.Models) != 500 || tr.Minutes != 1440 {
		t.Fatalf("read %s, %d rows, %d models, %d minutes; want the sampled layout, 1000, 500, 1440", tr.Layout, tr.RowsRead, len(tr.Models), tr.Minutes)
	}
	tests := []struct {
		keepAlive  time.Duration
		cold, idle int64
		gbHours    float64 // rounded
	}{
		{time.Minute, 23812, 34657, 683},
		{5 * time.Minute, 7647, 94634, 1882},
		{10 * time.Minute, 4118, 125654, 2519},
	}
	for _, tt := range tests {
		t.Run("fixed "+tt.keepAlive.String(), func(t *testing.T) {
			r := run(t, tr, replay.Config{Policy: fixed(t, tt.keepAlive), Memory: mem})
			if r.ColdStarts != tt.cold || r.IdleModelMinutes != tt.idle || math.Round(r.IdleGBHours) != tt.gbHours {
				t.Errorf("%d cold starts, %d idle model-minutes, %.1f idle GB-h; want %d, %d, %g",
					r.ColdStarts, r.IdleModelMinutes, r.IdleGBHours, tt.cold, tt.idle, tt.gbHours)
			}
			if r.Loads != r.ColdStarts || r.ModelsWithoutMemory != 0 {
				t.Errorf("%d loads for %d cold starts, %d models without memory", r.Loads, r.ColdStarts, r.ModelsWithoutMemory)
			}
		})
	}
}
