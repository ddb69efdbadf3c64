package metrics_test

import (
	"fmt"
	"time"

	"github.com/modelium/brain/metrics"
)

func ExampleTracker() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tr := metrics.NewTracker(metrics.Config{Now: func() time.Time { return now }})

	// A gateway loads a model and reports a minute of traffic.
	tr.ReportState(metrics.StateReport{Gateway: "gw-1", Model: "llama-3-8b", Runtime: "vllm",
		GPUUUID: "GPU-0", State: metrics.StateLoaded, MemoryBytes: 16 << 30})
	now = now.Add(time.Minute)
	err := tr.ReportTraffic("gw-1", []metrics.Sample{
		{Model: "llama-3-8b", Start: now.Add(-time.Minute), End: now, Requests: 120, Errors: 2, InFlight: 1},
	})
	fmt.Println("batch error:", err)

	// Two minutes later nothing more came.
	now = now.Add(2 * time.Minute)
	v, _ := tr.Model("llama-3-8b")
	fmt.Printf("%s on %s: %s; qps 1m %.1f, 5m %.1f; idle %.0f s; %d requests, %d errors\n",
		v.Name, v.Placements[0].Gateway, v.Placements[0].State, v.QPS1m, v.QPS5m, v.IdleSeconds, v.RequestsTotal, v.ErrorsTotal)

	// A sample that ends in the future is rejected with the field to blame.
	err = tr.ReportTraffic("gw-1", []metrics.Sample{{Model: "llama-3-8b", Start: now, End: now.Add(time.Hour)}})
	fmt.Println(err)
	// Output:
	// batch error: <nil>
	// llama-3-8b on gw-1: loaded; qps 1m 0.0, 5m 0.4; idle 120 s; 120 requests, 2 errors
	// invalid request: samples[0].end_time: 1h0m0s in the future (allowed clock skew 5s)
}
