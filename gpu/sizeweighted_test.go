package gpu_test

import (
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

func TestSizeWeighted(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	est := fixedNextUse{now, map[string]int{"small": 30, "big": 20, "now": 0}}
	sizes := map[string]int64{"small": GiB, "big": 4 * GiB, "now": 8 * GiB}
	sw := gpu.SizeWeighted{Est: est, Now: now, Bytes: func(m, _ string) int64 { return sizes[m] }, Reference: 2 * GiB}
	tests := []struct {
		model string
		wait  time.Duration
	}{
		{"small", 15 * time.Minute}, // 30 min × 1/2
		{"big", 40 * time.Minute},   // 20 min × 4/2: expected back sooner, but twice the room
		{"now", 0},                  // wanted now stays wanted now, whatever its size
	}
	for _, tt := range tests {
		next, conf := sw.NextUse(tt.model, "gw")
		if next.Sub(now) != tt.wait || conf != 0.9 {
			t.Errorf("%s: wait %s, confidence %g; want %s and the estimate's confidence 0.9", tt.model, next.Sub(now), conf, tt.wait)
		}
	}
	// Through the planner: of two models, the larger goes although it is wanted sooner.
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 0), gpu.AllocatorConfig{Clock: clock.Now})
	res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("small", 1), loaded("big", 4)}}
	sw.Now = clock.Now()
	sw.Est = fixedNextUse{clock.Now(), map[string]int{"small": 30, "big": 20}}
	p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: GiB / 2, AllowEviction: true, Residents: res, NextUse: sw})
	if err != nil {
		t.Fatal(err)
	}
	if got := victimNames(p); len(got) != 1 || got[0] != "big" {
		t.Errorf("victims %v, want [big]", got)
	}
}
