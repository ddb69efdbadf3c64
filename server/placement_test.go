package server_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
	"github.com/modelium/brain/server"
)

func TestChooseGPUOnTwoGPUs(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "llama-70b", RequiredBytes: 50 * gib, GpuCount: 2, Reserve: true})
	if err != nil {
		t.Fatal(err)
	}
	gpus := resp.GetGpus()
	if len(gpus) != 2 || gpus[0].GetIndex() != 1 || gpus[1].GetIndex() != 0 || resp.GetGpu().GetUuid() != gpus[0].GetUuid() {
		t.Fatalf("gpus %v, gpu %v; want GPUs 1 then 0, gpu the first", gpus, resp.GetGpu())
	}
	if resp.GetReservationId() == "" || !strings.Contains(resp.GetReason(), "2 GPUs") {
		t.Errorf("reservation %q, reason %q", resp.GetReservationId(), resp.GetReason())
	}
	list, err := client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range list.GetGpus() {
		if g.GetReservedBytes() != 25*gib {
			t.Errorf("GPU %d reserves %d, want its share 25 GiB", g.GetIndex(), g.GetReservedBytes())
		}
	}
	one, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: gib})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.GetGpus()) != 1 || one.GetGpus()[0].GetUuid() != one.GetGpu().GetUuid() {
		t.Errorf("a one-GPU answer lists %v, want its gpu", one.GetGpus())
	}
}

// reportLoaded reports model LOADED on gw-1 with its memory on the GPU.
func reportLoaded(t *testing.T, client brainv1.BrainServiceClient, model string, gpuIndex int, bytes int64) {
	t.Helper()
	for _, st := range []brainv1.ModelState{brainv1.ModelState_MODEL_STATE_LOADING, brainv1.ModelState_MODEL_STATE_LOADED} {
		if _, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{GatewayId: "gw-1", ModelName: model, Runtime: "vllm",
			GpuUuid: gpu.StaticUUID(gpuIndex), State: st, MemoryBytes: bytes}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChooseGPUWithEviction(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: rules.DefaultEvictAfterIdle, AlwaysLoaded: []string{"pinned"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		loaded string
		want   codes.Code
	}{
		{"an idle model on the fuller GPU is evicted for the new one", "old", codes.OK},
		{"a pinned model is never a victim: RESOURCE_EXHAUSTED says why per GPU", "pinned", codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), UnloadPolicy: policy, DecisionInterval: -1})
			reportLoaded(t, client, tt.loaded, 1, 50*gib)
			resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "big", GatewayId: "gw-2", RequiredBytes: 70 * gib, AllowEviction: true, Reserve: true})
			if status.Code(err) != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if tt.want != codes.OK {
				var failure *brainv1.PlacementFailure
				for _, d := range status.Convert(err).Details() {
					if f, ok := d.(*brainv1.PlacementFailure); ok {
						failure = f
					}
				}
				if failure == nil || len(failure.GetRefusals()) != 2 || !strings.Contains(failure.GetRefusals()[1].GetReason(), "1 pinned") {
					t.Fatalf("details %v, want GPU 1 refused for its pinned model", status.Convert(err).Details())
				}
				return
			}
			ev := resp.GetEvictions()
			if resp.GetGpu().GetIndex() != 1 || len(ev) != 1 || ev[0].GetModelName() != "old" || ev[0].GetGatewayId() != "gw-1" ||
				ev[0].GetMemoryBytes() != 50*gib || ev[0].GetGpuUuid() != gpu.StaticUUID(1) || !strings.Contains(ev[0].GetReason(), "memory_bytes") {
				t.Fatalf("GPU %d, evictions %v; want old on GPU 1", resp.GetGpu().GetIndex(), ev)
			}
			// The victim's bytes are promised: a second request cannot count on them.
			if _, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "big2", RequiredBytes: 70 * gib, AllowEviction: true, Reserve: true}); status.Code(err) != codes.ResourceExhausted {
				t.Fatalf("second placement: %v, want RESOURCE_EXHAUSTED", err)
			}
		})
	}
}

func TestPlanPlacement(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	resp, err := client.PlanPlacement(ctxT(t), &brainv1.PlanPlacementRequest{Models: []*brainv1.PlannedModel{
		{ModelName: "a", RequiredBytes: 50 * gib},
		{ModelName: "b", RequiredBytes: 25 * gib},
		{ModelName: "c", RequiredBytes: 200 * gib},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range resp.GetAssignments() {
		got[a.GetModelName()] = strings.Join(a.GetGpuUuids(), ",")
	}
	// GPU 0 offers 30 GiB, GPU 1 60 GiB: a goes to GPU 1, b to GPU 0; c fits nowhere.
	if got["a"] != gpu.StaticUUID(1) || got["b"] != gpu.StaticUUID(0) || len(resp.GetUnplaced()) != 1 || resp.GetUnplaced()[0].GetModelName() != "c" {
		t.Fatalf("assignments %v, unplaced %v", got, resp.GetUnplaced())
	}
	if resp.GetGpusUsed() != 2 || resp.GetLowerBoundGpus() != 5 || resp.GetHeuristic() != gpu.HeuristicFFD {
		t.Errorf("used %d, lower bound %d, heuristic %q; want 2, ceil(275/60) = 5, FFD", resp.GetGpusUsed(), resp.GetLowerBoundGpus(), resp.GetHeuristic())
	}
	_, err = client.PlanPlacement(ctxT(t), &brainv1.PlanPlacementRequest{Models: []*brainv1.PlannedModel{{ModelName: "", RequiredBytes: -1, GpuCount: 65}}})
	v := fieldViolations(t, err)
	for _, f := range []string{"models[0].model_name", "models[0].required_bytes", "models[0].gpu_count"} {
		if v[f] == "" {
			t.Errorf("no violation for %s: %v", f, v)
		}
	}
}

func TestAnalyzeModelSaysHowManyGPUs(t *testing.T) {
	clock := newFakeClock()
	tests := []struct {
		name   string
		gpus   gpu.Inventory
		want   int32
		reason string
	}{
		{"Llama-2-70B in bf16 needs two of the host's 80 GiB GPUs", twoGPUs(t, clock), 2, "2 GPU(s) of 80.0 GiB"},
		{"without GPUs the answer says so", nil, 0, "no GPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: tt.gpus})
			resp, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: readHF(t, "meta-llama__Llama-2-70b-chat-hf", "config.json")})
			if err != nil {
				t.Fatal(err)
			}
			n := resp.GetGpuNeed()
			if n.GetGpuCount() != tt.want || !strings.Contains(n.GetReason(), tt.reason) {
				t.Fatalf("gpu need %v, want %d GPUs and a reason with %q", n, tt.want, tt.reason)
			}
		})
	}
}

// nextUseTable is a gpu.NextUseEstimator from a table of minutes after clock's now.
type nextUseTable struct {
	clock   *fakeClock
	minutes map[string]int
}

func (n nextUseTable) NextUse(model, _ string) (time.Time, float64) {
	return n.clock.Now().Add(time.Duration(n.minutes[model]) * time.Minute), 0.9
}

// TestChooseGPUEvictionUsesTheNextUseEstimate: with an estimator, the model predicted back latest
// goes even if it was used just now; without one, the least recently used goes.
func TestChooseGPUEvictionUsesTheNextUseEstimate(t *testing.T) {
	tests := []struct {
		name string
		est  bool
		want string
	}{
		{"the estimate decides: recently used but wanted in 10 hours goes", true, "recent-but-rare"},
		{"without an estimator, the least recently used goes", false, "idle-but-due"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			opts := server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), DecisionInterval: -1}
			if tt.est {
				opts.NextUse = nextUseTable{clock, map[string]int{"recent-but-rare": 600, "idle-but-due": 1}}
			}
			client, _, _ := startServer(t, opts)
			reportLoaded(t, client, "idle-but-due", 1, 30*gib)
			reportLoaded(t, client, "recent-but-rare", 1, 30*gib)
			clock.Advance(10 * time.Minute)
			if _, err := client.ReportTraffic(ctxT(t), &brainv1.ReportTrafficRequest{GatewayId: "gw-1", Samples: []*brainv1.TrafficSample{
				sample("recent-but-rare", clock.Now(), 10, 1),
			}}); err != nil {
				t.Fatal(err)
			}
			resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "big", RequiredBytes: 70 * gib, AllowEviction: true})
			if err != nil {
				t.Fatal(err)
			}
			if ev := resp.GetEvictions(); len(ev) != 1 || ev[0].GetModelName() != tt.want {
				t.Fatalf("evictions %v, want %s", ev, tt.want)
			}
		})
	}
}

// victimsPolicy is a keep-alive policy (the fixed one) that also estimates victims, as the
// predictive policy does, from a table; it records the sizes it was handed.
type victimsPolicy struct {
	*recommend.FixedPolicy
	table nextUseTable
	sizes map[string]int64
}

func (v *victimsPolicy) Victims(now time.Time, _ func(model, gateway string) time.Time, bytes func(model, gateway string) int64, reference int64) gpu.NextUseEstimator {
	for m := range v.table.minutes {
		v.sizes[m] = bytes(m, "gw-1")
	}
	v.sizes["reference"] = reference
	return v.table
}

// TestChooseGPUEvictionAsksTheKeepAlivePolicy: without Options.NextUse, a keep-alive policy that
// estimates victims (the predictive one) ranks them, with each resident's reported size.
func TestChooseGPUEvictionAsksTheKeepAlivePolicy(t *testing.T) {
	clock := newFakeClock()
	pol := &victimsPolicy{FixedPolicy: recommend.NewFixedPolicy(nil), sizes: map[string]int64{},
		table: nextUseTable{clock, map[string]int{"recent-but-rare": 600, "idle-but-due": 1}}}
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), DecisionInterval: -1, Policy: pol})
	reportLoaded(t, client, "idle-but-due", 1, 30*gib)
	reportLoaded(t, client, "recent-but-rare", 1, 20*gib)
	clock.Advance(10 * time.Minute)
	if _, err := client.ReportTraffic(ctxT(t), &brainv1.ReportTrafficRequest{GatewayId: "gw-1", Samples: []*brainv1.TrafficSample{
		sample("recent-but-rare", clock.Now(), 10, 1),
	}}); err != nil {
		t.Fatal(err)
	}
	resp, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "big", RequiredBytes: 70 * gib, AllowEviction: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev := resp.GetEvictions(); len(ev) != 1 || ev[0].GetModelName() != "recent-but-rare" {
		t.Fatalf("evictions %v, want the policy's choice recent-but-rare (LRU would take idle-but-due)", ev)
	}
	if pol.sizes["recent-but-rare"] != 20*gib || pol.sizes["idle-but-due"] != 30*gib || pol.sizes["reference"] != 25*gib {
		t.Fatalf("sizes handed to the policy %v, want each resident's reported bytes and their mean as the reference", pol.sizes)
	}
}

// openMakeRoom lists the open make_room recommendations as "gateway/model".
func openMakeRoom(srv *server.Server) []string {
	var out []string
	for _, r := range srv.Engine().Open() {
		if r.Rule == gpu.RuleMakeRoom {
			out = append(out, r.Gateway+"/"+r.Model)
		}
	}
	return out
}

// TestMakeRoomRecommendations: a reserved eviction plan publishes its victim as an unload
// recommendation of rule make_room to the gateway holding it, on both streams; it is withdrawn
// when the placement ends without it (the reservation lapses, or the load is reported).
func TestMakeRoomRecommendations(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, client brainv1.BrainServiceClient, srv *server.Server, clock *fakeClock)
	}{
		{"the reservation lapses: the placement was abandoned", func(t *testing.T, _ brainv1.BrainServiceClient, srv *server.Server, clock *fakeClock) {
			clock.Advance(2 * time.Minute)
			srv.Evaluate(clock.Now())
		}},
		{"the requester reports its model FAILED", func(t *testing.T, client brainv1.BrainServiceClient, _ *server.Server, _ *fakeClock) {
			if _, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{GatewayId: "gw-2", ModelName: "big", Runtime: "vllm",
				GpuUuid: gpu.StaticUUID(1), State: brainv1.ModelState_MODEL_STATE_FAILED}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			var logged safeBuffer
			client, srv, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), DecisionInterval: -1,
				Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			reportLoaded(t, client, "old", 1, 50*gib)
			if _, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "big", GatewayId: "gw-2", RequiredBytes: 70 * gib,
				AllowEviction: true, Reserve: true, ReservationTtl: durationpb.New(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if got := openMakeRoom(srv); len(got) != 1 || got[0] != "gw-1/old" {
				t.Fatalf("open make_room %v, want gw-1/old", got)
			}
			// Both streams carry it in their snapshot.
			unload, err := client.WatchUnloadRecommendations(ctxT(t), &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := unload.Recv()
			if err != nil || m.GetRecommended().GetRule() != gpu.RuleMakeRoom || !strings.Contains(m.GetRecommended().GetReason(), "make room for big") {
				t.Fatalf("WatchUnloadRecommendations first message %v (%v), want the make_room recommendation", m, err)
			}
			all, err := client.WatchRecommendations(ctxT(t), &brainv1.WatchRecommendationsRequest{GatewayId: "gw-1"})
			if err != nil {
				t.Fatal(err)
			}
			if m, err := all.Recv(); err != nil || m.GetRecommended().GetUnload().GetRule() != gpu.RuleMakeRoom {
				t.Fatalf("WatchRecommendations first message %v (%v), want the make_room recommendation", m, err)
			}
			tt.end(t, client, srv, clock)
			if got := openMakeRoom(srv); len(got) != 0 {
				t.Fatalf("make_room still open after the placement ended: %v", got)
			}
			if strings.Contains(logged.String(), "level=ERROR") {
				t.Errorf("publishing and withdrawing make_room logged an error:\n%s", logged.String())
			}
		})
	}
}
