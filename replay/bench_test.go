package replay_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/modelium/brain/replay"
)

// BenchmarkRunDay replays a whole day (1,440 minutes) of n models with the fixed 5-minute policy
// at the default decision interval. The models are the 1,000 functions of the Azure sample,
// repeated under new names beyond 1,000 (so 10,000 models have ten times the traffic of 1,000).
func BenchmarkRunDay(b *testing.B) {
	src, err := replay.ReadTraceFile("../testdata/traces/azure-functions-2019/1000_inv.csv", replay.Rows{})
	if err != nil {
		b.Fatal(err)
	}
	policy := fixed(b, 5*time.Minute)
	for _, n := range []int{100, 1000, 10000} {
		tr := *src
		tr.Models = make([]replay.Model, n)
		for i := range tr.Models {
			tr.Models[i] = src.Models[i%len(src.Models)]
			tr.Models[i].Name = fmt.Sprintf("%s-%d", tr.Models[i].Name, i)
		}
		b.Run(fmt.Sprintf("models=%d", n), func(b *testing.B) {
			var r *replay.Result
			for b.Loop() {
				if r, err = replay.Run(&tr, replay.Config{Policy: policy, DecisionInterval: 10 * time.Second}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*tr.Minutes), "model-minutes")
			b.ReportMetric(float64(r.ColdStarts), "cold-starts")
		})
	}
}
