package server_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/server"
)

func sample(model string, end time.Time, seconds, requests int64) *brainv1.TrafficSample {
	return &brainv1.TrafficSample{
		ModelName: model,
		StartTime: timestamppb.New(end.Add(-time.Duration(seconds) * time.Second)),
		EndTime:   timestamppb.New(end),
		Requests:  requests,
	}
}

func TestReportedLoadAndTrafficShowInListModels(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now})
	loadedAt := clock.Now()
	_, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{
		GatewayId: "gw-a", ModelName: "llama-8b", Runtime: "vllm", GpuUuid: "GPU-1",
		State: brainv1.ModelState_MODEL_STATE_LOADED, MemoryBytes: 16 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(60 * time.Second)
	if _, err := client.ReportTraffic(ctxT(t), &brainv1.ReportTrafficRequest{GatewayId: "gw-a", Samples: []*brainv1.TrafficSample{
		sample("llama-8b", clock.Now().Add(-30*time.Second), 30, 120),
	}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)

	resp, err := client.ListModels(ctxT(t), &brainv1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetModels()) != 1 {
		t.Fatalf("models = %v", resp.GetModels())
	}
	m := resp.GetModels()[0]
	if m.GetModelName() != "llama-8b" || m.GetRequestsTotal() != 120 {
		t.Errorf("model %s with %d requests, want llama-8b with 120", m.GetModelName(), m.GetRequestsTotal())
	}
	if got := m.GetQpsLastFiveMinutes(); got != 120.0/300 {
		t.Errorf("5-minute QPS %v, want %v", got, 120.0/300)
	}
	// Idle since the last request (40 s ago), not since the load (70 s ago).
	if got := m.GetIdleSeconds(); got != 40 {
		t.Errorf("idle %v s, want 40", got)
	}
	p := m.GetPlacements()
	if len(p) != 1 || p[0].GetState() != brainv1.ModelState_MODEL_STATE_LOADED || p[0].GetGpuUuid() != "GPU-1" ||
		p[0].GetMemoryBytes() != 16<<30 || !p[0].GetLoadedTime().AsTime().Equal(loadedAt) {
		t.Errorf("placements = %v", p)
	}

	if other, err := client.ListModels(ctxT(t), &brainv1.ListModelsRequest{GatewayId: "gw-b"}); err != nil || len(other.GetModels()) != 0 {
		t.Errorf("gateway filter: %v, %v", other.GetModels(), err)
	}
}

func TestUnexpectedTransitionIsAcceptedAndFlagged(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	report := func(st brainv1.ModelState) *brainv1.ReportModelStateResponse {
		t.Helper()
		resp, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{GatewayId: "gw", ModelName: "m", State: st})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	report(brainv1.ModelState_MODEL_STATE_UNLOADED)
	resp := report(brainv1.ModelState_MODEL_STATE_UNLOADING)
	if !resp.GetUnexpectedTransition() || resp.GetPreviousState() != brainv1.ModelState_MODEL_STATE_UNLOADED {
		t.Errorf("UNLOADED -> UNLOADING: %v, want unexpected with previous UNLOADED", resp)
	}
	// Re-reporting the same state after a reconnect converges quietly.
	if resp := report(brainv1.ModelState_MODEL_STATE_UNLOADING); resp.GetUnexpectedTransition() {
		t.Errorf("a repeated report is not unexpected: %v", resp)
	}
}

func TestBadTrafficIsRejectedWholeWithFieldViolations(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now})
	now := clock.Now()
	good := sample("m", now, 10, 5)
	cases := []struct {
		name  string
		req   *brainv1.ReportTrafficRequest
		field string
	}{
		{"sample from the future", &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: []*brainv1.TrafficSample{good, sample("m", now.Add(time.Hour), 10, 1)}}, "samples[1].end_time"},
		{"interval going backwards", &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: []*brainv1.TrafficSample{good, {ModelName: "m", StartTime: timestamppb.New(now), EndTime: timestamppb.New(now.Add(-time.Minute))}}}, "samples[1].end_time"},
		{"negative count", &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: []*brainv1.TrafficSample{good, func() *brainv1.TrafficSample { s := sample("m", now, 1, 1); s.Requests = -3; return s }()}}, "samples[1].requests"},
		{"missing end time", &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: []*brainv1.TrafficSample{{ModelName: "m", StartTime: timestamppb.New(now)}}}, "samples[0].end_time"},
		{"missing gateway", &brainv1.ReportTrafficRequest{Samples: []*brainv1.TrafficSample{good}}, "gateway_id"},
		{"no model name", &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: []*brainv1.TrafficSample{sample("", now, 1, 1)}}, "samples[0].model_name"},
		{"too many samples", &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: manySamples(server.MaxSamplesPerBatch + 1)}, "samples"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := client.ReportTraffic(ctxT(t), c.req)
			got := fieldViolations(t, err)
			if _, ok := got[c.field]; !ok {
				t.Errorf("violations %v, want one on %s", got, c.field)
			}
		})
	}
	// All or nothing: the good samples of the rejected batches were not applied.
	resp, err := client.ListModels(ctxT(t), &brainv1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetModels()) != 0 {
		t.Errorf("rejected batches changed state: %v", resp.GetModels())
	}
}

func TestStateReportValidation(t *testing.T) {
	client, _, _ := startServer(t, server.Options{})
	_, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{ModelName: strings.Repeat("x", 300), MemoryBytes: -1})
	got := fieldViolations(t, err)
	for _, f := range []string{"gateway_id", "model_name", "state", "memory_bytes"} {
		if _, ok := got[f]; !ok {
			t.Errorf("violations %v lack %s", got, f)
		}
	}
}

func manySamples(n int) []*brainv1.TrafficSample {
	out := make([]*brainv1.TrafficSample, n)
	for i := range out {
		out[i] = &brainv1.TrafficSample{}
	}
	return out
}

func TestShouldUnloadJudgesOnlyLoadedPlacements(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, DecisionInterval: -1})
	report := func(gw string, st brainv1.ModelState) {
		t.Helper()
		if _, err := client.ReportModelState(ctxT(t), &brainv1.ReportModelStateRequest{GatewayId: gw, ModelName: "big", State: st}); err != nil {
			t.Fatal(err)
		}
	}
	ask := func(gw string) *brainv1.ShouldUnloadResponse {
		t.Helper()
		resp, err := client.ShouldUnload(ctxT(t), &brainv1.ShouldUnloadRequest{ModelName: "big", GatewayId: gw})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	report("gw-1", brainv1.ModelState_MODEL_STATE_LOADING)
	clock.Advance(301 * time.Second) // a slow load: idle past the threshold, but not loaded yet
	for _, gw := range []string{"gw-1", ""} {
		if r := ask(gw); r.GetUnload() || r.GetRule() != recommend.RuleNotLoaded || !strings.Contains(r.GetReason(), "loading") {
			t.Errorf("ShouldUnload(gateway %q) of a LOADING model = %v, want keep by %s", gw, r, recommend.RuleNotLoaded)
		}
	}
	report("gw-1", brainv1.ModelState_MODEL_STATE_LOADED)
	clock.Advance(301 * time.Second)
	if r := ask("gw-1"); !r.GetUnload() || r.GetRule() != "idle" {
		t.Errorf("ShouldUnload of a LOADED model idle 301 s = %v, want unload by idle", r)
	}
	report("gw-2", brainv1.ModelState_MODEL_STATE_FAILED)
	if r := ask("gw-2"); r.GetUnload() || r.GetRule() != recommend.RuleNotLoaded {
		t.Errorf("ShouldUnload on the gateway where it FAILED = %v, want keep by %s", r, recommend.RuleNotLoaded)
	}
	if r := ask(""); !r.GetUnload() {
		t.Errorf("across gateways, one LOADED idle placement decides: %v", r)
	}
	report("gw-1", brainv1.ModelState_MODEL_STATE_UNLOADED)
	if r := ask(""); r.GetUnload() || r.GetRule() != recommend.RuleNotLoaded {
		t.Errorf("ShouldUnload after UNLOADED everywhere = %v, want keep by %s", r, recommend.RuleNotLoaded)
	}
}
