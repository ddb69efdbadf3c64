package predict_test

import (
	"testing"
	"time"

	"github.com/modelium/brain/predict"
)

func TestNextUse(t *testing.T) {
	timer := periodic(t, 10, 20) // busy at minutes 0, 10, ..., 190
	k := predict.Key{Gateway: gw, Model: "timer"}
	tests := []struct {
		name   string
		p      *predict.Policy
		key    predict.Key
		now    time.Time
		want   time.Time // from want to before until (until zero: exactly want)
		until  time.Time
		wantOK bool
	}{
		// The plan gives the tick about 0.8 with 19 gaps: the expectation is past the tick, well
		// before the one after.
		{"a timer is expected around its next tick", timer, k, minute(193).Add(20 * time.Second), minute(200), minute(206), true},
		{"right after a tick, the whole period ahead", timer, k, minute(190).Add(59 * time.Second), minute(200), minute(206), true},
		// Quiet past every gap it has shown: back after as long again as it has been quiet.
		{"a timer quiet far past its period is taken back after as long again (recency)", timer, k, minute(190 + 300), minute(190 + 600), time.Time{}, true},
		{"no history: no estimate", timer, predict.Key{Gateway: gw, Model: "unknown"}, minute(5), time.Time{}, time.Time{}, false},
		{"a timer on another gateway is another history", timer, predict.Key{Gateway: "gw-2", Model: "timer"}, minute(193), time.Time{}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.p.NextUse(tt.key, tt.now)
			in := got.Equal(tt.want)
			if !tt.until.IsZero() {
				in = !got.Before(tt.want) && got.Before(tt.until)
			}
			if ok != tt.wantOK || !in {
				t.Errorf("NextUse = %v, %v; want %v (until %v), %v", got, ok, tt.want, tt.until, tt.wantOK)
			}
		})
	}
	few := periodic(t, 10, 2) // one gap: below MinHistory
	if _, ok := few.NextUse(k, minute(12)); ok {
		t.Error("a history with fewer than MinHistory gaps gave an estimate; want none (the caller falls back on recency)")
	}
}
