package recommend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
)

// hubOf numbers events as an engine does; each message is the event's sequence.
type hubOf struct {
	h   *recommend.Hub[uint64]
	seq uint64
}

func newHub(window, queueSize, maxPending int) *hubOf {
	return &hubOf{h: recommend.NewHub(recommend.HubConfig[uint64]{Epoch: "e", Window: window, QueueSize: queueSize, MaxPending: maxPending,
		Encode: func(ev *recommend.Event, _ uint64) uint64 { return ev.Seq }})}
}

// publish publishes one cycle of n unload recommendations of distinct models.
func (p *hubOf) publish(n int) {
	evs := make([]*recommend.Event, n)
	for i := range evs {
		p.seq++
		evs[i] = &recommend.Event{Seq: p.seq, Rec: &recommend.Recommendation{Kind: recommend.Unload, Gateway: "gw", Model: fmt.Sprint("m", p.seq)}}
	}
	p.h.Publish(evs)
}

func cut(s *recommend.Subscriber[uint64]) bool {
	select {
	case <-s.Cut():
		return true
	default:
		return false
	}
}

// TestSlowSubscriberCutOffBound: a subscriber is cut off when more than MaxPending events are
// still pending as the next ones are published; exactly MaxPending is kept. Nothing runs the
// subscriber here, so everything published stays pending.
func TestSlowSubscriberCutOffBound(t *testing.T) {
	for _, tt := range []struct {
		name    string
		pending int
		cut     bool
	}{
		{"exactly the maximum pending is kept", 3, false},
		{"one more than the maximum is cut off", 4, true},
		{"one large publication never cuts a subscriber that was keeping up", 50, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newHub(64, 64, 3)
			sub, _ := p.h.Subscribe(recommend.NewFilter("", nil, nil, nil), "", 0)
			p.publish(tt.pending)
			if cut(sub) {
				t.Fatalf("cut off by the publication that made %d events pending", tt.pending)
			}
			if tt.pending > 4 {
				return // a large publication alone is what this case checks
			}
			p.publish(1)
			if got := cut(sub); got != tt.cut {
				t.Errorf("with %d pending, the next publication cut the subscriber off: %v; want %v", tt.pending, got, tt.cut)
			}
		})
	}
}

// TestResumeBeforeAnyEvent: before anything is published, sequence 0 of this epoch is a clean
// resume (nothing was missed) and 1 is ahead of the hub.
func TestResumeBeforeAnyEvent(t *testing.T) {
	p := newHub(4, 8, 8)
	if _, outcome := p.h.Subscribe(recommend.NewFilter("", nil, nil, nil), "e", 0); outcome != recommend.Resumed {
		t.Errorf("resume at 0 before any event: %v; want Resumed", outcome)
	}
	if _, outcome := p.h.Subscribe(recommend.NewFilter("", nil, nil, nil), "e", 1); outcome != recommend.Reset {
		t.Errorf("resume at 1 before any event: %v; want Reset", outcome)
	}
	p.publish(3)
	if _, outcome := p.h.Subscribe(recommend.NewFilter("", nil, nil, nil), "e", 3); outcome != recommend.Resumed {
		t.Errorf("resume exactly at the latest sequence: %v; want Resumed", outcome)
	}
}

// TestEvaluateCountsWhatItPublished: a cycle's Result counts the recommendations and withdrawals
// it published, by either way of withdrawing (the policy changed its mind, the pair left its
// state), the pairs it asked about and what stays open.
func TestEvaluateCountsWhatItPublished(t *testing.T) {
	w := newWorld(t, nil)
	for _, m := range []string{"a", "b", "c"} {
		w.report("gw-1", m, "GPU-0", metrics.StateLoaded)
	}
	w.clock.Advance(301 * time.Second)
	type counts struct{ loaded, recommended, withdrawn, open int }
	steps := []struct {
		name string
		do   func()
		want counts
	}{
		{"three idle models are recommended", func() {}, counts{3, 3, 0, 3}},
		{"a steady cycle publishes nothing", func() {}, counts{3, 0, 0, 3}},
		{"traffic on one and another unloaded: two withdrawals", func() {
			w.request("gw-1", "a")
			w.report("gw-1", "b", "", metrics.StateUnloaded)
		}, counts{2, 0, 2, 1}},
	}
	for _, s := range steps {
		s.do()
		r := w.engine.Evaluate(w.clock.Now())
		if got := (counts{r.Loaded, r.Recommended, r.Withdrawn, r.Open}); got != s.want || len(r.Events) != s.want.recommended+s.want.withdrawn {
			t.Errorf("%s: loaded %d, recommended %d, withdrawn %d, open %d, %d events; want %+v", s.name, r.Loaded, r.Recommended, r.Withdrawn, r.Open, len(r.Events), s.want)
		}
	}
}

// TestCutOffDuringAReplaySaysWhatWasReplayed: a subscriber cut off in the middle of its replay is
// told to resume after the last event it was sent, not after its old cursor.
func TestCutOffDuringAReplaySaysWhatWasReplayed(t *testing.T) {
	p := newHub(16, 16, 1)
	p.publish(4) // 1..4
	sub, outcome := p.h.Subscribe(recommend.NewFilter("", nil, nil, nil), "e", 1)
	if outcome != recommend.Resumed {
		t.Fatalf("outcome %v; want Resumed", outcome)
	}
	sent, release := make(chan uint64), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- sub.Run(context.Background(), nil, func(o recommend.Out[uint64]) error {
			sent <- o.Seq
			<-release
			return nil
		})
	}()
	if seq := <-sent; seq != 2 {
		t.Fatalf("first replayed event %d; want 2", seq)
	}
	release <- struct{}{} // event 2 is sent
	if seq := <-sent; seq != 3 {
		t.Fatalf("second replayed event %d; want 3", seq)
	}
	// While event 3 is being sent: two events pend (more than 1), and the next publication cuts.
	p.publish(2)
	p.publish(1)
	if !cut(sub) {
		t.Fatal("not cut off")
	}
	close(release)
	var slow *recommend.SlowSubscriberError
	if err := <-done; !errors.As(err, &slow) || slow.Delivered != 3 {
		t.Fatalf("Run returned %v; want a SlowSubscriberError delivered through 3", err)
	}
}

// TestNotLoadedReasonSaysWhere: a model that is not loaded is answered with where it was looked
// for: on the gateway asked about, or on any gateway.
func TestNotLoadedReasonSaysWhere(t *testing.T) {
	w := newWorld(t, recommend.NewFixedPolicy(nil))
	w.report("gw-2", "llama", "GPU-0", metrics.StateUnloaded)
	for _, tt := range []struct{ gateway, want string }{
		{"gw-2", `"llama" is not loaded on gateway "gw-2" (state unloaded)`},
		{"", `"llama" is not loaded on any gateway (state unloaded)`},
	} {
		a, err := w.engine.ShouldUnload("llama", tt.gateway, w.clock.Now())
		if err != nil || a.Rule != recommend.RuleNotLoaded || !strings.HasPrefix(a.Reason, tt.want) {
			t.Errorf("ShouldUnload(llama, %q) = %q (%s), %v; want it to start %q", tt.gateway, a.Reason, a.Rule, err, tt.want)
		}
	}
}

// TestPublishReusesItsBuffer: once warm, publishing a cycle's events allocates nothing in the hub
// itself (here the messages are plain numbers, and the same two recommendations flap open and
// shut; the events are made beforehand, since a published event is never modified).
func TestPublishReusesItsBuffer(t *testing.T) {
	h := recommend.NewHub(recommend.HubConfig[uint64]{Epoch: "e", Window: 8, QueueSize: 8, MaxPending: 8,
		Encode: func(ev *recommend.Event, _ uint64) uint64 { return ev.Seq }})
	recs := []*recommend.Recommendation{{Kind: recommend.Unload, Gateway: "gw", Model: "a"}, {Kind: recommend.Unload, Gateway: "gw", Model: "b"}}
	const cycles = 20 // more than AllocsPerRun's runs and the warm-up
	events := make([]recommend.Event, 2*cycles)
	batches := make([][]*recommend.Event, cycles)
	for i := range batches {
		for j := range 2 {
			ev := &events[2*i+j]
			ev.Seq, ev.Rec, ev.Withdrawn = uint64(2*i+j+1), recs[j], i%2 == 1
			batches[i] = append(batches[i], ev)
		}
	}
	next := 0
	publish := func() {
		h.Publish(batches[next])
		next++
	}
	publish()
	publish()
	if allocs := testing.AllocsPerRun(10, publish); allocs != 0 {
		t.Errorf("a warm publication of 2 events allocates %v times", allocs)
	}
}
