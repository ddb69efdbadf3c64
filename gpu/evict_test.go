package gpu_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

// fixedNextUse is a NextUseEstimator from a table of minutes from now.
type fixedNextUse struct {
	now     time.Time
	minutes map[string]int
}

func (f fixedNextUse) NextUse(model, _ string) (time.Time, float64) {
	return f.now.Add(time.Duration(f.minutes[model]) * time.Minute), 0.9
}

func loaded(model string, gib int64) gpu.Resident {
	return gpu.Resident{Model: model, Gateway: "gw", MemoryBytes: gib * GiB, State: gpu.ResidentLoaded}
}

func victimNames(p gpu.Placement) []string {
	var out []string
	for _, e := range p.Evictions {
		out = append(out, e.Model)
	}
	return out
}

func TestEvictionFollowsPredictedNextUse(t *testing.T) {
	tests := []struct {
		name      string
		freeGiB   []int64
		residents map[int][]gpu.Resident
		minutes   map[string]int
		required  int64
		wantGPU   int
		want      []string
	}{
		{
			name:      "the model wanted last goes first",
			freeGiB:   []int64{10},
			residents: map[int][]gpu.Resident{0: {loaded("soon", 20), loaded("late", 20), loaded("mid", 20)}},
			minutes:   map[string]int{"soon": 1, "late": 60, "mid": 10},
			required:  25 * GiB,
			want:      []string{"late"},
		},
		{
			name:      "when one victim is not enough, the next latest follows",
			freeGiB:   []int64{10},
			residents: map[int][]gpu.Resident{0: {loaded("soon", 20), loaded("late", 20), loaded("mid", 20)}},
			minutes:   map[string]int{"soon": 1, "late": 60, "mid": 10},
			required:  45 * GiB,
			want:      []string{"late", "mid"},
		},
		{
			name:    "the cheapest plan across GPUs wins",
			freeGiB: []int64{10, 10},
			residents: map[int][]gpu.Resident{
				0: {loaded("busy-soon", 40)},
				1: {loaded("idle", 40)},
			},
			minutes:  map[string]int{"busy-soon": 2, "idle": 120},
			required: 30 * GiB,
			wantGPU:  1,
			want:     []string{"idle"},
		},
		{
			name:      "a victim that the others make unneeded is dropped (fewer bytes beyond the need)",
			freeGiB:   []int64{10},
			residents: map[int][]gpu.Resident{0: {loaded("small", 5), loaded("big", 40)}},
			minutes:   map[string]int{"small": 300, "big": 200},
			required:  40 * GiB,
			want:      []string{"big"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			a := gpu.NewAllocator(openStatic(t, clock, tt.freeGiB...), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
			res := map[string][]gpu.Resident{}
			for i, r := range tt.residents {
				res[gpu.StaticUUID(i)] = r
			}
			p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: tt.required, AllowEviction: true, Residents: res,
				NextUse: fixedNextUse{clock.Now(), tt.minutes}})
			if err != nil {
				t.Fatal(err)
			}
			if got := victimNames(p); p.Device.Index != tt.wantGPU || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("GPU %d, victims %v; want GPU %d, victims %v", p.Device.Index, got, tt.wantGPU, tt.want)
			}
			var freed int64
			for _, e := range p.Evictions {
				freed += e.MemoryBytes
			}
			if p.FreeAfterBytes != p.AvailableBytes+freed-tt.required || p.FreeAfterBytes < GiB {
				t.Errorf("free after %d, want available %d + freed %d - required %d, at least the headroom", p.FreeAfterBytes, p.AvailableBytes, freed, tt.required)
			}
			for _, e := range p.Evictions {
				if !strings.Contains(e.Reason, "reported memory_bytes") || !strings.Contains(e.Reason, "make room for new") {
					t.Errorf("reason %q does not say what the bytes count or whom they serve", e.Reason)
				}
			}
		})
	}
}

func TestEvictionNeverTakesProtectedModels(t *testing.T) {
	tests := []struct {
		name  string
		r     gpu.Resident
		block string
	}{
		{"a pinned model is never a victim", gpu.Resident{Model: "m", Gateway: "gw", MemoryBytes: 60 * GiB, State: gpu.ResidentLoaded, Pinned: true}, "1 pinned"},
		{"a model with requests in flight is never a victim", gpu.Resident{Model: "m", Gateway: "gw", MemoryBytes: 60 * GiB, State: gpu.ResidentLoaded, InFlight: 1}, "1 with requests in flight"},
		{"a LOADING model is never a victim", gpu.Resident{Model: "m", Gateway: "gw", MemoryBytes: 60 * GiB, State: gpu.ResidentLoading}, "1 not LOADED"},
		{"a model holding a reservation is never a victim", gpu.Resident{Model: "m", Gateway: "gw", MemoryBytes: 60 * GiB, State: gpu.ResidentLoaded, ReservedBytes: GiB}, "1 holding a reservation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			a := gpu.NewAllocator(openStatic(t, clock, 10), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
			_, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 30 * GiB, AllowEviction: true,
				Residents: map[string][]gpu.Resident{gpu.StaticUUID(0): {tt.r}}})
			var nofit *gpu.NoFitError
			if !errors.As(err, &nofit) || !nofit.Eviction {
				t.Fatalf("got %v, want an eviction NoFitError", err)
			}
			if len(nofit.Refusals) != 1 || !strings.Contains(nofit.Refusals[0].Reason, tt.block) {
				t.Fatalf("refusals %+v, want GPU 0 blocked by %q", nofit.Refusals, tt.block)
			}
		})
	}
}

// TestEvictionWithoutEstimatorIsLRU: the default estimate ranks by last request.
func TestEvictionWithoutEstimatorIsLRU(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	a := gpu.NewAllocator(openStatic(t, clock, 10), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	recent, old := loaded("recent", 30), loaded("old", 30)
	recent.LastRequest, old.LastRequest = now.Add(-time.Minute), now.Add(-time.Hour)
	p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 30 * GiB, AllowEviction: true,
		Residents: map[string][]gpu.Resident{gpu.StaticUUID(0): {recent, old}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := victimNames(p); len(got) != 1 || got[0] != "old" {
		t.Fatalf("victims %v, want the least recently used", got)
	}
}

// TestConcurrentReservationsNeverShareAVictim: many placements race for the room one victim
// frees; each victim is promised to at most one of them, and what the reservations hold never
// exceeds what is free plus what their victims free.
func TestConcurrentReservationsNeverShareAVictim(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 5, 5), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := map[string][]gpu.Resident{
		gpu.StaticUUID(0): {loaded("a", 30), loaded("b", 30)},
		gpu.StaticUUID(1): {loaded("c", 30)},
	}
	const racers = 16
	var wg sync.WaitGroup
	places := make([]gpu.Placement, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			places[i], errs[i] = a.Choose(gpu.Request{Model: "new", Gateway: "gw-new", RequiredBytes: 25 * GiB, Reserve: true, AllowEviction: true, Residents: res})
		})
	}
	wg.Wait()
	promised := map[string]int{}
	won := 0
	for i := range racers {
		if errs[i] != nil {
			if !errors.Is(errs[i], gpu.ErrNoFit) {
				t.Fatalf("racer %d: %v", i, errs[i])
			}
			continue
		}
		won++
		for _, e := range places[i].Evictions {
			promised[e.Model]++
		}
	}
	for m, n := range promised {
		if n > 1 {
			t.Errorf("victim %s promised to %d placements", m, n)
		}
	}
	if won != 3 {
		t.Errorf("%d placements won, want 3 (one a victim: a, b, c)", won)
	}
	// Every GPU: reserved <= free + claimed victims' bytes.
	for _, d := range a.Status(clock.Now()).Devices {
		if d.AvailableBytes < 0 || d.ReservedBytes > d.FreeBytes+60*GiB {
			t.Errorf("GPU %d: reserved %d, available %d", d.Index, d.ReservedBytes, d.AvailableBytes)
		}
	}
}

// TestClaimsEndWithTheirReservation: a released reservation gives its victims back; a victim
// that is unloaded stops being counted on top of the free memory that now shows it.
func TestClaimsEndWithTheirReservation(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 5), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("a", 30)}}
	req := gpu.Request{Model: "new", RequiredBytes: 25 * GiB, Reserve: true, AllowEviction: true, Residents: res}
	p, err := a.Choose(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Choose(req); !errors.Is(err, gpu.ErrNoFit) {
		t.Fatalf("a claimed victim was promised twice: %v", err)
	}
	if got := a.Status(clock.Now()).Devices[0].AvailableBytes; got != 10*GiB {
		t.Fatalf("available %d GiB while the victim is claimed, want 5 + 30 - 25 = 10", got/GiB)
	}
	if a.VictimGone("a", "other-gw", "") {
		t.Fatal("VictimGone matched a claim of another gateway")
	}
	if !a.VictimGone("a", "gw", "") {
		t.Fatal("VictimGone did not find the claim")
	}
	if got := a.Status(clock.Now()).Devices[0].AvailableBytes; got != 0 {
		t.Fatalf("available %d GiB after the victim left (NVML not yet refreshed), want 0", got/GiB)
	}
	a.Release(p.ReservationID)
	if _, err := a.Choose(req); err != nil {
		t.Fatalf("after the release the victim should be free to claim again: %v", err)
	}
}

// TestEvictionOverSeveralGPUs: a model over two GPUs takes a GPU that fits as is (cost 0) and the
// GPU whose plan is cheapest, and one reservation holds both shares.
func TestEvictionOverSeveralGPUs(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 10, 10, 50), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := map[string][]gpu.Resident{
		gpu.StaticUUID(0): {loaded("wanted-soon", 40)},
		gpu.StaticUUID(1): {loaded("idle", 40)},
	}
	p, err := a.Choose(gpu.Request{Model: "tp2", RequiredBytes: 80 * GiB, GPUCount: 2, AllowEviction: true, Reserve: true, Residents: res,
		NextUse: fixedNextUse{clock.Now(), map[string]int{"wanted-soon": 1, "idle": 240}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, g := range p.All() {
		got = append(got, g.Device.Index)
	}
	if !equalInts(got, []int{1, 2}) || strings.Join(victimNames(p), ",") != "idle" {
		t.Fatalf("GPUs %v, victims %v; want GPUs 1 and 2, victim idle", got, victimNames(p))
	}
	st := a.Status(clock.Now())
	if st.Devices[1].ReservedBytes != 40*GiB || st.Devices[2].ReservedBytes != 40*GiB {
		t.Errorf("reserved %d and %d, want 40 GiB on each", st.Devices[1].ReservedBytes, st.Devices[2].ReservedBytes)
	}
}

// TestEvictionPlanProperties: on random GPUs and residents, every plan frees enough, takes only
// models that may go, and takes none it does not need; every refusal is one where even all the
// models that may go would not free enough.
func TestEvictionPlanProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 300 {
		clock := newFakeClock()
		now := clock.Now()
		free := make([]int64, 1+r.IntN(4))
		for i := range free {
			free[i] = r.Int64N(20)
		}
		a := gpu.NewAllocator(openStatic(t, clock, free...), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
		res := map[string][]gpu.Resident{}
		eligible := map[string]int64{}
		for i := range free {
			for k := range r.IntN(12) {
				rs := gpu.Resident{Model: fmt.Sprintf("m%d-%d", i, k), Gateway: "gw", MemoryBytes: (1 + r.Int64N(16)) * GiB / 2,
					State: gpu.ResidentState(r.IntN(3) / 2), Pinned: r.IntN(8) == 0, InFlight: int64(r.IntN(6) / 5),
					LastRequest: now.Add(-time.Duration(r.IntN(3600)) * time.Second)}
				if r.IntN(10) == 0 {
					rs.ReservedBytes = GiB
				}
				res[gpu.StaticUUID(i)] = append(res[gpu.StaticUUID(i)], rs)
				if rs.State == gpu.ResidentLoaded && !rs.Pinned && rs.InFlight == 0 && rs.ReservedBytes == 0 {
					eligible[gpu.StaticUUID(i)] += rs.MemoryBytes
				}
			}
		}
		required := (1 + r.Int64N(60)) * GiB / 2
		p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: required, AllowEviction: true, Residents: res, Now: now})
		if err != nil {
			for i, f := range free {
				if f*GiB+eligible[gpu.StaticUUID(i)] >= required+GiB {
					t.Fatalf("round %d: refused (%v) although GPU %d could free enough", round, err, i)
				}
			}
			continue
		}
		byName := map[string]gpu.Resident{}
		for _, rs := range res[p.Device.UUID] {
			byName[rs.Model] = rs
		}
		need := required + GiB - p.AvailableBytes
		var freed int64
		for _, e := range p.Evictions {
			rs, ok := byName[e.Model]
			if !ok || e.UUID != p.Device.UUID {
				t.Fatalf("round %d: victim %s is not on the chosen GPU", round, e.Model)
			}
			if rs.State != gpu.ResidentLoaded || rs.Pinned || rs.InFlight > 0 || rs.ReservedBytes > 0 {
				t.Fatalf("round %d: victim %+v may not go", round, rs)
			}
			freed += e.MemoryBytes
		}
		if freed < need {
			t.Fatalf("round %d: victims free %d of the %d needed", round, freed, need)
		}
		for _, e := range p.Evictions {
			if freed-e.MemoryBytes >= need {
				t.Fatalf("round %d: victim %s is not needed (%d freed, %d needed)", round, e.Model, freed, need)
			}
		}
	}
}

// TestAnEvictionPlacementAccountsForEveryByte pins a plan's figures: what each GPU has free after
// the load, the plan's cost as the sum of its victims', each victim's estimate, and where the
// plan's GPUs are listed.
func TestAnEvictionPlacementAccountsForEveryByte(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	est := fixedNextUse{now, map[string]int{"a": 30, "b": 60, "c": 1, "d": 90}}
	t.Run("one GPU: free after is available plus freed minus the model, and the cost sums the victims'", func(t *testing.T) {
		a := gpu.NewAllocator(openStatic(t, clock, 4), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
		res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("a", 10), loaded("b", 10), loaded("c", 10)}}
		p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 20 * GiB, AllowEviction: true, Residents: res, NextUse: est, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(victimNames(p), ","); got != "b,a" {
			t.Fatalf("victims %s, want b,a (cheapest first)", got)
		}
		if p.AvailableBytes != 4*GiB || p.FreeAfterBytes != 4*GiB+20*GiB-20*GiB || p.GPUs != nil {
			t.Fatalf("available %d, free after %d, GPUs %v; want 4 GiB, 4 GiB, none", p.AvailableBytes, p.FreeAfterBytes, p.GPUs)
		}
		want := gpu.ColdStartCost(30*time.Minute, 0.9) + gpu.ColdStartCost(60*time.Minute, 0.9)
		if diff := p.EvictionCost - want; diff > 1e-12 || diff < -1e-12 {
			t.Fatalf("eviction cost %v, want %v", p.EvictionCost, want)
		}
		e := p.Evictions[0]
		if !e.NextUse.Equal(now.Add(60*time.Minute)) || e.Confidence != 0.9 || e.MemoryBytes != 10*GiB || e.UUID != gpu.StaticUUID(0) {
			t.Fatalf("eviction %+v", e)
		}
	})
	t.Run("a plan whose victims free exactly the missing bytes is made", func(t *testing.T) {
		a := gpu.NewAllocator(openStatic(t, clock, 4), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
		res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("a", 10), loaded("b", 7)}}
		p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 20 * GiB, AllowEviction: true, Residents: res, NextUse: est, Now: now})
		if err != nil {
			t.Fatalf("4 GiB free + 17 GiB of victims = 20 GiB + 1 GiB headroom, refused: %v", err)
		}
		if p.FreeAfterBytes != GiB || len(p.Evictions) != 2 {
			t.Fatalf("free after %d, victims %v; want the headroom and both", p.FreeAfterBytes, victimNames(p))
		}
	})
	t.Run("several GPUs: each lists its own free after", func(t *testing.T) {
		a := gpu.NewAllocator(openStatic(t, clock, 2, 30), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
		res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("a", 10), loaded("d", 30)}}
		p, err := a.Choose(gpu.Request{Model: "tp2", RequiredBytes: 40 * GiB, GPUCount: 2, AllowEviction: true, Residents: res, NextUse: est, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.GPUs) != 2 || strings.Join(victimNames(p), ",") != "d" {
			t.Fatalf("GPUs %d, victims %v; want 2 GPUs, victim d", len(p.GPUs), victimNames(p))
		}
		if g := p.GPUs[0]; g.AvailableBytes != 2*GiB || g.FreeAfterBytes != 2*GiB+30*GiB-20*GiB {
			t.Fatalf("GPU 0: available %d, free after %d", g.AvailableBytes, g.FreeAfterBytes)
		}
		if g := p.GPUs[1]; g.AvailableBytes != 30*GiB || g.FreeAfterBytes != 10*GiB {
			t.Fatalf("GPU 1: available %d, free after %d", g.AvailableBytes, g.FreeAfterBytes)
		}
	})
	t.Run("of two equal plans the lower GPU index wins", func(t *testing.T) {
		a := gpu.NewAllocator(openStatic(t, clock, 4, 4, 4), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
		res := map[string][]gpu.Resident{}
		for i := range 3 {
			res[gpu.StaticUUID(i)] = []gpu.Resident{loaded("a", 30)}
		}
		res[gpu.StaticUUID(0)][0].InFlight = 1
		p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 20 * GiB, AllowEviction: true, Residents: res, NextUse: est, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if p.Device.Index != 1 {
			t.Fatalf("GPU %d, want 1", p.Device.Index)
		}
	})
}

// TestARefusalShowsWhatAClaimedVictimFrees: a GPU's available bytes in an eviction refusal count
// the victims reservations already count on.
func TestARefusalShowsWhatAClaimedVictimFrees(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 5), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("a", 30)}}
	if _, err := a.Choose(gpu.Request{Model: "first", RequiredBytes: 20 * GiB, Reserve: true, AllowEviction: true, Residents: res}); err != nil {
		t.Fatal(err)
	}
	_, err := a.Choose(gpu.Request{Model: "second", RequiredBytes: 20 * GiB, AllowEviction: true, Residents: res})
	var nofit *gpu.NoFitError
	if !errors.As(err, &nofit) || len(nofit.Refusals) != 1 {
		t.Fatalf("err %v, want one refusal", err)
	}
	if got := nofit.Refusals[0].AvailableBytes; got != 5*GiB+30*GiB-20*GiB {
		t.Fatalf("available %d GiB, want 5 free + 30 claimed - 20 reserved = 15", got/GiB)
	}
	if r := nofit.Refusals[0].Reason; !strings.Contains(r, "(1 loaded here; 1 already promised to another placement)") {
		t.Fatalf("refusal %q, want it to count the one claimed model", r)
	}
}

// TestAPlanOfMoreVictimsThanTheShortListTakesThemAll: when the cheapest few candidates do not free
// enough, the plan looks at every candidate, cheapest first.
func TestAPlanOfMoreVictimsThanTheShortListTakesThemAll(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	a := gpu.NewAllocator(openStatic(t, clock, 0), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	var rs []gpu.Resident
	minutes := map[string]int{}
	for k := range 12 {
		m := fmt.Sprintf("m%02d", k)
		rs = append(rs, loaded(m, 1))
		minutes[m] = 100 - k // the later in the list, the sooner wanted
	}
	for _, est := range []gpu.NextUseEstimator{fixedNextUse{now, minutes}, nil} {
		p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 9 * GiB, AllowEviction: true, NextUse: est, Now: now,
			Residents: map[string][]gpu.Resident{gpu.StaticUUID(0): rs}})
		if err != nil {
			t.Fatal(err)
		}
		// Predicted: the latest wanted first. By recency, none ever requested: the list's order.
		want := "m00,m01,m02,m03,m04,m05,m06,m07,m08,m09"
		if got := strings.Join(victimNames(p), ","); got != want {
			t.Fatalf("estimator %v: victims %s, want %s", est != nil, got, want)
		}
	}
}

// TestVictimGoneOnOneGPU: a report naming a GPU ends only the claim on that GPU.
func TestVictimGoneOnOneGPU(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 5, 5), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := map[string][]gpu.Resident{gpu.StaticUUID(0): {loaded("a", 30)}, gpu.StaticUUID(1): {loaded("a", 30)}}
	for range 2 {
		if _, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: 25 * GiB, Reserve: true, AllowEviction: true, Residents: res}); err != nil {
			t.Fatal(err)
		}
	}
	if !a.Claimed("a", "gw", gpu.StaticUUID(0)) || !a.Claimed("a", "gw", gpu.StaticUUID(1)) {
		t.Fatal("both copies of a should be claimed")
	}
	if !a.VictimGone("a", "gw", gpu.StaticUUID(1)) {
		t.Fatal("VictimGone on GPU 1 found no claim")
	}
	if !a.Claimed("a", "gw", gpu.StaticUUID(0)) || a.Claimed("a", "gw", gpu.StaticUUID(1)) {
		t.Fatal("want only the claim on GPU 1 ended")
	}
	if a.VictimGone("a", "gw", "GPU-other") {
		t.Fatal("VictimGone on another GPU found a claim")
	}
}

// TestEvictionsAreListedCheapestFirst: Placement.Evictions promises the cheapest victim first,
// whether the plan came from the short list of cheapest candidates or needed every candidate.
func TestEvictionsAreListedCheapestFirst(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now()
	var rs []gpu.Resident
	minutes := map[string]int{}
	for k := range 12 {
		m := fmt.Sprintf("m%02d", k)
		rs = append(rs, loaded(m, 1))
		minutes[m] = k // the later in the list, the later wanted: the cheaper
	}
	for _, tt := range []struct {
		name     string
		required int64
		want     string
	}{
		{"a plan of the short list", 3 * GiB, "m11,m10,m09,m08"},
		{"a plan of exactly the short list", 7 * GiB, "m11,m10,m09,m08,m07,m06,m05,m04"},
		{"a plan past the short list", 9 * GiB, "m11,m10,m09,m08,m07,m06,m05,m04,m03,m02"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := gpu.NewAllocator(openStatic(t, clock, 0), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
			p, err := a.Choose(gpu.Request{Model: "new", RequiredBytes: tt.required, AllowEviction: true, NextUse: fixedNextUse{now, minutes}, Now: now,
				Residents: map[string][]gpu.Resident{gpu.StaticUUID(0): rs}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(victimNames(p), ","); got != tt.want {
				t.Fatalf("victims %s, want %s", got, tt.want)
			}
		})
	}
}
