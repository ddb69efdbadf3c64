package metrics_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

func TestQPSWindows(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name         string
		samples      []metrics.Sample
		now          time.Duration
		qps1m, qps5m float64
	}{
		{"a request counts in the 1m window until 60 s after its bucket starts",
			[]metrics.Sample{sample("m", 0, 1*s, 60)}, 60*s - 1, 1, 0.2},
		{"at exactly 60 s it has left the 1m window but not the 5m one",
			[]metrics.Sample{sample("m", 0, 1*s, 60)}, 60 * s, 0, 0.2},
		{"it counts in the 5m window until 300 s",
			[]metrics.Sample{sample("m", 0, 1*s, 60)}, 300*s - 1, 0, 0.2},
		{"at exactly 300 s it has left the 5m window",
			[]metrics.Sample{sample("m", 0, 1*s, 60)}, 300 * s, 0, 0},
		{"a request late in a bucket leaves with its bucket (5 s resolution)",
			[]metrics.Sample{sample("m", 4*s, 4*s, 60)}, 60 * s, 0, 0.2},
		{"a sample over 20 s spreads evenly over four buckets",
			[]metrics.Sample{sample("m", 0, 20*s, 120)}, 65 * s, 60.0 / 60, 120.0 / 300},
		{"a sample straddling a bucket edge splits in proportion to the overlap",
			[]metrics.Sample{sample("m", 3*s, 8*s, 10)}, 60 * s, 6.0 / 60, 10.0 / 300},
		{"a sample longer than the window keeps only the window's share",
			[]metrics.Sample{sample("m", 0, 600*s, 600)}, 600*s + 4*s, 55.0 / 60, 295.0 / 300},
		{"the current bucket counts as soon as it has requests",
			[]metrics.Sample{sample("m", 0, 603*s, 603)}, 603 * s, 58.0 / 60, 298.0 / 300},
		{"out-of-order samples land in the buckets they cover",
			[]metrics.Sample{sample("m", 100*s, 101*s, 60), sample("m", 30*s, 31*s, 30)}, 101 * s, 60.0 / 60, 90.0 / 300},
		{"a duplicate batch is counted twice",
			[]metrics.Sample{sample("m", 0, 1*s, 30), sample("m", 0, 1*s, 30)}, 1 * s, 1, 0.2},
		{"a sample older than the window adds nothing to it",
			[]metrics.Sample{sample("m", 0, 1*s, 60)}, 400 * s, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(t, metrics.Config{})
			c.Set(tt.now)
			if latest := slices.MaxFunc(tt.samples, func(a, b metrics.Sample) int { return a.End.Compare(b.End) }); latest.End.Before(c.now) {
				// Report as soon as the samples end, then move to the time under test: the
				// window is what is read, not when the batch arrived.
				c.now = latest.End
			}
			reportTraffic(t, tr, "gw", tt.samples...)
			c.Set(tt.now)
			v := mustModel(t, tr, "m")
			if v.QPS1m != tt.qps1m || v.QPS5m != tt.qps5m {
				t.Errorf("QPS1m, QPS5m = %v, %v; want %v, %v", v.QPS1m, v.QPS5m, tt.qps1m, tt.qps5m)
			}
		})
	}
}

func TestTrafficTotalsAndLastRequest(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name           string
		batches        [][]metrics.Sample
		now            time.Duration
		requests, errs int64
		lastRequest    time.Time
		inFlight       int64
		qps1m          float64
	}{
		{"the last request is the end of the latest sample with requests",
			[][]metrics.Sample{{sample("m", 0, 10*s, 5), {Model: "m", Start: at(10 * s), End: at(20 * s)}}},
			20 * s, 5, 0, at(10 * s), 0, 5.0 / 60},
		{"an older sample arriving later moves neither the last request nor in-flight back",
			[][]metrics.Sample{
				{{Model: "m", Start: at(90 * s), End: at(100 * s), Requests: 4, InFlight: 3}},
				{{Model: "m", Start: at(10 * s), End: at(20 * s), Requests: 2, Errors: 1, InFlight: 7}},
			},
			100 * s, 6, 1, at(100 * s), 3, 4.0 / 60},
		{"a duplicate batch is counted twice: the wire has no idempotency key",
			[][]metrics.Sample{
				{{Model: "m", Start: at(0), End: at(10 * s), Requests: 4, Errors: 1}},
				{{Model: "m", Start: at(0), End: at(10 * s), Requests: 4, Errors: 1}},
			},
			10 * s, 8, 2, at(10 * s), 0, 8.0 / 60},
		{"a sample older than the window still counts in the totals and the last request",
			[][]metrics.Sample{{{Model: "m", Start: at(0), End: at(10 * s), Requests: 4, Errors: 2}}},
			1000 * s, 4, 2, at(10 * s), 0, 0},
		{"a sample ending within the clock-skew allowance is taken as ending now",
			[][]metrics.Sample{{sample("m", 0, 14*s, 14)}},
			10 * s, 14, 0, at(10 * s), 0, 14.0 / 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(t, metrics.Config{})
			c.Set(tt.now)
			for _, b := range tt.batches {
				reportTraffic(t, tr, "gw", b...)
			}
			v := mustModel(t, tr, "m")
			if v.RequestsTotal != tt.requests || v.ErrorsTotal != tt.errs || !v.LastRequest.Equal(tt.lastRequest) ||
				v.InFlight != tt.inFlight || v.QPS1m != tt.qps1m {
				t.Errorf("requests %d, errors %d, last request %v, in flight %d, QPS1m %v; want %d, %d, %v, %d, %v",
					v.RequestsTotal, v.ErrorsTotal, v.LastRequest, v.InFlight, v.QPS1m,
					tt.requests, tt.errs, tt.lastRequest, tt.inFlight, tt.qps1m)
			}
		})
	}
}

// TestHugeCountsSaturate: a sample may carry up to MaxInt64 requests. A bucket saturates at
// MaxUint32 and the totals at MaxInt64; neither wraps (a wrapped bucket read as 0 QPS, a
// busy model looking idle; the wrapped totals went negative).
func TestHugeCountsSaturate(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{})
	c.Set(10 * s)
	reportTraffic(t, tr, "gw-a",
		metrics.Sample{Model: "m", Start: at(0), End: at(1 * s), Requests: 1, Errors: 1, InFlight: math.MaxInt64},
		metrics.Sample{Model: "m", Start: at(0), End: at(1 * s), Requests: math.MaxInt64, Errors: math.MaxInt64})
	reportTraffic(t, tr, "gw-b", metrics.Sample{Model: "m", Start: at(0), End: at(1 * s), InFlight: math.MaxInt64})
	v := mustModel(t, tr, "m")
	if v.RequestsTotal != math.MaxInt64 || v.ErrorsTotal != math.MaxInt64 || v.InFlight != math.MaxInt64 {
		t.Errorf("requests %d, errors %d, in flight %d; want each saturated at MaxInt64", v.RequestsTotal, v.ErrorsTotal, v.InFlight)
	}
	if want := float64(math.MaxUint32) / 60; v.QPS1m != want {
		t.Errorf("QPS1m %v, want the saturated bucket's %v", v.QPS1m, want)
	}
}

// TestQPSReadBeforeNewestBucket: reading at a time older than the newest bucket written (an
// evaluation that took its now before a batch landed) counts the buckets up to that time only,
// and none that the ring has already reused.
func TestQPSReadBeforeNewestBucket(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{})
	loaded(t, tr, c, "gw", "m", 0)
	c.Set(101 * s)
	reportTraffic(t, tr, "gw", sample("m", 40*s, 41*s, 60), sample("m", 100*s, 101*s, 120))
	if got := tr.AppendLoaded(nil, at(50*s)); len(got) != 1 || got[0].QPS != 1 {
		t.Errorf("AppendLoaded at 50 s = %+v; want QPS 1 (the 40 s requests only)", got)
	}
	c.Set(50 * s)
	if v := mustModel(t, tr, "m"); v.QPS1m != 1 || v.QPS5m != 0.2 {
		t.Errorf("at 50 s: QPS1m, QPS5m = %v, %v; want 1, 0.2 (the 40 s requests only)", v.QPS1m, v.QPS5m)
	}
	// Once the ring has moved 300 s past 40 s, the bucket of 40 s is gone even when read at 50 s.
	c.Set(400 * s)
	reportTraffic(t, tr, "gw", sample("m", 399*s, 400*s, 1))
	c.Set(50 * s)
	if v := mustModel(t, tr, "m"); v.QPS1m != 0 || v.QPS5m != 0 {
		t.Errorf("at 50 s after the ring moved on: QPS1m, QPS5m = %v, %v; want 0, 0", v.QPS1m, v.QPS5m)
	}
}

func TestInFlight(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{})
	loaded(t, tr, c, "gw-a", "m", 0)
	loaded(t, tr, c, "gw-b", "m", 0)
	c.Set(600 * s)
	// A long request: no new requests for 10 minutes, but one is still in flight on gw-a.
	reportTraffic(t, tr, "gw-a", metrics.Sample{Model: "m", Start: at(590 * s), End: at(600 * s), InFlight: 1})
	reportTraffic(t, tr, "gw-b", metrics.Sample{Model: "m", Start: at(590 * s), End: at(600 * s), InFlight: 2})

	t.Run("in-flight is summed over gateways", func(t *testing.T) {
		if v := mustModel(t, tr, "m"); v.InFlight != 3 || v.IdleSeconds != 600 {
			t.Errorf("InFlight %d, IdleSeconds %v; want 3, 600", v.InFlight, v.IdleSeconds)
		}
	})
	t.Run("an idle model with requests in flight shows them to the evaluator", func(t *testing.T) {
		got := map[string]int64{}
		for _, l := range tr.AppendLoaded(nil, time.Time{}) {
			got[l.Gateway] = l.InFlight
			if l.IdleSeconds != 600 || l.QPS != 0 {
				t.Errorf("%s: IdleSeconds %v, QPS %v; want 600, 0", l.Gateway, l.IdleSeconds, l.QPS)
			}
		}
		if got["gw-a"] != 1 || got["gw-b"] != 2 {
			t.Errorf("in flight by gateway %v; want gw-a 1, gw-b 2", got)
		}
	})
	t.Run("an UNLOADED report clears that gateway's in-flight", func(t *testing.T) {
		reportState(t, tr, metrics.StateReport{Gateway: "gw-b", Model: "m", State: metrics.StateUnloading})
		reportState(t, tr, metrics.StateReport{Gateway: "gw-b", Model: "m", State: metrics.StateUnloaded})
		if v := mustModel(t, tr, "m"); v.InFlight != 1 {
			t.Errorf("InFlight %d; want 1", v.InFlight)
		}
	})
	t.Run("in-flight from a gateway silent for 5 minutes no longer counts", func(t *testing.T) {
		c.Set(900*s - 1)
		if v := mustModel(t, tr, "m"); v.InFlight != 1 {
			t.Errorf("just before 5 minutes: InFlight %d; want 1", v.InFlight)
		}
		c.Set(900*s + 1)
		if v := mustModel(t, tr, "m"); v.InFlight != 0 {
			t.Errorf("after 5 minutes: InFlight %d; want 0", v.InFlight)
		}
	})
}

func TestReportTrafficRejects(t *testing.T) {
	const s = time.Second
	good := sample("m", 0, 10*s, 1)
	with := func(f func(*metrics.Sample)) metrics.Sample { x := good; f(&x); return x }
	tests := []struct {
		name    string
		gateway string
		samples []metrics.Sample
		want    []metrics.FieldViolation
	}{
		{"a missing gateway", "", []metrics.Sample{good},
			[]metrics.FieldViolation{{Field: "gateway_id", Description: "required"}}},
		{"an oversized gateway name", strings.Repeat("g", 257), []metrics.Sample{good},
			[]metrics.FieldViolation{{Field: "gateway_id", Description: "is 257 bytes long; at most 256 bytes are allowed"}}},
		{"an empty model name", "gw", []metrics.Sample{good, with(func(x *metrics.Sample) { x.Model = "" })},
			[]metrics.FieldViolation{{Field: "samples[1].model_name", Description: "required"}}},
		{"a model name that is not UTF-8", "gw", []metrics.Sample{with(func(x *metrics.Sample) { x.Model = "m\xff" })},
			[]metrics.FieldViolation{{Field: "samples[0].model_name", Description: "is not valid UTF-8"}}},
		{"missing times", "gw", []metrics.Sample{{Model: "m"}},
			[]metrics.FieldViolation{{Field: "samples[0].start_time", Description: "required"}, {Field: "samples[0].end_time", Description: "required"}}},
		{"an end beyond the clock-skew allowance", "gw", []metrics.Sample{with(func(x *metrics.Sample) { x.End = at(16 * s) })},
			[]metrics.FieldViolation{{Field: "samples[0].end_time", Description: "6s in the future (allowed clock skew 5s)"}}},
		{"an interval that goes backwards", "gw", []metrics.Sample{with(func(x *metrics.Sample) { x.Start = at(10 * s); x.End = at(5 * s) })},
			[]metrics.FieldViolation{{Field: "samples[0].end_time", Description: "before start_time"}}},
		{"negative counts", "gw", []metrics.Sample{with(func(x *metrics.Sample) { x.Requests, x.Errors, x.InFlight = -1, -1, -1 })},
			[]metrics.FieldViolation{{Field: "samples[0].requests", Description: "negative"}, {Field: "samples[0].errors", Description: "negative"}, {Field: "samples[0].in_flight", Description: "negative"}}},
		{"more errors than requests", "gw", []metrics.Sample{with(func(x *metrics.Sample) { x.Errors = 2 })},
			[]metrics.FieldViolation{{Field: "samples[0].errors", Description: "2 errors, more than the 1 requests"}}},
		{"a time before 1970", "gw", []metrics.Sample{with(func(x *metrics.Sample) { x.Start = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) })},
			[]metrics.FieldViolation{{Field: "samples[0].start_time", Description: "before 1970"}}},
		{"too many samples", "gw", make([]metrics.Sample, metrics.MaxSamples+1)[: metrics.MaxSamples+1 : metrics.MaxSamples+1],
			nil}, // checked below: the first violation is on samples
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(t, metrics.Config{})
			c.Set(10 * s)
			err := tr.ReportTraffic(tt.gateway, tt.samples)
			if !errors.Is(err, metrics.ErrInvalid) {
				t.Fatalf("error %v; want ErrInvalid", err)
			}
			var ve *metrics.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T; want *ValidationError", err)
			}
			if tt.want == nil {
				if ve.Violations[0].Field != "samples" || len(ve.Violations) > 101 {
					t.Errorf("first violation %v of %d; want samples, at most 101", ve.Violations[0], len(ve.Violations))
				}
			} else if !slices.Equal(ve.Violations, tt.want) {
				t.Errorf("violations %v; want %v", ve.Violations, tt.want)
			}
			if got := tr.Models(""); len(got) != 0 {
				t.Errorf("a rejected batch changed the tracker: %v", got)
			}
		})
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{MaxGateways: 1})
	c.Set(10 * s)
	reportTraffic(t, tr, "gw", sample("a", 0, 5*s, 1))
	bad := []metrics.Sample{sample("a", 0, 5*s, 10), sample("b", 0, 5*s, 10), sample("c", 5*s, 0, 1)}
	if err := tr.ReportTraffic("gw", bad); err == nil {
		t.Fatal("a batch with a bad sample was accepted")
	}
	if v := mustModel(t, tr, "a"); v.RequestsTotal != 1 || v.QPS5m != 1.0/300 {
		t.Errorf("model a: %d requests, QPS5m %v; want 1, %v", v.RequestsTotal, v.QPS5m, 1.0/300)
	}
	if _, ok := tr.Model("b"); ok {
		t.Error("model b of a rejected batch is tracked")
	}
	// A rejected batch from a new gateway does not take the only gateway slot.
	tr2, _ := newTracker(t, metrics.Config{MaxGateways: 1})
	if err := tr2.ReportTraffic("gw-a", []metrics.Sample{{}}); err == nil {
		t.Fatal("a bad batch was accepted")
	}
	reportTraffic(t, tr2, "gw-b")
}

func TestCaps(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name  string
		cfg   metrics.Config
		setup func(t *testing.T, tr *metrics.Tracker)
		do    func(tr *metrics.Tracker) error
		want  []metrics.FieldViolation // nil: accepted
	}{
		{"a gateway beyond the cap is rejected on traffic",
			metrics.Config{MaxGateways: 2},
			func(t *testing.T, tr *metrics.Tracker) {
				reportState(t, tr, metrics.StateReport{Gateway: "gw-a", Model: "m", State: metrics.StateLoading})
				reportTraffic(t, tr, "gw-b")
			},
			func(tr *metrics.Tracker) error {
				return tr.ReportTraffic("gw-c", []metrics.Sample{sample("m", 0, s, 1)})
			},
			[]metrics.FieldViolation{{Field: "gateway_id", Description: "gateway cap of 2 reached"}}},
		{"a gateway beyond the cap is rejected on state",
			metrics.Config{MaxGateways: 1},
			func(t *testing.T, tr *metrics.Tracker) { reportTraffic(t, tr, "gw-a") },
			func(tr *metrics.Tracker) error {
				_, err := tr.ReportState(metrics.StateReport{Gateway: "gw-b", Model: "m", State: metrics.StateLoading})
				return err
			},
			[]metrics.FieldViolation{{Field: "gateway_id", Description: "gateway cap of 1 reached"}}},
		{"a known gateway is accepted at the cap",
			metrics.Config{MaxGateways: 1},
			func(t *testing.T, tr *metrics.Tracker) { reportTraffic(t, tr, "gw-a") },
			func(tr *metrics.Tracker) error {
				return tr.ReportTraffic("gw-a", []metrics.Sample{sample("m", 0, s, 1)})
			},
			nil},
		{"the first sample naming a model beyond the cap is blamed",
			metrics.Config{MaxModels: 2},
			func(t *testing.T, tr *metrics.Tracker) { reportTraffic(t, tr, "gw", sample("a", 0, s, 1)) },
			func(tr *metrics.Tracker) error {
				return tr.ReportTraffic("gw", []metrics.Sample{sample("a", 0, s, 1), sample("b", 0, s, 1), sample("b", 0, s, 1), sample("c", 0, s, 1)})
			},
			[]metrics.FieldViolation{{Field: "samples[3].model_name", Description: "model cap of 2 reached"}}},
		{"a state report beyond the model cap is rejected",
			metrics.Config{MaxModels: 1},
			func(t *testing.T, tr *metrics.Tracker) { reportTraffic(t, tr, "gw", sample("a", 0, s, 1)) },
			func(tr *metrics.Tracker) error {
				_, err := tr.ReportState(metrics.StateReport{Gateway: "gw", Model: "b", State: metrics.StateLoading})
				return err
			},
			[]metrics.FieldViolation{{Field: "model_name", Description: "model cap of 1 reached"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(t, tt.cfg)
			c.Set(10 * s)
			tt.setup(t, tr)
			err := tt.do(tr)
			var ve *metrics.ValidationError
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.want != nil && !errors.As(err, &ve):
				t.Fatalf("error %v; want a *ValidationError", err)
			case tt.want != nil && !slices.Equal(ve.Violations, tt.want):
				t.Errorf("violations %v; want %v", ve.Violations, tt.want)
			}
		})
	}
}
