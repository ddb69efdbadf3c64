package server

import (
	"testing"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// A subscriber that stops reading while one model flaps between recommended and withdrawn keeps
// a bounded queue: coalescing replaces the key's pending event, and the emptied slots are dropped.
func TestStalledSubscriberQueueStaysBoundedWhileCoalescing(t *testing.T) {
	h := newHub(hubConfig{epoch: "e", now: time.Now, window: 16, queueSize: 4, maxPending: 100})
	sub, _ := h.subscribe(newFilter("", nil, nil), "", 0)
	for i := range 100_000 {
		h.publish([]*event{{
			key:       recKey{gateway: "gw", model: "m" + string(rune('a'+i%2))},
			withdrawn: i%4 >= 2,
			msg:       &brainv1.WatchUnloadRecommendationsResponse{},
		}})
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
