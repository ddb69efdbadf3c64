package metrics_test

import (
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// t0 is the fake clock's origin; it starts a 5-second bucket, so offsets from it read as bucket edges.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// fakeClock is a clock that moves only when told; tests that use it are single-goroutine.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time         { return c.now }
func (c *fakeClock) Set(d time.Duration)    { c.now = at(d) }
func (c *fakeClock) Add(d time.Duration)    { c.now = c.now.Add(d) }
func (c *fakeClock) config() metrics.Config { return metrics.Config{Now: c.Now} }

// newTracker returns a tracker started at t0 and its clock.
func newTracker(t testing.TB, cfg metrics.Config) (*metrics.Tracker, *fakeClock) {
	t.Helper()
	c := &fakeClock{now: t0}
	cfg.Now = c.Now
	return metrics.NewTracker(cfg), c
}

func reportState(t testing.TB, tr *metrics.Tracker, r metrics.StateReport) metrics.StateResult {
	t.Helper()
	res, err := tr.ReportState(r)
	if err != nil {
		t.Fatalf("ReportState(%+v): %v", r, err)
	}
	return res
}

func reportTraffic(t testing.TB, tr *metrics.Tracker, gateway string, samples ...metrics.Sample) {
	t.Helper()
	if err := tr.ReportTraffic(gateway, samples); err != nil {
		t.Fatalf("ReportTraffic(%s): %v", gateway, err)
	}
}

// sample is n requests of a model in [from, to) after t0.
func sample(model string, from, to time.Duration, n int64) metrics.Sample {
	return metrics.Sample{Model: model, Start: at(from), End: at(to), Requests: n}
}

func mustModel(t testing.TB, tr *metrics.Tracker, name string) metrics.ModelView {
	t.Helper()
	v, ok := tr.Model(name)
	if !ok {
		t.Fatalf("Model(%q): not tracked", name)
	}
	return v
}

// loaded reports model LOADED on gateway at offset d (the clock is set to d first).
func loaded(t testing.TB, tr *metrics.Tracker, c *fakeClock, gateway, model string, d time.Duration) {
	t.Helper()
	c.Set(d)
	reportState(t, tr, metrics.StateReport{Gateway: gateway, Model: model, State: metrics.StateLoaded})
}
