package replay

import (
	"strings"
	"testing"
	"time"
)

// A capped replay's sim as initCap leaves it, over a three-model trace of two minutes.
func capSim(t *testing.T, mem Memory) *sim {
	t.Helper()
	tr, err := ReadTrace("t.csv", strings.NewReader("HashFunction,HashApp,HashOwner,minute_1,minute_2\nf1,app1,o,1,1\nf2,app2,o,1,0\nf3,app3,o,0,0"), Rows{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(tr, Config{DecisionInterval: 10 * time.Second, Memory: mem, Cap: &Cap{Devices: SingleGPU(1 << 40)}})
	if err := s.initCap(); err != nil {
		t.Fatal(err)
	}
	return s
}

// The size weighting of the brain's and ModelMesh's victim choices divides by the mean size of
// the trace's models.
func TestCapReferenceSizeIsTheMeanModelSize(t *testing.T) {
	s := capSim(t, Memory{"app1": 100, "app2": 200, "app3": 600})
	if want := float64(300 << 20); s.meanBytes != want {
		t.Errorf("mean %v bytes, want %v", s.meanBytes, want)
	}
	if want := float64(600 << 20); s.maxBytes != want {
		t.Errorf("max %v bytes, want %v", s.maxBytes, want)
	}
}

// The victim choices see a model's last request as the tracker does: the start of the current
// minute for a model requested in it, second 59 of its minute for one requested before, none for
// a model never requested or unknown.
func TestCapLastRequestIsTheTrackersView(t *testing.T) {
	s := capSim(t, Memory{"app1": 1, "app2": 1, "app3": 1})
	s.minute = 2
	s.busy[0], s.busy[1] = 2, 1 // f1 requested in minute 2 (now), f2 last in minute 1, f3 never
	tests := []struct {
		model string
		want  time.Time
	}{
		{"f1", s.minuteStart(2)},
		{"f2", s.minuteStart(1).Add(59 * time.Second)},
		{"f3", time.Time{}},
		{"unknown", time.Time{}},
	}
	for _, tt := range tests {
		if got := s.lastRequestOf(tt.model, Gateway); !got.Equal(tt.want) {
			t.Errorf("last request of %s: %v, want %v", tt.model, got, tt.want)
		}
	}
	s.now = s.minuteStart(2).Add(30 * time.Second)
	if got, want := s.idle(1), 31*time.Second; got != want {
		t.Errorf("idle of f2 at 2:30: %v, want %v", got, want)
	}
	if got := s.idle(2); got != time.Hour {
		t.Errorf("idle of f3, never requested: %v, want an hour", got)
	}
}
