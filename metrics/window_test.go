package metrics_test

import (
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
