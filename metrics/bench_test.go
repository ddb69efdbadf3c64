package metrics_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// modelNames returns n distinct model names like those gateways report.
func modelNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("org-%03d/model-%06d", i%997, i)
	}
	return names
}

// loadedTracker tracks n models, each LOADED on one of 8 gateways and with one traffic sample.
func loadedTracker(b *testing.B, n int) (*metrics.Tracker, *fakeClock) {
	b.Helper()
	tr, c := newTracker(b, metrics.Config{MaxModels: n})
	c.Set(time.Hour)
	batches := map[string][]metrics.Sample{}
	for i, name := range modelNames(n) {
		gw := fmt.Sprintf("gateway-%d", i%8)
		reportState(b, tr, metrics.StateReport{Gateway: gw, Model: name, Runtime: "vllm",
			GPUUUID: fmt.Sprintf("GPU-%d", i%64), State: metrics.StateLoaded, MemoryBytes: 1 << 30})
		batches[gw] = append(batches[gw], metrics.Sample{Model: name, Start: at(time.Hour - 10*time.Second),
			End: at(time.Hour), Requests: int64(i % 3), InFlight: int64(i % 2)})
		if len(batches[gw]) == metrics.MaxSamples {
			reportTraffic(b, tr, gw, batches[gw]...)
			batches[gw] = batches[gw][:0]
		}
	}
	for gw, s := range batches {
		reportTraffic(b, tr, gw, s...)
	}
	return tr, c
}

// BenchmarkReportTraffic1000 applies batches of 1,000 samples (1,000 models, one gateway), the
// clock moving 10 s a batch so that every sample moves the rings forward.
func BenchmarkReportTraffic1000(b *testing.B) {
	tr, c := newTracker(b, metrics.Config{})
	samples := make([]metrics.Sample, 1000)
	for i, name := range modelNames(len(samples)) {
		samples[i] = metrics.Sample{Model: name, Requests: 50, Errors: 1, InFlight: 2}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Add(10 * time.Second)
		for j := range samples {
			samples[j].Start, samples[j].End = c.now.Add(-10*time.Second), c.now
		}
		if err := tr.ReportTraffic("gateway-0", samples); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkReportTrafficParallel has one gateway per goroutine report batches of 1,000 samples
// at once, to see what the tracker's single lock costs under contention.
func BenchmarkReportTrafficParallel(b *testing.B) {
	now := at(time.Hour)
	tr := metrics.NewTracker(metrics.Config{Now: func() time.Time { return now }})
	names := modelNames(10000)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		g := next.Add(1)
		gw := fmt.Sprintf("gateway-%d", g)
		samples := make([]metrics.Sample, 1000)
		for i := range samples {
			samples[i] = metrics.Sample{Model: names[(int(g)*1000+i)%len(names)], Start: now.Add(-10 * time.Second), End: now, Requests: 50}
		}
		for pb.Next() {
			if err := tr.ReportTraffic(gw, samples); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkAppendLoaded100k is one full pass of the unload evaluator's input: 100,000 LOADED
// models, the result slice reused between passes.
func BenchmarkAppendLoaded100k(b *testing.B) {
	const n = 100000
	tr, c := loadedTracker(b, n)
	var loaded []metrics.LoadedModel
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		loaded = tr.AppendLoaded(loaded[:0], c.now)
	}
	if len(loaded) != n {
		b.Fatalf("%d loaded; want %d", len(loaded), n)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/pass")
}

// BenchmarkMemoryPerModel100k measures the heap that 100,000 tracked models hold (each LOADED on
// one gateway, with traffic), in bytes a model. Run it with -benchtime=1x.
func BenchmarkMemoryPerModel100k(b *testing.B) {
	const n = 100000
	var perModel float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr, _ := loadedTracker(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(tr)
		perModel = float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	b.ReportMetric(perModel, "bytes/model")
}

// TestConcurrentReportsAndReads runs gateways reporting while readers list, evaluate and scrape;
// with -race it checks the locking, and the totals check that no sample was lost.
func TestConcurrentReportsAndReads(t *testing.T) {
	now := at(time.Hour)
	tr := metrics.NewTracker(metrics.Config{Now: func() time.Time { return now }})
	_, reg := newRecorder(t, tr, metrics.RecorderConfig{})
	const gateways, batches, models = 4, 50, 20
	var wg sync.WaitGroup
	for g := range gateways {
		wg.Go(func() {
			gw := fmt.Sprintf("gw-%d", g)
			for i := range batches {
				samples := make([]metrics.Sample, models)
				for m := range samples {
					samples[m] = metrics.Sample{Model: fmt.Sprintf("m-%d", m), Start: now.Add(-time.Second), End: now, Requests: 1}
				}
				if err := tr.ReportTraffic(gw, samples); err != nil {
					t.Error(err)
				}
				if _, err := tr.ReportState(metrics.StateReport{Gateway: gw, Model: fmt.Sprintf("m-%d", i%models), State: metrics.StateLoaded}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range batches {
				tr.Models("")
				tr.AppendLoaded(nil, time.Time{})
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, v := range tr.Models("") {
		if v.RequestsTotal != gateways*batches {
			t.Errorf("%s: %d requests; want %d", v.Name, v.RequestsTotal, gateways*batches)
		}
	}
}
