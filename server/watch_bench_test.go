package server_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/server"
)

// loadModels loads n models on gw-1, spread over 8 GPUs, and returns their names.
func (b *brain) loadModels(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("org/model-%06d", i)
		b.load("gw-1", names[i], fmt.Sprintf("GPU-%d", i%8))
	}
	return names
}

// requestAll reports one request for every model, in batches of the largest allowed size.
func (b *brain) requestAll(names []string) {
	now := b.clock.Now()
	samples := make([]metrics.Sample, 0, server.MaxSamplesPerBatch)
	for i, n := range names {
		samples = append(samples, metrics.Sample{Model: n, Start: now.Add(-time.Second), End: now, Requests: 1})
		if len(samples) == cap(samples) || i == len(names)-1 {
			if err := b.tracker.ReportTraffic("gw-1", samples); err != nil {
				b.t.Fatal(err)
			}
			samples = samples[:0]
		}
	}
}

// BenchmarkEvaluate runs evaluation cycles over 100,000 loaded models (target: <= 50 ms a cycle).
//
//   - steady-open: every model has an open recommendation that still holds (the lookup-heavy cycle);
//   - steady-busy: no model is idle, nothing is open;
//   - all-change: every cycle recommends or withdraws all 100,000 (the worst burst, published to
//     no subscriber).
func BenchmarkEvaluate(b *testing.B) {
	const models = 100_000
	b.Run("steady-open", func(b *testing.B) {
		br := newBrain(b, server.Options{})
		br.loadModels(models)
		br.clock.Advance(301 * time.Second)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if res := br.evaluate(); res.Open != models {
			b.Fatalf("first cycle: %+v", res)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if res := br.evaluate(); res.Recommended+res.Withdrawn != 0 {
				b.Fatalf("steady cycle changed: %+v", res)
			}
		}
		// The open recommendations' state: evaluator and hub maps, messages, the retained window.
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/models, "open-B/model")
	})
	b.Run("steady-busy", func(b *testing.B) {
		br := newBrain(b, server.Options{})
		br.loadModels(models)
		br.evaluate()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if res := br.evaluate(); res.Open != 0 {
				b.Fatalf("steady cycle changed: %+v", res)
			}
		}
	})
	b.Run("all-change", func(b *testing.B) {
		br := newBrain(b, server.Options{})
		names := br.loadModels(models)
		open := false
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			if open {
				br.requestAll(names)
			} else {
				br.clock.Advance(301 * time.Second)
			}
			open = !open
			b.StartTimer()
			if res := br.evaluate(); res.Recommended+res.Withdrawn != models {
				b.Fatalf("cycle: %+v", res)
			}
		}
	})
}

// BenchmarkWatchFanOut publishes one event (a recommendation, then its withdrawal, in turn) to
// 1,000 subscribers on 100 connections and measures, per subscriber, the time from the start of
// the evaluation cycle to the event's arrival in the client (target: p99 <= 100 ms).
func BenchmarkWatchFanOut(b *testing.B) {
	const subscribers, conns = 1000, 100
	br := newBrain(b, server.Options{})
	br.load("gw-1", "llama", "GPU-0")
	var start atomic.Int64 // UnixNano of the current cycle's start
	latencies := make(chan time.Duration, subscribers)
	clients := make([]brainv1.BrainServiceClient, conns)
	for i := range clients {
		clients[i] = br.dial()
	}
	for i := range subscribers {
		w := br.watch(clients[i%conns], &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"})
		w.snapshot()
		go func() {
			for {
				m, err := w.stream.Recv()
				if err != nil {
					return
				}
				if m.GetRecommended() != nil || m.GetWithdrawn() != nil {
					latencies <- time.Duration(time.Now().UnixNano() - start.Load())
				}
			}
		}()
	}
	var all []time.Duration
	open := false
	b.ResetTimer()
	for b.Loop() {
		if open {
			br.request("gw-1", "llama", 1, 0)
		} else {
			br.clock.Advance(301 * time.Second)
		}
		start.Store(time.Now().UnixNano())
		if res := br.evaluate(); res.Recommended+res.Withdrawn != 1 {
			b.Fatalf("cycle: %+v", res)
		}
		open = !open
		for range subscribers {
			all = append(all, <-latencies)
		}
	}
	b.StopTimer()
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}
