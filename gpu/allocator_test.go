package gpu_test

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

func TestChooseAppliesStrategyFitAndExclusions(t *testing.T) {
	tests := []struct {
		name      string
		freeGiB   []int64
		headroom  int64
		req       gpu.Request
		wantIndex int
		wantNoFit bool
	}{
		{
			name:    "most_free picks the GPU with the most available memory",
			freeGiB: []int64{30, 70, 50},
			req:     gpu.Request{RequiredBytes: 20 * GiB},
			// the default strategy
			wantIndex: 1,
		},
		{
			name:      "best_fit picks the feasible GPU with the least memory left",
			freeGiB:   []int64{30, 70, 25},
			req:       gpu.Request{RequiredBytes: 20 * GiB, Strategy: gpu.BestFit{}},
			wantIndex: 2,
		},
		{
			name:      "best_fit skips GPUs that are too small even if they would be tighter",
			freeGiB:   []int64{30, 70, 19},
			req:       gpu.Request{RequiredBytes: 20 * GiB, Strategy: gpu.BestFit{}},
			wantIndex: 0,
		},
		{
			name:      "most_free ties go to the lowest index",
			freeGiB:   []int64{40, 60, 60, 60},
			req:       gpu.Request{RequiredBytes: 20 * GiB},
			wantIndex: 1,
		},
		{
			name:      "best_fit ties go to the lowest index",
			freeGiB:   []int64{70, 30, 30},
			req:       gpu.Request{RequiredBytes: 20 * GiB, Strategy: gpu.BestFit{}},
			wantIndex: 1,
		},
		{
			name:      "a model that exactly fits is placed",
			freeGiB:   []int64{20},
			req:       gpu.Request{RequiredBytes: 20 * GiB},
			wantIndex: 0,
		},
		{
			name:      "headroom is required on top of the model",
			freeGiB:   []int64{21, 22},
			headroom:  2 * GiB,
			req:       gpu.Request{RequiredBytes: 20 * GiB, Strategy: gpu.BestFit{}},
			wantIndex: 1,
		},
		{
			name:      "headroom that leaves no GPU refuses",
			freeGiB:   []int64{21},
			headroom:  2 * GiB,
			req:       gpu.Request{RequiredBytes: 20 * GiB},
			wantNoFit: true,
		},
		{
			name:      "excluded GPUs are never chosen",
			freeGiB:   []int64{30, 70, 50},
			req:       gpu.Request{RequiredBytes: 20 * GiB, Exclude: []string{gpu.StaticUUID(1)}},
			wantIndex: 2,
		},
		{
			name:      "excluding every GPU that fits refuses",
			freeGiB:   []int64{10, 70},
			req:       gpu.Request{RequiredBytes: 20 * GiB, Exclude: []string{gpu.StaticUUID(1)}},
			wantNoFit: true,
		},
		{
			name:      "unknown excluded UUIDs are ignored",
			freeGiB:   []int64{30},
			req:       gpu.Request{RequiredBytes: 20 * GiB, Exclude: []string{"GPU-unknown"}},
			wantIndex: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			a := gpu.NewAllocator(openStatic(t, clock, tt.freeGiB...), gpu.AllocatorConfig{HeadroomBytes: tt.headroom, Clock: clock.Now})
			p, err := a.Choose(tt.req)
			if tt.wantNoFit {
				if !errors.Is(err, gpu.ErrNoFit) {
					t.Fatalf("Choose = GPU %d, %v; want ErrNoFit", p.Device.Index, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Choose: %v", err)
			}
			if p.Device.Index != tt.wantIndex {
				t.Fatalf("Choose picked GPU %d, want %d (%s)", p.Device.Index, tt.wantIndex, p.Reason())
			}
			if want := p.AvailableBytes - tt.req.RequiredBytes; p.FreeAfterBytes != want {
				t.Errorf("FreeAfterBytes = %d, want %d", p.FreeAfterBytes, want)
			}
		})
	}
}

// oneDevice is an inventory of one device exactly as given, whatever its numbers.
type oneDevice struct{ d gpu.Device }

func (o oneDevice) Snapshot() gpu.Snapshot {
	return gpu.Snapshot{Devices: []gpu.Device{o.d}, Backend: "test", Time: time.Now()}
}
func (o oneDevice) Refresh() gpu.Snapshot { return o.Snapshot() }
func (o oneDevice) Backend() string       { return "test" }
func (o oneDevice) Close() error          { return nil }

// TestFitCheckDoesNotWrap: available minus a huge headroom must not wrap around to "fits" when
// available is negative (free memory read as a negative number, as an NVML value above 2^63
// converts to int64).
func TestFitCheckDoesNotWrap(t *testing.T) {
	inv := oneDevice{gpu.Device{UUID: "GPU-x", TotalBytes: 80 * GiB, FreeBytes: -GiB}}
	for _, headroom := range []int64{math.MaxInt64, math.MaxInt64 - GiB, 0} {
		a := gpu.NewAllocator(inv, gpu.AllocatorConfig{HeadroomBytes: headroom})
		p, err := a.Choose(gpu.Request{RequiredBytes: GiB})
		if !errors.Is(err, gpu.ErrNoFit) {
			t.Errorf("headroom %d: placed on a GPU with -1 GiB free (%+v, %v)", headroom, p, err)
		}
	}
	// A model as large as int64 allows still fits no realistic GPU.
	a := gpu.NewAllocator(openStatic(t, newFakeClock(), 80), gpu.AllocatorConfig{HeadroomBytes: GiB})
	if _, err := a.Choose(gpu.Request{RequiredBytes: math.MaxInt64}); !errors.Is(err, gpu.ErrNoFit) {
		t.Errorf("MaxInt64 bytes: %v, want no fit", err)
	}
}

func TestConfiguredStrategyAppliesWhenRequestNamesNone(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 70, 30), gpu.AllocatorConfig{Strategy: gpu.BestFit{}, Clock: clock.Now})
	p, err := a.Choose(gpu.Request{RequiredBytes: 20 * GiB})
	if err != nil || p.Device.Index != 1 || p.Strategy != "best_fit" {
		t.Fatalf("Choose = GPU %d by %s, %v; want GPU 1 by best_fit", p.Device.Index, p.Strategy, err)
	}
}

func TestPlacementReasonSaysWhoChoseAndTheNumbers(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30, 70), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	p, err := a.Choose(gpu.Request{RequiredBytes: 20 * GiB})
	if err != nil {
		t.Fatal(err)
	}
	want := "GPU 1 (test GPU, static-GPU-1) chosen by most_free among 2 GPU(s) that fit: 70.0 GiB available, 20.0 GiB required + 1.0 GiB headroom, 50.0 GiB left after placement"
	if got := p.Reason(); got != want {
		t.Fatalf("Reason() =\n%s\nwant\n%s", got, want)
	}
}

func TestNoFitListsEveryGPUAndWhy(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 10, 70, 30), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	if _, err := a.Choose(gpu.Request{Model: "m1", RequiredBytes: 25 * GiB, Reserve: true, Exclude: []string{gpu.StaticUUID(1)}}); err != nil {
		t.Fatalf("reserve on GPU 2: %v", err)
	}
	_, err := a.Choose(gpu.Request{RequiredBytes: 20 * GiB, Exclude: []string{gpu.StaticUUID(1)}})
	var nf *gpu.NoFitError
	if !errors.As(err, &nf) || !errors.Is(err, gpu.ErrNoFit) {
		t.Fatalf("Choose error = %v, want a *NoFitError that is ErrNoFit", err)
	}
	if nf.RequiredBytes != 20*GiB || nf.HeadroomBytes != GiB {
		t.Errorf("NoFitError asks %d + %d, want %d + %d", nf.RequiredBytes, nf.HeadroomBytes, 20*GiB, GiB)
	}
	want := []gpu.Refusal{
		{Index: 0, UUID: "static-GPU-0", AvailableBytes: 10 * GiB, Reason: "has 10.0 GiB available (10.0 GiB free - 0 B reserved), needs 20.0 GiB + 1.0 GiB headroom"},
		{Index: 1, UUID: "static-GPU-1", AvailableBytes: 70 * GiB, Reason: "is excluded by the request"},
		{Index: 2, UUID: "static-GPU-2", AvailableBytes: 5 * GiB, Reason: "has 5.0 GiB available (30.0 GiB free - 25.0 GiB reserved), needs 20.0 GiB + 1.0 GiB headroom"},
	}
	if len(nf.Refusals) != len(want) {
		t.Fatalf("Refusals = %+v, want %+v", nf.Refusals, want)
	}
	for i := range want {
		if nf.Refusals[i] != want[i] {
			t.Errorf("Refusals[%d] = %+v, want %+v", i, nf.Refusals[i], want[i])
		}
	}
	if !strings.HasPrefix(err.Error(), "no GPU fits 20.0 GiB + 1.0 GiB headroom: GPU 0 has 10.0 GiB available") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestNoGPUsIsNoFit(t *testing.T) {
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendNone}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = gpu.NewAllocator(inv, gpu.AllocatorConfig{}).Choose(gpu.Request{RequiredBytes: GiB})
	var nf *gpu.NoFitError
	if !errors.As(err, &nf) || len(nf.Refusals) != 0 {
		t.Fatalf("Choose error = %v, want a *NoFitError without refusals", err)
	}
	if want := "no GPU fits 1.0 GiB + 0 B headroom: the none inventory has no GPUs"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestChooseRejectsInvalidRequests(t *testing.T) {
	tests := []struct {
		name string
		req  gpu.Request
	}{
		{"zero required bytes", gpu.Request{Model: "m"}},
		{"negative required bytes", gpu.Request{Model: "m", RequiredBytes: -1}},
		{"negative TTL", gpu.Request{Model: "m", RequiredBytes: GiB, Reserve: true, TTL: -time.Second}},
		{"reservation without a model", gpu.Request{RequiredBytes: GiB, Reserve: true}},
	}
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 70), gpu.AllocatorConfig{Clock: clock.Now})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.Choose(tt.req); !errors.Is(err, gpu.ErrInvalidRequest) {
				t.Fatalf("Choose error = %v, want ErrInvalidRequest", err)
			}
		})
	}
}

func TestReservationHoldsMemoryUntilReleased(t *testing.T) {
	tests := []struct {
		name    string
		release func(a *gpu.Allocator, id string) int
		want    int
	}{
		{"released by id", func(a *gpu.Allocator, id string) int {
			if a.Release(id) {
				return 1
			}
			return 0
		}, 1},
		{"released when its gateway reports the model", func(a *gpu.Allocator, _ string) int { return a.ReleaseModel("llama", "gw-1") }, 1},
		{"kept when another gateway reports the same model", func(a *gpu.Allocator, _ string) int { return a.ReleaseModel("llama", "gw-2") }, 0},
		{"kept when another model is reported", func(a *gpu.Allocator, _ string) int { return a.ReleaseModel("mistral", "gw-1") }, 0},
		{"unknown id releases nothing", func(a *gpu.Allocator, _ string) int {
			if a.Release("res-unknown") {
				return 1
			}
			return 0
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			a := gpu.NewAllocator(openStatic(t, clock, 30), gpu.AllocatorConfig{Clock: clock.Now})
			p, err := a.Choose(gpu.Request{Model: "llama", Gateway: "gw-1", RequiredBytes: 20 * GiB, Reserve: true})
			if err != nil || p.ReservationID == "" {
				t.Fatalf("reserve: %+v, %v", p, err)
			}
			if _, err := a.Choose(gpu.Request{RequiredBytes: 20 * GiB}); !errors.Is(err, gpu.ErrNoFit) {
				t.Fatalf("second 20 GiB on a 30 GiB GPU with 20 GiB reserved: %v, want ErrNoFit", err)
			}
			if got := tt.release(a, p.ReservationID); got != tt.want {
				t.Fatalf("released %d reservations, want %d", got, tt.want)
			}
			_, err = a.Choose(gpu.Request{RequiredBytes: 20 * GiB})
			if fitsNow := err == nil; fitsNow != (tt.want == 1) {
				t.Fatalf("after release, Choose error = %v; want fit = %v", err, tt.want == 1)
			}
		})
	}
}

func TestReservationWithoutGatewayIsReleasedByAnyGatewaysReport(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30), gpu.AllocatorConfig{Clock: clock.Now})
	if _, err := a.Choose(gpu.Request{Model: "llama", RequiredBytes: GiB, Reserve: true}); err != nil {
		t.Fatal(err)
	}
	if n := a.ReleaseModel("llama", "gw-9"); n != 1 {
		t.Fatalf("ReleaseModel released %d, want 1", n)
	}
}

func TestReservationExpiresAfterTTL(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30), gpu.AllocatorConfig{ReservationTTL: time.Minute, Clock: clock.Now})
	start := clock.Now()
	short, err := a.Choose(gpu.Request{Model: "a", RequiredBytes: 10 * GiB, Reserve: true, TTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	long, err := a.Choose(gpu.Request{Model: "b", RequiredBytes: 10 * GiB, Reserve: true})
	if err != nil {
		t.Fatal(err)
	}
	if !short.ExpiresAt.Equal(start.Add(30*time.Second)) || !long.ExpiresAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("expiries %s, %s; want request TTL 30s and configured TTL 1m", short.ExpiresAt, long.ExpiresAt)
	}
	steps := []struct {
		advance      time.Duration
		wantReserved int64
	}{
		{29 * time.Second, 20 * GiB},
		{time.Second, 10 * GiB}, // the short one expires exactly at its ExpiresAt
		{29 * time.Second, 10 * GiB},
		{time.Second, 0},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		st := a.Status(clock.Now())
		if got := st.Devices[0].ReservedBytes; got != s.wantReserved {
			t.Fatalf("at +%s reserved = %s, want %s", clock.Now().Sub(start), gpu.FormatBytes(got), gpu.FormatBytes(s.wantReserved))
		}
		if got := st.Devices[0].AvailableBytes; got != 30*GiB-s.wantReserved {
			t.Fatalf("at +%s available = %s", clock.Now().Sub(start), gpu.FormatBytes(got))
		}
	}
	if got := a.Reservations(clock.Now()); len(got) != 0 {
		t.Fatalf("Reservations after expiry = %+v, want none", got)
	}
}

func TestExpireReportsHowManyEnded(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30), gpu.AllocatorConfig{Clock: clock.Now})
	for _, model := range []string{"a", "b"} {
		if _, err := a.Choose(gpu.Request{Model: model, RequiredBytes: GiB, Reserve: true, TTL: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.Expire(clock.Now()); n != 0 {
		t.Fatalf("Expire before TTL = %d, want 0", n)
	}
	if n := a.Expire(clock.Now().Add(time.Second)); n != 2 {
		t.Fatalf("Expire at TTL = %d, want 2", n)
	}
}

func TestReservationsListsWhatIsHeld(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30, 70), gpu.AllocatorConfig{Clock: clock.Now})
	p1, _ := a.Choose(gpu.Request{Model: "a", Gateway: "gw", RequiredBytes: 10 * GiB, Reserve: true})
	clock.Advance(time.Second)
	p2, _ := a.Choose(gpu.Request{Model: "b", RequiredBytes: 5 * GiB, Reserve: true, Strategy: gpu.BestFit{}})
	got := a.Reservations(clock.Now())
	if len(got) != 2 || got[0].ID != p1.ReservationID || got[1].ID != p2.ReservationID {
		t.Fatalf("Reservations = %+v, want %s then %s", got, p1.ReservationID, p2.ReservationID)
	}
	if r := got[0]; r.Model != "a" || r.Gateway != "gw" || r.UUID != "static-GPU-1" || r.Index != 1 || r.Bytes != 10*GiB {
		t.Errorf("first reservation = %+v", r)
	}
	if r := got[1]; r.UUID != "static-GPU-0" || r.Bytes != 5*GiB {
		t.Errorf("second reservation = %+v", r)
	}
	if p1.ReservationID == p2.ReservationID {
		t.Errorf("reservation ids repeat: %s", p1.ReservationID)
	}
}

// TestConcurrentReservationsNeverOvercommit races many goroutines for the same memory: exactly
// as many fit as the free memory allows, and no GPU ends up with more reserved than free.
func TestConcurrentReservationsNeverOvercommit(t *testing.T) {
	for _, strategy := range gpu.Strategies() {
		t.Run(strategy.Name(), func(t *testing.T) {
			clock := newFakeClock()
			inv := openStatic(t, clock, 10, 7, 3) // 20 GiB free in all
			a := gpu.NewAllocator(inv, gpu.AllocatorConfig{HeadroomBytes: 0, Clock: clock.Now})
			const callers = 200
			var placed, refused atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range callers {
				wg.Go(func() {
					<-start
					_, err := a.Choose(gpu.Request{Model: "m" + string(rune('a'+i%26)), RequiredBytes: GiB, Reserve: true, Strategy: strategy})
					switch {
					case err == nil:
						placed.Add(1)
					case errors.Is(err, gpu.ErrNoFit):
						refused.Add(1)
					default:
						t.Errorf("Choose: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if placed.Load() != 20 || refused.Load() != callers-20 {
				t.Fatalf("placed %d, refused %d; want 20 placed in 20 GiB", placed.Load(), refused.Load())
			}
			for _, d := range a.Status(clock.Now()).Devices {
				if d.ReservedBytes > d.FreeBytes {
					t.Errorf("GPU %d: %s reserved > %s free", d.Index, gpu.FormatBytes(d.ReservedBytes), gpu.FormatBytes(d.FreeBytes))
				}
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {20 * GiB, "20.0 GiB"}, {-2 * GiB, "-2.0 GiB"}, {3 << 50, "3.0 PiB"},
		// The edges of each unit, both signs: a unit starts at exactly 1024 of the one below.
		{1024, "1.0 KiB"}, {-1023, "-1023 B"}, {-1024, "-1.0 KiB"},
		{1<<20 - 1, "1024.0 KiB"}, {1 << 20, "1.0 MiB"}, {-(1 << 20), "-1.0 MiB"}, {-(1<<20 - 1), "-1024.0 KiB"},
		{1 << 60, "1024.0 PiB"}, {math.MaxInt64, "8192.0 PiB"},
	}
	for _, tt := range tests {
		if got := gpu.FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestReservationsAreListedOldestFirst(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 80), gpu.AllocatorConfig{Clock: clock.Now})
	var want []string
	reserve := func(model string) {
		t.Helper()
		p, err := a.Choose(gpu.Request{Model: model, RequiredBytes: GiB, Reserve: true})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p.ReservationID)
	}
	// Reservations made at one instant keep the order they were made in, past the ninth (an id
	// compared as text would put the tenth before the second).
	for i := range 12 {
		reserve("same-instant-" + strconv.Itoa(i))
	}
	clock.Advance(time.Second)
	reserve("a second later")
	got := a.Reservations(clock.Now())
	if len(got) != len(want) {
		t.Fatalf("Reservations = %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i] {
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			t.Fatalf("Reservations in order %v; want oldest first %v", ids, want)
		}
	}
}

// candidateSpy is a Strategy that records what the allocator tells it about each GPU.
type candidateSpy struct{ seen []gpu.Candidate }

func (s *candidateSpy) Name() string { return "spy" }
func (s *candidateSpy) Score(c gpu.Candidate) int64 {
	s.seen = append(s.seen, c)
	return 0
}

// TestStrategiesSeeWhatEachGPUWouldHaveLeft: a strategy (the configured ones and any other)
// ranks on the candidate's available bytes, reservations deducted, and what placement would
// leave; equal scores go to the lowest index.
func TestStrategiesSeeWhatEachGPUWouldHaveLeft(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30, 70), gpu.AllocatorConfig{Clock: clock.Now})
	if _, err := a.Choose(gpu.Request{Model: "held", RequiredBytes: 10 * GiB, Reserve: true, Strategy: gpu.BestFit{}}); err != nil {
		t.Fatal(err)
	}
	spy := &candidateSpy{}
	p, err := a.Choose(gpu.Request{RequiredBytes: 5 * GiB, Strategy: spy})
	if err != nil {
		t.Fatal(err)
	}
	if len(spy.seen) != 2 {
		t.Fatalf("the strategy saw %d candidates; want 2", len(spy.seen))
	}
	for i, want := range []struct{ available, after int64 }{{20 * GiB, 15 * GiB}, {70 * GiB, 65 * GiB}} {
		if c := spy.seen[i]; c.Device.Index != i || c.AvailableBytes != want.available || c.FreeAfterBytes != want.after {
			t.Errorf("candidate %d: GPU %d available %s, after %s; want %s and %s", i, c.Device.Index,
				gpu.FormatBytes(c.AvailableBytes), gpu.FormatBytes(c.FreeAfterBytes), gpu.FormatBytes(want.available), gpu.FormatBytes(want.after))
		}
	}
	if p.Device.Index != 0 || p.Strategy != "spy" {
		t.Errorf("equal scores chose GPU %d by %s; want GPU 0 by spy", p.Device.Index, p.Strategy)
	}
}

// TestOneGPUCountIsTheSinglePlacement: GPUCount 1 is the same request as 0 (one GPU): the same
// placement, without a GPUs list or a per-GPU share, and a refusal that does not speak of "over
// 1 GPUs".
func TestOneGPUCountIsTheSinglePlacement(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 10, 20), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	zero, err := a.Choose(gpu.Request{RequiredBytes: 5 * GiB})
	if err != nil {
		t.Fatal(err)
	}
	one, err := a.Choose(gpu.Request{RequiredBytes: 5 * GiB, GPUCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(zero, one) || one.GPUs != nil || one.PerGPUBytes != 0 {
		t.Fatalf("GPUCount 1 placed %+v, GPUCount 0 placed %+v", one, zero)
	}
	_, err = a.Choose(gpu.Request{RequiredBytes: 50 * GiB, GPUCount: 1})
	if err == nil || strings.Contains(err.Error(), "over 1 GPUs") || !strings.HasPrefix(err.Error(), "no GPU fits 50.0 GiB + 1.0 GiB headroom:") {
		t.Fatalf("refusal %v, want the one-GPU sentence", err)
	}
}

func TestGPUCountBounds(t *testing.T) {
	for _, tt := range []struct {
		name  string
		count int
		ok    bool
	}{
		{"zero is one GPU", 0, true},
		{"exactly the most GPUs is accepted", gpu.MaxGPUCount, true},
		{"one more than the most is refused", gpu.MaxGPUCount + 1, false},
		{"a negative count is refused", -1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := gpu.CheckRequest(gpu.Request{RequiredBytes: 1, GPUCount: tt.count})
			if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "gpu_count")) {
				t.Fatalf("CheckRequest(GPUCount %d) = %v, want ok %v", tt.count, err, tt.ok)
			}
		})
	}
}

// TestOnlyReservationsWithVictimsAreReportedEnded: TakeEnded hands the server the ended
// reservations whose victims' recommendations to withdraw; one without victims has none.
func TestOnlyReservationsWithVictimsAreReportedEnded(t *testing.T) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(t, clock, 30, 5), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	plain, err := a.Choose(gpu.Request{Model: "plain", RequiredBytes: 10 * GiB, Reserve: true, Exclude: []string{gpu.StaticUUID(1)}})
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][]gpu.Resident{gpu.StaticUUID(1): {loaded("victim", 30)}}
	evicting, err := a.Choose(gpu.Request{Model: "big", RequiredBytes: 25 * GiB, Reserve: true, AllowEviction: true, Residents: res,
		Exclude: []string{gpu.StaticUUID(0)}})
	if err != nil || len(evicting.Evictions) != 1 {
		t.Fatalf("eviction placement %+v, %v", evicting, err)
	}
	a.Release(plain.ReservationID)
	a.Release(evicting.ReservationID)
	ended := a.TakeEnded(clock.Now())
	if len(ended) != 1 || ended[0].ID != evicting.ReservationID || ended[0].Lapsed || len(ended[0].Victims) != 1 {
		t.Fatalf("ended %+v, want only the evicting reservation, released", ended)
	}
	if again := a.TakeEnded(clock.Now()); len(again) != 0 {
		t.Fatalf("ended again %+v, want none", again)
	}
}

func TestARefusalSpeaksOfSeveralGPUsOnlyForASplitModel(t *testing.T) {
	for _, tt := range []struct {
		name  string
		count int
		want  string
	}{
		{"no count is one GPU", 0, "no GPU fits 8.0 GiB + 1.0 GiB headroom, even after evictions: the static inventory has no GPUs"},
		{"a count of one is one GPU", 1, "no GPU fits 8.0 GiB + 1.0 GiB headroom, even after evictions: the static inventory has no GPUs"},
		{"a count of two is a split model", 2, "no GPU fits 8.0 GiB over 2 GPUs (4.0 GiB + 1.0 GiB headroom each), even after evictions: the static inventory has no GPUs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &gpu.NoFitError{RequiredBytes: 8 * GiB, HeadroomBytes: GiB, Backend: "static", GPUCount: tt.count, Eviction: true}
			if got := e.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
