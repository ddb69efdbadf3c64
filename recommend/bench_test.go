package recommend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// BenchmarkEvaluate runs the engine's cycle alone (no hub: the replay's path) over 100,000 pairs;
// server.BenchmarkEvaluate measures it with the hub, as the daemon runs it.
//
//   - steady-open: 100,000 LOADED pairs, each with an open recommendation that still holds;
//   - steady-busy: 100,000 LOADED pairs, none idle, nothing open;
//   - steady-unloaded: 100,000 UNLOADED pairs with history, which the fixed policy never loads
//     (the cost of asking about them);
//   - all-change: every cycle recommends or withdraws all 100,000.
func BenchmarkEvaluate(b *testing.B) {
	const pairs = 100_000
	setup := func(b *testing.B, state metrics.State) (*world, []metrics.Sample) {
		w := newWorld(b, nil)
		samples := make([]metrics.Sample, 0, pairs)
		for i := range pairs {
			m := fmt.Sprintf("org/model-%06d", i)
			w.report("gw-1", m, fmt.Sprintf("GPU-%d", i%8), metrics.StateLoaded)
			if state == metrics.StateUnloaded {
				w.report("gw-1", m, "", metrics.StateUnloaded)
			}
			samples = append(samples, metrics.Sample{Model: m, Requests: 1})
		}
		return w, samples
	}
	requestAll := func(b *testing.B, w *world, samples []metrics.Sample) {
		now := w.clock.Now()
		for i := 0; i < len(samples); i += metrics.MaxSamples {
			batch := samples[i:min(i+metrics.MaxSamples, len(samples))]
			for j := range batch {
				batch[j].Start, batch[j].End = now.Add(-time.Second), now
			}
			if err := w.tracker.ReportTraffic("gw-1", batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	steady := func(b *testing.B, w *world, wantOpen int) {
		if res := w.engine.Evaluate(w.clock.Now()); res.Open != wantOpen {
			b.Fatalf("first cycle: %+v", res)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if res := w.engine.Evaluate(w.clock.Now()); res.Recommended+res.Withdrawn != 0 {
				b.Fatalf("steady cycle changed: %+v", res)
			}
		}
	}
	b.Run("steady-open", func(b *testing.B) {
		w, _ := setup(b, metrics.StateLoaded)
		w.clock.Advance(301 * time.Second)
		steady(b, w, pairs)
	})
	b.Run("steady-busy", func(b *testing.B) {
		w, _ := setup(b, metrics.StateLoaded)
		steady(b, w, 0)
	})
	b.Run("steady-unloaded", func(b *testing.B) {
		w, _ := setup(b, metrics.StateUnloaded)
		steady(b, w, 0)
	})
	b.Run("all-change", func(b *testing.B) {
		w, samples := setup(b, metrics.StateLoaded)
		open := false
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			if open {
				requestAll(b, w, samples)
			} else {
				w.clock.Advance(301 * time.Second)
			}
			open = !open
			b.StartTimer()
			if res := w.engine.Evaluate(w.clock.Now()); res.Recommended+res.Withdrawn != pairs {
				b.Fatalf("cycle: %+v", res)
			}
		}
	})
}
