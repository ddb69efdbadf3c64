package server_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/server"
)

const gib = int64(1) << 30

// twoGPUs is a static inventory: GPU 0 has 30 GiB free of 40, GPU 1 60 GiB free of 80.
func twoGPUs(t *testing.T, clock *fakeClock) gpu.Inventory {
	t.Helper()
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendStatic, Clock: clock.Now, Devices: []gpu.StaticDevice{
		{Name: "A100-40GB", TotalBytes: 40 * gib, UsedBytes: 10 * gib},
		{Name: "H100-80GB", TotalBytes: 80 * gib, UsedBytes: 20 * gib},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestChooseGPUStrategies(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	cases := []struct {
		strategy brainv1.PlacementStrategy
		want     int32
		name     string
	}{
		{brainv1.PlacementStrategy_PLACEMENT_STRATEGY_UNSPECIFIED, 1, "most_free"},
		{brainv1.PlacementStrategy_PLACEMENT_STRATEGY_MOST_FREE, 1, "most_free"},
		{brainv1.PlacementStrategy_PLACEMENT_STRATEGY_BEST_FIT, 0, "best_fit"},
	}
	for _, c := range cases {
		t.Run(c.strategy.String(), func(t *testing.T) {
			resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: 20 * gib, Strategy: c.strategy})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetGpu().GetIndex() != c.want || resp.GetStrategy() != c.name || resp.GetReason() == "" {
				t.Errorf("got GPU %d by %s (%s), want GPU %d by %s", resp.GetGpu().GetIndex(), resp.GetStrategy(), resp.GetReason(), c.want, c.name)
			}
			wantFree := []int64{30 * gib, 60 * gib}[c.want] - 20*gib
			if resp.GetFreeBytesAfter() != wantFree {
				t.Errorf("free after %d, want %d", resp.GetFreeBytesAfter(), wantFree)
			}
		})
	}
}

func TestChooseGPUNothingFitsListsEveryGPU(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "huge", RequiredBytes: 70 * gib, ExcludeGpuUuids: []string{gpu.StaticUUID(0)}})
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("got %v, want RESOURCE_EXHAUSTED", err)
	}
	var failure *brainv1.PlacementFailure
	for _, d := range st.Details() {
		if f, ok := d.(*brainv1.PlacementFailure); ok {
			failure = f
		}
	}
	if failure == nil || len(failure.GetRefusals()) != 2 {
		t.Fatalf("details %v, want a PlacementFailure refusing both GPUs", st.Details())
	}
	for _, r := range failure.GetRefusals() {
		if r.GetReason() == "" || r.GetUuid() == "" {
			t.Errorf("refusal without a reason: %v", r)
		}
	}
}

func TestPlacementFailureNeedSaturates(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), Placement: gpu.AllocatorConfig{HeadroomBytes: gib}})
	_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: math.MaxInt64 - 1})
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("got %v, want RESOURCE_EXHAUSTED", err)
	}
	for _, d := range st.Details() {
		if f, ok := d.(*brainv1.PlacementFailure); ok {
			if f.GetRequiredBytes() != math.MaxInt64 {
				t.Errorf("required + headroom = %d, want saturated at MaxInt64", f.GetRequiredBytes())
			}
			return
		}
	}
	t.Fatalf("details %v, want a PlacementFailure", st.Details())
}

func TestConcurrentReservationsNeverShareMemory(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	// 90 GiB free in all: at most nine 10-GiB reservations (three on GPU 0, six on GPU 1) fit.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		granted  = map[int32]int{}
		refused  int
		firstErr error
	)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", GatewayId: "gw", RequiredBytes: 10 * gib, Reserve: true})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && resp.GetReservationId() != "":
				granted[resp.GetGpu().GetIndex()]++
			case status.Code(err) == codes.ResourceExhausted:
				refused++
			default:
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if granted[0] != 3 || granted[1] != 6 || refused != 11 {
		t.Errorf("granted %v and refused %d, want {0:3 1:6} and 11", granted, refused)
	}
	list, err := client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r := list.GetGpus()[1].GetReservedBytes(); r != 60*gib {
		t.Errorf("GPU 1 shows %d reserved, want 60 GiB", r)
	}

	// A LOADED report releases the model's reservations.
	if _, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{GatewayId: "gw", ModelName: "m", State: brainv1.ModelState_MODEL_STATE_LOADED}); err != nil {
		t.Fatal(err)
	}
	list, err = client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range list.GetGpus() {
		if g.GetReservedBytes() != 0 {
			t.Errorf("GPU %d still reserves %d after LOADED", g.GetIndex(), g.GetReservedBytes())
		}
	}
}

func TestListGPUsAndPolicy(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock),
		Placement: gpu.AllocatorConfig{Strategy: gpu.BestFit{}, HeadroomBytes: gib}})
	list, err := client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if list.GetBackend() != "static" || len(list.GetGpus()) != 2 || list.GetGpus()[1].GetFreeBytes() != 60*gib || list.GetStale() {
		t.Errorf("ListGPUs = %v", list)
	}
	pol, err := client.GetPolicy(ctxT(t), &brainv1.GetPolicyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if g := pol.GetGpu(); g.GetStrategy() != "best_fit" || g.GetHeadroomBytes() != gib || g.GetBackend() != "static" {
		t.Errorf("GPU policy = %v", g)
	}
}

func TestNoGPUsIsResourceExhausted(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: gib})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("with no GPUs got %v, want RESOURCE_EXHAUSTED", err)
	}
}

// TestChooseGPUReservationLifetime: a reservation lasts the request's reservation_ttl, or the
// configured TTL without one; the response says when it lapses, and the memory comes back then.
func TestChooseGPUReservationLifetime(t *testing.T) {
	tests := []struct {
		name string
		ttl  *durationpb.Duration
		want time.Duration
	}{
		{"the request's reservation_ttl", durationpb.New(90 * time.Second), 90 * time.Second},
		{"the configured TTL when the request gives none", nil, 3 * time.Minute},
		{"the configured TTL when the request gives zero", durationpb.New(0), 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock),
				Placement: gpu.AllocatorConfig{ReservationTTL: 3 * time.Minute}})
			start := clock.Now()
			resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: 10 * gib, Reserve: true, ReservationTtl: tt.ttl})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetReservationExpiresAt(); got == nil || !got.AsTime().Equal(start.Add(tt.want)) {
				t.Fatalf("reservation_expires_at = %v; want %s", got, start.Add(tt.want))
			}
			reserved := func() int64 {
				t.Helper()
				list, err := client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
				if err != nil {
					t.Fatal(err)
				}
				return list.GetGpus()[resp.GetGpu().GetIndex()].GetReservedBytes()
			}
			clock.Advance(tt.want - time.Millisecond)
			if r := reserved(); r != 10*gib {
				t.Fatalf("just before it lapses: %d bytes reserved; want 10 GiB", r)
			}
			clock.Advance(time.Millisecond)
			if r := reserved(); r != 0 {
				t.Fatalf("when it lapses: %d bytes reserved; want 0", r)
			}
		})
	}
}

func TestChooseGPUWithoutReserveHasNoExpiry(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: gib})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetReservationId() != "" || resp.ReservationExpiresAt != nil {
		t.Errorf("without reserve: reservation %q expiring %v; want neither", resp.GetReservationId(), resp.ReservationExpiresAt)
	}
}

// TestChooseGPUReportsTheChosenGPUsReservations: the chosen GPU in the response shows the memory
// earlier reservations hold on it, and free_bytes_after counts them.
func TestChooseGPUReportsTheChosenGPUsReservations(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	first, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "a", RequiredBytes: 25 * gib, Reserve: true})
	if err != nil {
		t.Fatal(err)
	}
	if g := first.GetGpu(); g.GetIndex() != 1 || g.GetReservedBytes() != 0 || g.GetFreeBytes() != 60*gib || first.GetFreeBytesAfter() != 35*gib {
		t.Fatalf("first choice: GPU %d reserved %d free %d, after %d; want GPU 1, 0 reserved, 60 GiB free, 35 GiB after", g.GetIndex(), g.GetReservedBytes(), g.GetFreeBytes(), first.GetFreeBytesAfter())
	}
	// GPU 1 now has 35 GiB available, GPU 0 30 GiB: most free picks GPU 1 again.
	second, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "b", RequiredBytes: 5 * gib})
	if err != nil {
		t.Fatal(err)
	}
	if g := second.GetGpu(); g.GetIndex() != 1 || g.GetReservedBytes() != 25*gib || g.GetFreeBytes() != 60*gib || second.GetFreeBytesAfter() != 30*gib {
		t.Fatalf("second choice: GPU %d reserved %d free %d, after %d; want GPU 1, 25 GiB reserved, 60 GiB free, 30 GiB after", g.GetIndex(), g.GetReservedBytes(), g.GetFreeBytes(), second.GetFreeBytesAfter())
	}
	if gs := second.GetGpus(); len(gs) != 1 || gs[0].GetIndex() != 1 || gs[0].GetReservedBytes() != 25*gib {
		t.Fatalf("second choice lists %v; want GPU 1 with 25 GiB reserved", gs)
	}
}

// TestReportReleasesTheReservationItNames: a LOADED report that names a reservation releases it,
// whatever model it was made for; a report without one releases only the model's own.
func TestReportReleasesTheReservationItNames(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), DecisionInterval: -1})
	res, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "a", GatewayId: "gw-1", RequiredBytes: 10 * gib, Reserve: true})
	if err != nil {
		t.Fatal(err)
	}
	reserved := func() int64 {
		t.Helper()
		list, err := client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return list.GetGpus()[1].GetReservedBytes()
	}
	report := func(id string) {
		t.Helper()
		if _, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{GatewayId: "gw-1", ModelName: "b", State: brainv1.ModelState_MODEL_STATE_LOADED, ReservationId: id}); err != nil {
			t.Fatal(err)
		}
	}
	report("")
	if r := reserved(); r != 10*gib {
		t.Fatalf("after another model's report without an id: %d reserved; want 10 GiB", r)
	}
	report(res.GetReservationId())
	if r := reserved(); r != 0 {
		t.Fatalf("after a report naming the reservation: %d reserved; want 0", r)
	}
}

// TestGetPolicyShowsTheEffectiveSettings: the reservation TTL and the decision interval GetPolicy
// shows are the ones in force: the configured value, or the default when it is zero (and no loop
// when the interval is negative).
func TestGetPolicyShowsTheEffectiveSettings(t *testing.T) {
	tests := []struct {
		name         string
		ttl          time.Duration
		interval     time.Duration
		wantTTL      time.Duration
		wantInterval time.Duration
	}{
		{"zero settings show the defaults", 0, 0, gpu.DefaultReservationTTL, server.DefaultDecisionInterval},
		{"configured settings show as configured", 3 * time.Minute, 2 * time.Minute, 3 * time.Minute, 2 * time.Minute},
		{"a negative interval (no loop) shows as 0", time.Minute, -1, time.Minute, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			client, _, _ := startServer(t, server.Options{Clock: clock.Now, DecisionInterval: tt.interval, Placement: gpu.AllocatorConfig{ReservationTTL: tt.ttl}})
			pol, err := client.GetPolicy(ctxT(t), &brainv1.GetPolicyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if got := pol.GetGpu().GetReservationTtl().AsDuration(); got != tt.wantTTL {
				t.Errorf("reservation TTL %s; want %s", got, tt.wantTTL)
			}
			if got := pol.GetUnload().GetDecisionInterval().AsDuration(); got != tt.wantInterval {
				t.Errorf("decision interval %s; want %s", got, tt.wantInterval)
			}
		})
	}
}

// TestPlacementFailureSaysWhatWasNeeded: the need a refusal reports is the request plus the
// headroom, and the request alone without headroom.
func TestPlacementFailureSaysWhatWasNeeded(t *testing.T) {
	for _, tt := range []struct {
		name     string
		headroom int64
		want     int64
	}{{"with headroom", gib, 71 * gib}, {"without headroom", 0, 70 * gib}} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), Placement: gpu.AllocatorConfig{HeadroomBytes: tt.headroom}})
			_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: 70 * gib})
			for _, d := range status.Convert(err).Details() {
				if f, ok := d.(*brainv1.PlacementFailure); ok {
					if f.GetRequiredBytes() != tt.want {
						t.Errorf("required_bytes %d; want %d", f.GetRequiredBytes(), tt.want)
					}
					return
				}
			}
			t.Fatalf("ChooseGPU = %v; want RESOURCE_EXHAUSTED with a PlacementFailure", err)
		})
	}
}
