package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/server"
)

// TestWatchResumeBounds walks a resume cursor across the edges of what can be resumed exactly:
// the latest sequence (nothing missed: a clean resume, no reset), one past it (a reset), the
// event before the oldest retained one and the one before that. The window keeps 2 of 3 events.
// After its first messages each stream gets the next event, 4, so a clean resume shows as that
// event coming first.
func TestWatchResumeBounds(t *testing.T) {
	reset := []string{"3 reset", "1 recommended gw-1/a", "2 recommended gw-1/b", "3 recommended gw-1/c", "3 snapshot_end 3"}
	tests := []struct {
		name  string
		after uint64
		want  []string
	}{
		{"resuming exactly at the latest sequence is a clean resume", 3, nil},
		{"resuming one past the latest sequence is a reset", 4, reset},
		{"resuming just before the oldest retained event replays the window", 1, []string{"2 recommended gw-1/b", "3 recommended gw-1/c"}},
		{"resuming two before the oldest retained event is a reset", 0, reset},
		{"resuming inside the window replays what follows", 2, []string{"3 recommended gw-1/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrain(t, server.Options{WatchWindow: 2})
			for _, m := range []string{"a", "b", "c"} {
				b.load("gw-1", m, "GPU-a")
			}
			b.clock.Advance(301 * time.Second)
			b.evaluate() // 1-3; the window keeps 2 and 3
			w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: tt.after})
			b.waitSubscribers(1)
			w.expect(tt.want...)
			b.report("gw-1", "a", "GPU-a", metrics.StateUnloaded)
			b.evaluate()
			w.expect("4 withdrawn gw-1/a WITHDRAWAL_CAUSE_MODEL_UNLOADED")
		})
	}
}

// TestWatchResumeBeforeAnyEvent: a cursor at sequence 0 of this epoch, before anything was
// published, misses nothing; one at 1 is ahead of the brain.
func TestWatchResumeBeforeAnyEvent(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after uint64
		want  []string
	}{
		{"sequence 0 is a clean resume", 0, []string{"1 recommended gw-1/a"}},
		{"sequence 1 is ahead of the brain: a reset and an empty snapshot", 1, []string{"0 reset", "0 snapshot_end 0", "1 recommended gw-1/a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrain(t, server.Options{})
			b.load("gw-1", "a", "GPU-a")
			w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: tt.after})
			b.waitSubscribers(1)
			b.clock.Advance(301 * time.Second)
			b.evaluate()
			w.expect(tt.want...)
		})
	}
}

// TestWatchRecommendationsCarryTheirTime: every recommendation says when it was made, the
// first of a cycle and the later ones alike.
func TestWatchRecommendationsCarryTheirTime(t *testing.T) {
	b := newBrain(t, server.Options{})
	for _, m := range []string{"a", "b"} {
		b.load("gw-1", m, "GPU-a")
	}
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	w.snapshot()
	b.clock.Advance(301 * time.Second)
	b.evaluate()
	for range 2 {
		m := w.next()
		r := m.GetRecommended()
		if r.GetRecommendedTime() == nil || !r.GetRecommendedTime().AsTime().Equal(b.clock.Now()) {
			t.Errorf("%s: recommended_time %v; want %s", describe(m), r.GetRecommendedTime(), b.clock.Now())
		}
	}
}

// TestWatchSlowSubscriberCutOffBound: a subscriber is cut off when it has more than
// WatchMaxPending events pending as the next ones are published, not when it has exactly that
// many. The subscriber never reads, and its snapshot is far larger than the transport buffers, so
// its sender is stuck in the snapshot and every event published after it stays pending.
func TestWatchSlowSubscriberCutOffBound(t *testing.T) {
	const models, maxPending = 3000, 4
	for _, tt := range []struct {
		name    string
		pending int // events published in one cycle before the next cycle's event
		cut     bool
	}{
		{"exactly the maximum pending is kept", maxPending, false},
		{"one more than the maximum is cut off", maxPending + 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrain(t, server.Options{WatchQueueSize: 64, WatchMaxPending: maxPending})
			for i := range models {
				b.load("gw-1", fmt.Sprintf("model-%04d", i), "GPU-a")
			}
			b.clock.Advance(301 * time.Second)
			b.evaluate() // every model recommended: the snapshot of a new subscriber
			// A fixed window turns off BDP estimation, which would otherwise let the transport buffer more.
			slowConn := b.dial(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
			slow := b.watch(slowConn, &brainv1.WatchUnloadRecommendationsRequest{})
			slow.next() // the first message of the snapshot: subscribed before anything is published
			// One cycle of tt.pending withdrawals, then one of a single withdrawal.
			for i := range tt.pending {
				b.report("gw-1", fmt.Sprintf("model-%04d", i), "GPU-a", metrics.StateUnloaded)
			}
			b.evaluate()
			b.report("gw-1", fmt.Sprintf("model-%04d", tt.pending), "GPU-a", metrics.StateUnloaded)
			b.evaluate()

			// Read everything: a kept subscriber gets the snapshot and the tt.pending+1 events.
			var got []string
			for len(got) < tt.pending+1 {
				m, err := slow.stream.Recv()
				if err != nil {
					if !tt.cut || !strings.Contains(err.Error(), "fell more than 4 events behind") {
						t.Fatalf("stream ended with %v after %d events; want cut off = %v", err, len(got), tt.cut)
					}
					return
				}
				if m.GetWithdrawn() != nil {
					got = append(got, describe(m))
				}
			}
			if tt.cut {
				t.Fatalf("received %v; want the stream cut off", got)
			}
		})
	}
}

// waitSubscribers waits until the hub has n subscribers: a stream the client opened is
// subscribed only once the server runs its handler, and a resume that starts clean sends nothing
// to wait for.
func (b *brain) waitSubscribers(n float64) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.metric("modelium_brain_watch_subscribers", "") != n {
		if time.Now().After(deadline) {
			b.t.Fatalf("the hub does not have %v subscribers after 10 s", n)
		}
		time.Sleep(time.Millisecond)
	}
}
