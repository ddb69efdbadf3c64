package recommend

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// newTestHub carries each event's sequence as its "message".
func newTestHub(window, queueSize, maxPending int) *Hub[uint64] {
	return NewHub(HubConfig[uint64]{Epoch: "e", Window: window, QueueSize: queueSize, MaxPending: maxPending,
		Encode: func(ev *Event, _ uint64) uint64 { return ev.Seq }})
}

// publisher numbers events as an engine does.
type publisher struct {
	h   *Hub[uint64]
	seq uint64
}

func (p *publisher) publish(kind Kind, model string, withdrawn bool) {
	p.seq++
	p.h.Publish([]*Event{{Seq: p.seq, Rec: &Recommendation{Kind: kind, Gateway: "gw", Model: model}, Withdrawn: withdrawn}})
}

// A subscriber that stops reading while one model flaps between recommended and withdrawn keeps
// a bounded queue: coalescing replaces the key's pending event, and the emptied slots are dropped.
func TestStalledSubscriberQueueStaysBoundedWhileCoalescing(t *testing.T) {
	h := newTestHub(16, 4, 100)
	p := &publisher{h: h}
	sub, _ := h.Subscribe(NewFilter("", nil, nil, nil), "", 0)
	for i := range 100_000 {
		p.publish(Unload, "m"+string(rune('a'+i%2)), i%4 >= 2)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.live > 4 || len(sub.queue) > 8 {
		t.Errorf("after 100,000 events on two keys: %d live, queue of %d slots; want at most 4 live and 8 slots", sub.live, len(sub.queue))
	}
	select {
	case <-sub.cut:
		t.Error("a subscriber whose pending events coalesce to two keys was cut off")
	default:
	}
}

// Coalescing is per kind: a load and an unload of the same model on the same gateway are two keys.
func TestCoalescingKeepsTheLatestEventOfEachKind(t *testing.T) {
	h := newTestHub(16, 1, 100)
	p := &publisher{h: h}
	sub, _ := h.Subscribe(NewFilter("", nil, nil, nil), "", 0)
	p.publish(Unload, "m", false) // 1
	p.publish(Load, "m", false)   // 2
	p.publish(Unload, "m", true)  // 3 replaces 1
	p.publish(Load, "m", true)    // 4 replaces 2
	q, through, _ := sub.take(nil)
	var got []uint64
	for _, it := range q {
		if it.ev != nil {
			got = append(got, it.msg)
		}
	}
	if fmt.Sprint(got) != "[3 4]" || through != 4 {
		t.Errorf("pending %v through %d, want [3 4] through 4", got, through)
	}
}

// gate is a send function that reports each message on entered and returns only when the test
// releases it.
type gate struct {
	t       *testing.T
	entered chan Out[uint64]
	release chan struct{}
}

func newGate(t *testing.T) *gate {
	return &gate{t: t, entered: make(chan Out[uint64], 64), release: make(chan struct{}, 64)}
}

func (g *gate) send(o Out[uint64]) error {
	g.entered <- o
	<-g.release
	return nil
}

// next waits for the sender to enter its next send (never for long: a hang guard, not a threshold).
func (g *gate) next() Out[uint64] {
	g.t.Helper()
	select {
	case o := <-g.entered:
		return o
	case <-time.After(10 * time.Second):
		g.t.Fatal("the sender sent nothing")
		return Out[uint64]{}
	}
}

func run(ctx context.Context, sub *Subscriber[uint64], send func(Out[uint64]) error) chan error {
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx, nil, send) }()
	return done
}

// Run never sends after a cut-off, and says exactly what was delivered.
func TestRunStopsAtTheCutOffWithTheDeliveredSequence(t *testing.T) {
	h := newTestHub(16, 1, 2)
	p := &publisher{h: h}
	p.publish(Unload, "a", false) // 1: in the snapshot
	sub, outcome := h.Subscribe(NewFilter("", nil, nil, nil), "", 0)
	if outcome != Fresh {
		t.Fatalf("outcome %v", outcome)
	}
	g := newGate(t)
	done := run(context.Background(), sub, g.send)
	if o := g.next(); o.Kind != OutEvent || o.Seq != 1 {
		t.Fatalf("first message %+v, want the snapshot's event 1", o)
	}
	g.release <- struct{}{}
	if o := g.next(); o.Kind != OutSnapshotEnd || o.Seq != 1 || o.Open != 1 {
		t.Fatalf("second message %+v, want the snapshot's end through 1", o)
	}
	g.release <- struct{}{}
	p.publish(Unload, "b", false) // 2: the sender takes it and blocks in send
	if o := g.next(); o.Seq != 2 {
		t.Fatalf("message %+v, want event 2", o)
	}
	for i := range 4 { // 3..6: pending (more than maxPending) while the sender is blocked
		p.publish(Unload, fmt.Sprint("c", i), false)
	}
	p.publish(Unload, "d", false) // 7: the subscriber is cut off
	select {
	case <-sub.Cut():
	default:
		t.Fatal("not cut off with 4 events pending and a maximum of 2")
	}
	g.release <- struct{}{} // the send in progress completes
	var err error
	select {
	case err = <-done:
	case o := <-g.entered:
		t.Fatalf("sent %+v after the cut-off", o)
	}
	var slow *SlowSubscriberError
	if !errors.As(err, &slow) || slow.Delivered != 2 || slow.Epoch != "e" {
		t.Fatalf("Run returned %v, want a SlowSubscriberError delivered through 2", err)
	}
}

func TestRunEndsOnStopAndOnContext(t *testing.T) {
	for _, c := range []struct {
		name string
		want error
	}{{"stop", ErrStopped}, {"context", context.Canceled}} {
		t.Run(c.name, func(t *testing.T) {
			h := newTestHub(16, 8, 8)
			sub, _ := h.Subscribe(NewFilter("", nil, nil, nil), "", 0)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := newGate(t)
			done := run(ctx, sub, g.send)
			if o := g.next(); o.Kind != OutSnapshotEnd {
				t.Fatalf("first message %+v, want the snapshot's end", o)
			}
			if c.want == ErrStopped {
				h.Close()
			} else {
				cancel()
			}
			g.release <- struct{}{}
			if err := <-done; !errors.Is(err, c.want) {
				t.Errorf("Run returned %v, want %v", err, c.want)
			}
		})
	}
	t.Run("subscribed after Close", func(t *testing.T) {
		h := newTestHub(16, 8, 8)
		h.Close()
		sub, _ := h.Subscribe(NewFilter("", nil, nil, nil), "", 0)
		if err := sub.Run(context.Background(), nil, func(Out[uint64]) error { return nil }); !errors.Is(err, ErrStopped) {
			t.Errorf("Run returned %v, want %v", err, ErrStopped)
		}
	})
}

func TestSubscribeResumesInsideTheWindowAndResetsOutside(t *testing.T) {
	h := newTestHub(4, 8, 8)
	p := &publisher{h: h}
	for i := range 6 { // 1..6; the window holds 3..6
		p.publish(Unload, fmt.Sprint("m", i%3), i >= 3)
	}
	cases := []struct {
		name    string
		epoch   string
		after   uint64
		filter  Filter
		outcome Outcome
		want    string // sequences of the initial messages; r: reset, e: snapshot end
	}{
		{"inside the window: the events after the cursor", "e", 3, NewFilter("", nil, nil, nil), Resumed, "4 5 6"},
		{"at the last event: nothing", "e", 6, NewFilter("", nil, nil, nil), Resumed, ""},
		{"just before the window's first event", "e", 2, NewFilter("", nil, nil, nil), Resumed, "3 4 5 6"},
		{"older than the window: reset and snapshot", "e", 1, NewFilter("", nil, nil, nil), Reset, "r e"},
		{"another epoch: reset and snapshot", "other", 5, NewFilter("", nil, nil, nil), Reset, "r e"},
		{"ahead of the hub: reset and snapshot", "e", 7, NewFilter("", nil, nil, nil), Reset, "r e"},
		{"filters apply to the replay", "e", 2, NewFilter("", []string{"m1"}, nil, nil), Resumed, "5"},
		{"kinds apply to the replay", "e", 2, NewFilter("", nil, nil, []Kind{Load}), Resumed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub, outcome := h.Subscribe(c.filter, c.epoch, c.after)
			defer h.Unsubscribe(sub)
			got := ""
			for _, o := range sub.initial {
				switch o.Kind {
				case OutEvent:
					got += fmt.Sprint(o.Seq, " ")
				case OutReset:
					got += "r "
				case OutSnapshotEnd:
					got += "e "
				}
			}
			if outcome != c.outcome || got != c.want+map[bool]string{true: " ", false: ""}[c.want != ""] {
				t.Errorf("outcome %v, initial %q; want %v, %q", outcome, got, c.outcome, c.want)
			}
		})
	}
}

func TestSnapshotHoldsTheOpenRecommendationsInSequenceOrder(t *testing.T) {
	h := newTestHub(2, 8, 8)
	p := &publisher{h: h}
	p.publish(Unload, "b", false) // 1
	p.publish(Load, "a", false)   // 2
	p.publish(Unload, "c", false) // 3
	p.publish(Unload, "b", true)  // 4
	sub, _ := h.Subscribe(NewFilter("gw", nil, nil, nil), "", 0)
	var got []string
	for _, o := range sub.initial {
		got = append(got, fmt.Sprintf("%d/%d/%d", o.Kind, o.Seq, o.Open))
	}
	if fmt.Sprint(got) != "[1/2/0 1/3/0 3/4/2]" {
		t.Errorf("snapshot %v, want events 2 and 3 then the end through 4 with 2 open", got)
	}
}
