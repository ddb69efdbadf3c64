package predict_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// trained returns a policy with n models, each busy every (7 + i%50) minutes over four hours.
func trained(b *testing.B, n int) (*predict.Policy, []string) {
	b.Helper()
	p, err := predict.New(predict.Config{})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, n)
	for i := range n {
		names[i] = "model-" + strconv.Itoa(i)
		period := 7 + i%50
		for m := 0; m < 240; m += period {
			p.Observe(predict.Key{Gateway: gw, Model: names[i]}, minute(m))
		}
	}
	return p, names
}

func BenchmarkShouldUnload(b *testing.B) {
	p, names := trained(b, 1)
	fixed := rules.DefaultUnloadPolicy()
	in := rules.UnloadInput{Model: names[0], IdleSeconds: 61}
	now := minute(241)
	b.ReportAllocs()
	for b.Loop() {
		p.ShouldUnload(fixed, gw, in, now)
	}
}

func BenchmarkShouldLoad(b *testing.B) {
	p, names := trained(b, 1)
	now := minute(241)
	b.ReportAllocs()
	for b.Loop() {
		p.ShouldLoad(gw, names[0], now)
	}
}

// BenchmarkObserve is the cost of a new busy minute (the replan); an unchanged one is cheaper.
func BenchmarkObserve(b *testing.B) {
	p, names := trained(b, 1)
	b.ReportAllocs()
	m := 240
	for b.Loop() {
		m += 7
		p.Observe(predict.Key{Gateway: gw, Model: names[0]}, minute(m))
	}
}

func BenchmarkObserveUnchanged(b *testing.B) {
	p, names := trained(b, 1)
	at := minute(300)
	p.Observe(predict.Key{Gateway: gw, Model: names[0]}, at)
	b.ReportAllocs()
	for b.Loop() {
		p.Observe(predict.Key{Gateway: gw, Model: names[0]}, at)
	}
}

// BenchmarkCycle100k is one evaluation cycle's policy work over 100,000 loaded models with
// history: the unchanged observation of each model's last request, then its decision, each pair
// under its tracker pair ID as the engine asks (byNames: without one, the lookup by names).
func BenchmarkCycle100k(b *testing.B) {
	const n = 100_000
	p, names := trained(b, n)
	fixed := rules.DefaultUnloadPolicy()
	now := minute(245)
	last := make([]time.Time, n)
	for i := range last {
		period := 7 + i%50
		last[i] = minute((239 / period) * period)
	}
	for _, byNames := range []bool{false, true} {
		b.Run(map[bool]string{false: "byID", true: "byNames"}[byNames], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i, name := range names {
					var id metrics.PairID
					if !byNames {
						id = metrics.PairID(i + 1)
					}
					p.Decide(fixed, predict.Input{Gateway: gw, ID: id, UnloadInput: rules.UnloadInput{Model: name, IdleSeconds: 300}, Loaded: true, LastRequest: last[i]}, now)
				}
			}
		})
	}
}

// BenchmarkMemoryPerModel reports the heap a policy holds per model with history, its slot of a
// cycle's pair ID included.
func BenchmarkMemoryPerModel(b *testing.B) {
	const n = 100_000
	fixed := rules.DefaultUnloadPolicy()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p, names := trained(b, n)
		for i, name := range names {
			p.Decide(fixed, predict.Input{Gateway: gw, ID: metrics.PairID(i + 1), UnloadInput: rules.UnloadInput{Model: name, IdleSeconds: 300}, Loaded: true}, minute(245))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/model")
		runtime.KeepAlive(p)
	}
}

// BenchmarkCycle100kFixed is the baseline beside BenchmarkCycle100k: the fixed policy alone over
// the same 100,000 models.
func BenchmarkCycle100kFixed(b *testing.B) {
	const n = 100_000
	names := make([]string, n)
	for i := range names {
		names[i] = "model-" + strconv.Itoa(i)
	}
	fixed := rules.DefaultUnloadPolicy()
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range names {
			fixed.ShouldUnload(rules.UnloadInput{Model: name, IdleSeconds: 300})
		}
	}
}

// BenchmarkEngineCycle100k is the daemon's evaluation cycle (package recommend's engine, no hub)
// over 100,000 LOADED pairs whose histories say a request is due: steady, nothing changes. The
// fixed sub-benchmark is the same world under the fixed policy, beside it. The all-open ones are
// the same worlds half an hour later, when every pair is recommended for unloading and the
// gateway has not acted yet: each pair's open recommendation is looked up too.
func BenchmarkEngineCycle100k(b *testing.B) {
	const n = 100_000
	for _, name := range []string{"predictive", "fixed", "predictive-all-open", "fixed-all-open"} {
		b.Run(name, func(b *testing.B) {
			allOpen := strings.HasSuffix(name, "-all-open")
			now := t0
			tracker := metrics.NewTracker(metrics.Config{Now: func() time.Time { return now }, MaxModels: n})
			var policy recommend.Policy = recommend.NewFixedPolicy(nil)
			if strings.HasPrefix(name, "predictive") {
				p, _ := predict.New(predict.Config{})
				policy = predict.NewEnginePolicy(p, nil)
			}
			engine := recommend.New(recommend.Config{Tracker: tracker, Policy: policy})
			samples := make([]metrics.Sample, n)
			for i := range samples {
				m := "org/model-" + strconv.Itoa(i)
				for _, s := range []metrics.State{metrics.StateLoading, metrics.StateLoaded} {
					if _, err := tracker.ReportState(metrics.StateReport{Gateway: gw, Model: m, State: s}); err != nil {
						b.Fatal(err)
					}
				}
				samples[i].Model = m
			}
			// Requests every two minutes, three times: two gaps of 2 minutes each.
			for k := range 3 {
				now = t0.Add(time.Duration(2*k)*time.Minute + 30*time.Second)
				for i := 0; i < n; i += metrics.MaxSamples {
					batch := samples[i:min(i+metrics.MaxSamples, n)]
					for j := range batch {
						batch[j].Start, batch[j].End, batch[j].Requests = now.Add(-time.Second), now, 1
					}
					if err := tracker.ReportTraffic(gw, batch); err != nil {
						b.Fatal(err)
					}
				}
				engine.Evaluate(now)
			}
			now = now.Add(40 * time.Second) // the minute after the last request: the next is due
			wantOpen := 0
			if allOpen {
				now, wantOpen = now.Add(30*time.Minute), n // long past every rhythm and the 5-minute timer
			}
			if res := engine.Evaluate(now); res.Open != wantOpen || res.Loaded != n {
				b.Fatalf("first cycle: %+v, want %d open", res, wantOpen)
			}
			b.ReportAllocs()
			for b.Loop() {
				if res := engine.Evaluate(now); res.Recommended+res.Withdrawn != 0 {
					b.Fatalf("steady cycle changed: %+v", res)
				}
			}
		})
	}
}
