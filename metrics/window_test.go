package metrics_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// TestQPSForgetsTrafficOutsideTheWindow reports batches one after another, the clock moving with
// them, and reads the windows at the end. It pins the ring's reuse of its slots: a bucket that
// left the 5-minute window must not be counted again when the ring moves onto its slot, whether
// the ring moves by a whole turn at once or in short steps.
func TestQPSForgetsTrafficOutsideTheWindow(t *testing.T) {
	const s = time.Second
	type batch struct {
		at     time.Duration // the clock when the batch is reported
		sample metrics.Sample
	}
	tests := []struct {
		name         string
		batches      []batch
		now          time.Duration
		qps1m, qps5m float64
	}{
		{"traffic older than the window does not count as QPS after short advances",
			// 60 requests at 0 s, then the ring moves by 10 buckets and by 50: the second
			// move reuses the slot of 0 s, which must start empty.
			[]batch{{1 * s, sample("m", 0, 1*s, 60)}, {51 * s, sample("m", 50*s, 51*s, 1)}, {301 * s, sample("m", 300*s, 301*s, 1)}},
			301 * s, 1.0 / 60, 2.0 / 300},
		{"a move of one bucket clears the slot it reuses",
			[]batch{{1 * s, sample("m", 0, 1*s, 60)}, {296 * s, sample("m", 295*s, 296*s, 1)}, {301 * s, sample("m", 300*s, 301*s, 1)}},
			301 * s, 2.0 / 60, 2.0 / 300},
		{"a move of 58 buckets clears the 58 slots it reuses and no other",
			[]batch{{1 * s, sample("m", 0, 1*s, 60)}, {11 * s, sample("m", 10*s, 11*s, 6)}, {301 * s, sample("m", 300*s, 301*s, 1)}},
			301 * s, 1.0 / 60, 7.0 / 300},
		{"a move of exactly one turn clears every slot",
			[]batch{{1 * s, sample("m", 0, 1*s, 60)}, {301 * s, sample("m", 300*s, 301*s, 1)}},
			301 * s, 1.0 / 60, 1.0 / 300},
		{"a move of more than one turn clears every slot",
			[]batch{{1 * s, sample("m", 0, 1*s, 60)}, {306 * s, sample("m", 305*s, 306*s, 1)}},
			306 * s, 1.0 / 60, 1.0 / 300},
		{"an instant sample exactly 300 s older than the newest bucket does not land in it",
			// Bucket 0 and bucket 60 share a slot: the late sample is outside the window.
			[]batch{{301 * s, sample("m", 300*s, 301*s, 1)}, {302 * s, sample("m", 0, 0, 60)}},
			302 * s, 1.0 / 60, 1.0 / 300},
		{"an instant sample 295 s older than the newest bucket still counts in the 5m window",
			[]batch{{301 * s, sample("m", 300*s, 301*s, 1)}, {302 * s, sample("m", 5*s, 5*s, 60)}},
			302 * s, 1.0 / 60, 61.0 / 300},
		{"a spread sample ending exactly 300 s before the newest bucket adds nothing",
			[]batch{{301 * s, sample("m", 300*s, 301*s, 1)}, {302 * s, sample("m", 0, 5*s, 60)}},
			302 * s, 1.0 / 60, 1.0 / 300},
		{"a spread sample reaching into the window keeps only the part inside it",
			[]batch{{301 * s, sample("m", 300*s, 301*s, 1)}, {302 * s, sample("m", 0, 10*s, 60)}},
			302 * s, 1.0 / 60, 31.0 / 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(t, metrics.Config{})
			for _, b := range tt.batches {
				c.Set(b.at)
				reportTraffic(t, tr, "gw", b.sample)
			}
			c.Set(tt.now)
			v := mustModel(t, tr, "m")
			if v.QPS1m != tt.qps1m || v.QPS5m != tt.qps5m {
				t.Errorf("QPS1m, QPS5m = %v, %v; want %v, %v", v.QPS1m, v.QPS5m, tt.qps1m, tt.qps5m)
			}
		})
	}
}

// TestRingEdges pins the ring's edges that TestQPSWindows reads only from the newest bucket: a
// sample's last bucket, a batch without requests, and a bucket that fills up across batches.
func TestRingEdges(t *testing.T) {
	const s = time.Second
	t.Run("a sample ending on a bucket edge ends in the bucket before it", func(t *testing.T) {
		// 60 requests over [0, 300 s) are one a bucket in buckets 0..59. Read at 299 s, the 5m
		// window is buckets 0..59: all 60. Had the sample reached bucket 60, the ring would have
		// dropped bucket 0 to make room.
		tr, c := newTracker(t, metrics.Config{})
		c.Set(300 * s)
		reportTraffic(t, tr, "gw", sample("m", 0, 300*s, 60))
		c.Set(299 * s)
		if v := mustModel(t, tr, "m"); v.QPS5m != 60.0/300 || v.QPS1m != 12.0/60 {
			t.Errorf("QPS1m, QPS5m = %v, %v; want %v, %v", v.QPS1m, v.QPS5m, 12.0/60, 60.0/300)
		}
	})
	t.Run("a sample without requests does not move the window", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(41 * s)
		reportTraffic(t, tr, "gw", sample("m", 40*s, 41*s, 60))
		c.Set(400 * s)
		reportTraffic(t, tr, "gw", sample("m", 399*s, 400*s, 0))
		c.Set(50 * s) // read before the empty sample: the 40 s requests are still in the ring
		if v := mustModel(t, tr, "m"); v.QPS1m != 1 {
			t.Errorf("QPS1m = %v; want 1", v.QPS1m)
		}
	})
	t.Run("a bucket that a second batch would overflow saturates instead of wrapping", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(1 * s)
		reportTraffic(t, tr, "gw", sample("m", 0, 1*s, math.MaxUint32-10))
		reportTraffic(t, tr, "gw", sample("m", 0, 1*s, 20))
		if v := mustModel(t, tr, "m"); v.QPS1m != float64(math.MaxUint32)/60 {
			t.Errorf("QPS1m = %v; want the saturated bucket's %v", v.QPS1m, float64(math.MaxUint32)/60)
		}
	})
	t.Run("a bucket filled exactly to the limit holds the limit", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(1 * s)
		reportTraffic(t, tr, "gw", sample("m", 0, 1*s, math.MaxUint32-10))
		reportTraffic(t, tr, "gw", sample("m", 0, 1*s, 10))
		if v := mustModel(t, tr, "m"); v.QPS1m != float64(math.MaxUint32)/60 {
			t.Errorf("QPS1m = %v; want %v", v.QPS1m, float64(math.MaxUint32)/60)
		}
	})
}

// TestTrafficEdges pins the edges of a batch: its size limit, in-flight reports that end at the
// same instant, the in-flight TTL and errors reported without requests.
func TestTrafficEdges(t *testing.T) {
	const s = time.Second
	t.Run("a batch of exactly MaxSamples samples is accepted", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(1 * s)
		batch := make([]metrics.Sample, metrics.MaxSamples)
		for i := range batch {
			batch[i] = sample("m", 0, 1*s, 1)
		}
		reportTraffic(t, tr, "gw", batch...)
		if v := mustModel(t, tr, "m"); v.RequestsTotal != metrics.MaxSamples {
			t.Errorf("RequestsTotal = %d; want %d", v.RequestsTotal, metrics.MaxSamples)
		}
	})
	t.Run("of samples ending at the same instant, the later one's in-flight counts", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(10 * s)
		reportTraffic(t, tr, "gw",
			metrics.Sample{Model: "m", Start: at(0), End: at(10 * s), InFlight: 5},
			metrics.Sample{Model: "m", Start: at(5 * s), End: at(10 * s), InFlight: 2})
		if v := mustModel(t, tr, "m"); v.InFlight != 2 {
			t.Errorf("InFlight = %d; want 2 (the later report of the same instant)", v.InFlight)
		}
	})
	t.Run("in-flight exactly 5 minutes old still counts", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(10 * s)
		reportTraffic(t, tr, "gw", metrics.Sample{Model: "m", Start: at(0), End: at(10 * s), InFlight: 3})
		c.Set(310 * s)
		if v := mustModel(t, tr, "m"); v.InFlight != 3 {
			t.Errorf("at exactly 5 minutes: InFlight %d; want 3", v.InFlight)
		}
	})
	t.Run("the time checks are switch cases: each is walked across its edge here", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{ClockSkew: 5 * time.Second})
		c.Set(10 * s)
		for _, tt := range []struct {
			name    string
			start   time.Time
			end     time.Time
			wantErr string
		}{
			{"an end exactly at now plus the clock skew is accepted", at(0), at(15 * s), ""},
			{"an end a nanosecond later is refused", at(0), at(15*s + 1), "in the future"},
			{"a start at exactly 1970 is accepted", time.Unix(0, 0), at(0), ""},
			{"a start a nanosecond before 1970 is refused", time.Unix(0, -1), at(0), "before 1970"},
		} {
			err := tr.ReportTraffic("gw", []metrics.Sample{{Model: "m", Start: tt.start, End: tt.end, Requests: 1}})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("%s: ReportTraffic = %v; want error %q", tt.name, err, tt.wantErr)
			}
		}
	})
	t.Run("errors without requests are rejected", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(10 * s)
		err := tr.ReportTraffic("gw", []metrics.Sample{{Model: "m", Start: at(0), End: at(10 * s), Errors: 1}})
		var ve *metrics.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "1 errors, more than the 0 requests") {
			t.Errorf("ReportTraffic = %v; want a violation on errors", err)
		}
	})
}
