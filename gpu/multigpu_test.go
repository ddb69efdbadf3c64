package gpu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelium/brain/gpu"
)

func TestChooseSeveralGPUs(t *testing.T) {
	tests := []struct {
		name      string
		freeGiB   []int64
		req       gpu.Request
		wantIndex []int
		wantNoFit string // a part of the refusal of GPU 0 when nothing fits
	}{
		{
			name:      "two GPUs with the most available memory, each holding half",
			freeGiB:   []int64{50, 70, 30, 60},
			req:       gpu.Request{RequiredBytes: 100 * GiB, GPUCount: 2},
			wantIndex: []int{1, 3},
		},
		{
			name:      "best_fit takes the two tightest GPUs that hold a half",
			freeGiB:   []int64{50, 70, 52, 60},
			req:       gpu.Request{RequiredBytes: 100 * GiB, GPUCount: 2, Strategy: gpu.BestFit{}},
			wantIndex: []int{2, 3},
		},
		{
			name:      "ties go to the lowest indexes",
			freeGiB:   []int64{60, 60, 60},
			req:       gpu.Request{RequiredBytes: 100 * GiB, GPUCount: 2},
			wantIndex: []int{0, 1},
		},
		{
			name:      "a model that fits no single GPU fits over four",
			freeGiB:   []int64{79, 79, 79, 79},
			req:       gpu.Request{RequiredBytes: 280 * GiB, GPUCount: 4},
			wantIndex: []int{0, 1, 2, 3},
		},
		{
			name:      "fewer GPUs with room than asked for is no fit, and says so",
			freeGiB:   []int64{60, 10, 10},
			req:       gpu.Request{RequiredBytes: 100 * GiB, GPUCount: 2},
			wantNoFit: "only 1 of the 2 GPUs needed",
		},
		{
			name:      "gpu_count 1 is the one-GPU placement",
			freeGiB:   []int64{30, 70},
			req:       gpu.Request{RequiredBytes: 20 * GiB, GPUCount: 1},
			wantIndex: []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			a := gpu.NewAllocator(openStatic(t, clock, tt.freeGiB...), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
			p, err := a.Choose(tt.req)
			if tt.wantNoFit != "" {
				var nofit *gpu.NoFitError
				if !errors.As(err, &nofit) || !strings.Contains(nofit.Refusals[0].Reason, tt.wantNoFit) {
					t.Fatalf("got %v, want a NoFitError whose GPU 0 says %q", err, tt.wantNoFit)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			all := p.All()
			var got []int
			for _, g := range all {
				got = append(got, g.Device.Index)
			}
			if !equalInts(got, tt.wantIndex) || p.Device.Index != tt.wantIndex[0] {
				t.Fatalf("GPUs %v (first %d), want %v", got, p.Device.Index, tt.wantIndex)
			}
			per := gpu.PerGPUBytes(tt.req.RequiredBytes, tt.req.GPUCount)
			for _, g := range all {
				if g.FreeAfterBytes != g.AvailableBytes-per {
					t.Errorf("GPU %d: free after %d, want %d - %d", g.Device.Index, g.FreeAfterBytes, g.AvailableBytes, per)
				}
			}
		})
	}
}

func equalInts(x, y []int) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func TestPerGPUBytesCoversTheModel(t *testing.T) {
	for _, tt := range []struct {
		required int64
		count    int
		want     int64
	}{
		{100, 0, 100}, {100, 1, 100}, {100, 2, 50}, {101, 2, 51}, {7, 8, 1}, {1<<63 - 1, 64, (1<<63-1)/64 + 1},
	} {
		if got := gpu.PerGPUBytes(tt.required, tt.count); got != tt.want {
			t.Errorf("PerGPUBytes(%d, %d) = %d, want %d", tt.required, tt.count, got, tt.want)
		}
	}
}

// TestSeveralGPUsReserveEachShare: one reservation holds the share on every chosen GPU, and its
// release gives all of them back.
func TestSeveralGPUsReserveEachShare(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 60, 60, 60), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	p, err := a.Choose(gpu.Request{Model: "llama-70b", Gateway: "gw", RequiredBytes: 100 * GiB, GPUCount: 2, Reserve: true})
	if err != nil {
		t.Fatal(err)
	}
	reserved := func() []int64 {
		var out []int64
		for _, d := range a.Status(clock.Now()).Devices {
			out = append(out, d.ReservedBytes/GiB)
		}
		return out
	}
	if got := reserved(); got[0] != 50 || got[1] != 50 || got[2] != 0 {
		t.Fatalf("reserved %v GiB, want 50 on GPUs 0 and 1", got)
	}
	// A second one finds only one GPU with 50 GiB + headroom left.
	if _, err := a.Choose(gpu.Request{Model: "other", RequiredBytes: 100 * GiB, GPUCount: 2}); !errors.Is(err, gpu.ErrNoFit) {
		t.Fatalf("second placement: %v, want no fit", err)
	}
	if !a.Release(p.ReservationID) {
		t.Fatal("release failed")
	}
	if got := reserved(); got[0] != 0 || got[1] != 0 {
		t.Fatalf("after release reserved %v GiB", got)
	}
}

func TestGPUsNeeded(t *testing.T) {
	tests := []struct {
		name     string
		devices  []gpu.StaticDevice
		required int64
		want     int
		reason   string
	}{
		{"Llama-2-70B in bf16 (about 155 GiB) needs two 80 GiB GPUs", []gpu.StaticDevice{{TotalBytes: 80 * GiB}, {TotalBytes: 80 * GiB}}, 155 * GiB, 2, "2 GPU(s) of 80.0 GiB"},
		{"a model that fits one GPU needs one", []gpu.StaticDevice{{TotalBytes: 80 * GiB}}, 20 * GiB, 1, "1 GPU(s)"},
		{"the headroom counts: 79.5 GiB does not fit 80 GiB less 1 GiB", []gpu.StaticDevice{{TotalBytes: 80 * GiB}}, 79*GiB + GiB/2, 2, "2 GPU(s)"},
		{"the largest GPU is the size counted", []gpu.StaticDevice{{TotalBytes: 24 * GiB}, {TotalBytes: 80 * GiB}}, 100 * GiB, 2, "80.0 GiB"},
		{"without GPUs there is no count", nil, 20 * GiB, 0, "has no GPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			backend := gpu.BackendStatic
			if tt.devices == nil {
				backend = gpu.BackendNone
			}
			inv, err := gpu.Open(gpu.Config{Backend: backend, Devices: tt.devices, Clock: clock.Now}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer inv.Close()
			a := gpu.NewAllocator(inv, gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
			n := a.GPUsNeeded(tt.required)
			if n.Count != tt.want || !strings.Contains(n.Reason, tt.reason) {
				t.Fatalf("%d GPUs (%s), want %d and a reason with %q", n.Count, n.Reason, tt.want, tt.reason)
			}
			if n.Count > 0 && n.PerGPUBytes+n.HeadroomBytes > n.GPUTotalBytes {
				t.Errorf("%d bytes a GPU + headroom exceed the GPU's %d", n.PerGPUBytes, n.GPUTotalBytes)
			}
		})
	}
}

// recordingStrategy scores by most free and records what each candidate would have left.
type recordingStrategy struct{ freeAfter map[int]int64 }

func (recordingStrategy) Name() string { return "recording" }

func (s recordingStrategy) Score(c gpu.Candidate) int64 {
	s.freeAfter[c.Device.Index] = c.FreeAfterBytes
	return c.AvailableBytes
}

// TestAStrategySeesEachGPUsShareTakenOff: over several GPUs a strategy scores each GPU by what it
// would have left after its share (available minus the per-GPU bytes), as over one.
func TestAStrategySeesEachGPUsShareTakenOff(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30, 20, 10), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	s := recordingStrategy{freeAfter: map[int]int64{}}
	if _, err := a.Choose(gpu.Request{RequiredBytes: 16 * GiB, GPUCount: 2, Strategy: s}); err != nil {
		t.Fatal(err)
	}
	want := map[int]int64{0: 22 * GiB, 1: 12 * GiB, 2: 2 * GiB}
	if len(s.freeAfter) != 3 || s.freeAfter[0] != want[0] || s.freeAfter[1] != want[1] || s.freeAfter[2] != want[2] {
		t.Fatalf("the strategy saw free after %v, want %v", s.freeAfter, want)
	}
}

// TestAnEvictionReservationOnOneGPUHasNoParts: a reservation on one GPU, with victims or without,
// lists no parts (parts are for a model split over several GPUs).
func TestAnEvictionReservationOnOneGPUHasNoParts(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 5), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("victim", 30)}}
	p, err := a.Choose(gpu.Request{Model: "big", RequiredBytes: 25 * GiB, Reserve: true, AllowEviction: true, Residents: res})
	if err != nil {
		t.Fatal(err)
	}
	rs := a.Reservations(clock.Now())
	if len(rs) != 1 || rs[0].ID != p.ReservationID || rs[0].Parts != nil || rs[0].Bytes != 25*GiB || len(rs[0].Victims) != 1 {
		t.Fatalf("reservations %+v, want one of 25 GiB with its victim and no parts", rs)
	}
}

// TestGPUsNeededUpToTheMost: a model that needs exactly MaxGPUCount GPUs gets that count; one
// byte more is refused.
func TestGPUsNeededUpToTheMost(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 80), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	room := 79 * GiB
	if n := a.GPUsNeeded(gpu.MaxGPUCount * room); n.Count != gpu.MaxGPUCount {
		t.Fatalf("exactly %d GPUs' room: %+v", gpu.MaxGPUCount, n)
	}
	if n := a.GPUsNeeded(gpu.MaxGPUCount*room + 1); n.Count != 0 || !strings.Contains(n.Reason, "more than the 64") {
		t.Fatalf("one byte more: %+v", n)
	}
}
