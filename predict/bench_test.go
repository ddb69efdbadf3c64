package predict_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/modelium/brain/predict"
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
// history: the unchanged observation of each model's last request, then its decision.
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
	b.ReportAllocs()
	for b.Loop() {
		for i, name := range names {
			p.Decide(fixed, predict.Input{Gateway: gw, UnloadInput: rules.UnloadInput{Model: name, IdleSeconds: 300}, Loaded: true, LastRequest: last[i]}, now)
		}
	}
}

// BenchmarkMemoryPerModel reports the heap a policy holds per model with history.
func BenchmarkMemoryPerModel(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p, _ := trained(b, n)
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
