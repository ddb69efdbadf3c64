package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/server"

	dto "github.com/prometheus/client_model/go"
)

func loadedModel(name string) *brainv1.GatewayModel {
	return &brainv1.GatewayModel{ModelName: name, Runtime: "vllm", GpuUuid: "GPU-a", State: brainv1.ModelState_MODEL_STATE_LOADED, MemoryBytes: 1 << 30}
}

func TestSyncGatewayDropsModelsAndTheirRecommendationsAreWithdrawn(t *testing.T) {
	b := newBrain(t, server.Options{})
	ctx := ctxT(t)
	resp, err := b.client.SyncGateway(ctx, &brainv1.SyncGatewayRequest{GatewayId: "gw-1",
		Models: []*brainv1.GatewayModel{loadedModel("llama"), loadedModel("bert")}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.GetAdded(), []string{"bert", "llama"}) || len(resp.GetChanged())+len(resp.GetRemoved()) != 0 {
		t.Fatalf("first sync: %v; want bert and llama added", resp)
	}
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"})
	w.snapshot()
	b.clock.Advance(301 * time.Second)
	b.evaluate()
	w.expect("1 recommended gw-1/llama", "2 recommended gw-1/bert")

	// The gateway restarted without bert and reloaded nothing else: its truth is llama alone.
	resp, err = b.client.SyncGateway(ctx, &brainv1.SyncGatewayRequest{GatewayId: "gw-1",
		Models: []*brainv1.GatewayModel{loadedModel("llama")}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.GetRemoved(), []string{"bert"}) || len(resp.GetAdded())+len(resp.GetChanged()) != 0 {
		t.Fatalf("second sync: %v; want bert removed", resp)
	}
	if res := b.evaluate(); res.Withdrawn != 1 || res.Open != 1 {
		t.Fatalf("cycle after the sync: %+v; want bert withdrawn, llama still open", res)
	}
	w.expect("3 withdrawn gw-1/bert WITHDRAWAL_CAUSE_MODEL_UNLOADED")
	list, err := b.client.ListModels(ctx, &brainv1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetModels()) != 1 || list.GetModels()[0].GetModelName() != "llama" {
		t.Errorf("ListModels after the sync: %v; want llama alone", list.GetModels())
	}
}

func TestSyncGatewayRejectsBadRequests(t *testing.T) {
	b := newBrain(t, server.Options{})
	tests := []struct {
		name  string
		req   *brainv1.SyncGatewayRequest
		field string
	}{
		{"a sync without a gateway", &brainv1.SyncGatewayRequest{}, "gateway_id"},
		{"a model without a name", &brainv1.SyncGatewayRequest{GatewayId: "g", Models: []*brainv1.GatewayModel{{State: brainv1.ModelState_MODEL_STATE_LOADED}}}, "models[0].model_name"},
		{"a model without a state", &brainv1.SyncGatewayRequest{GatewayId: "g", Models: []*brainv1.GatewayModel{{ModelName: "a"}}}, "models[0].state"},
		{"an unknown state", &brainv1.SyncGatewayRequest{GatewayId: "g", Models: []*brainv1.GatewayModel{{ModelName: "a", State: 99}}}, "models[0].state"},
		{"negative memory", &brainv1.SyncGatewayRequest{GatewayId: "g", Models: []*brainv1.GatewayModel{{ModelName: "a", State: brainv1.ModelState_MODEL_STATE_LOADED, MemoryBytes: -1}}}, "models[0].memory_bytes"},
		{"a model listed twice", &brainv1.SyncGatewayRequest{GatewayId: "g", Models: []*brainv1.GatewayModel{loadedModel("a"), loadedModel("a")}}, "models[1].model_name"},
		{"an oversized gateway id", &brainv1.SyncGatewayRequest{GatewayId: strings.Repeat("g", server.MaxNameBytes+1)}, "gateway_id"},
		{"more models than one sync may carry", &brainv1.SyncGatewayRequest{GatewayId: "g", Models: make([]*brainv1.GatewayModel, metrics.MaxSyncModels+1)}, "models"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.client.SyncGateway(ctxT(t), tt.req)
			if got := fieldViolations(t, err); got[tt.field] == "" {
				t.Errorf("violations %v do not name %s", got, tt.field)
			}
		})
	}
	if n := len(b.tracker.Models("")); n != 0 {
		t.Errorf("rejected syncs left %d models", n)
	}
}

func TestSnapshotEndSaysWhenToSync(t *testing.T) {
	b := newBrain(t, server.Options{})
	ctx := ctxT(t)
	syncRequired := func(req *brainv1.WatchUnloadRecommendationsRequest) bool {
		t.Helper()
		w := b.watch(nil, req)
		defer w.cancel()
		_, end := w.snapshot()
		return end.GetSnapshotEnd().GetSyncRequired()
	}
	if !syncRequired(&brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"}) {
		t.Error("a gateway that never synced with this brain was not told to sync")
	}
	if _, err := b.client.SyncGateway(ctx, &brainv1.SyncGatewayRequest{GatewayId: "gw-1"}); err != nil {
		t.Fatal(err)
	}
	if syncRequired(&brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"}) {
		t.Error("a gateway that synced with this brain was told to sync again")
	}
	// A resume from another epoch (the brain restarted) is reset, and the snapshot after the
	// reset tells a gateway that has not synced with this brain to sync.
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-2", ResumeEpoch: "0123456789abcdef", ResumeAfterSequence: 7})
	if m := w.next(); m.GetStreamReset() == nil {
		t.Fatalf("first message %v; want a StreamReset", m)
	}
	if _, end := w.snapshot(); !end.GetSnapshotEnd().GetSyncRequired() {
		t.Error("the snapshot after a reset did not tell an unsynced gateway to sync")
	}
	if !syncRequired(&brainv1.WatchUnloadRecommendationsRequest{}) {
		t.Error("a watch without a gateway_id was not told to sync")
	}
	// WatchRecommendations ends its snapshot with the same marker.
	all, err := b.client.WatchRecommendations(ctx, &brainv1.WatchRecommendationsRequest{GatewayId: "gw-3"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := all.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if end := m.GetSnapshotEnd(); end != nil {
			if !end.GetSyncRequired() {
				t.Error("WatchRecommendations did not tell an unsynced gateway to sync")
			}
			break
		}
	}
}

func TestGatewayTTLForgetsSilentGateways(t *testing.T) {
	b := newBrain(t, server.Options{GatewayTTL: 10 * time.Minute})
	ctx := ctxT(t)
	for _, gw := range []string{"silent", "watching", "reporting"} {
		if _, err := b.client.SyncGateway(ctx, &brainv1.SyncGatewayRequest{GatewayId: gw,
			Models: []*brainv1.GatewayModel{loadedModel("model-of-" + gw)}}); err != nil {
			t.Fatal(err)
		}
	}
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "watching"})
	w.snapshot()
	b.clock.Advance(9 * time.Minute)
	b.load("reporting", "model-of-reporting", "GPU-a")
	if gone := b.srv.ExpireGateways(b.clock.Now()); len(gone) != 0 {
		t.Fatalf("forgot %v before the TTL", gone)
	}
	b.clock.Advance(2 * time.Minute)
	if gone := b.srv.ExpireGateways(b.clock.Now()); !slices.Equal(gone, []string{"silent"}) {
		t.Fatalf("ExpireGateways = %v; want [silent] (watching has a stream, reporting reported)", gone)
	}
	if _, ok := b.tracker.Model("model-of-silent"); ok {
		t.Error("the forgotten gateway's model is still tracked")
	}
	if got := counterValue(t, b, "modelium_brain_gateways_forgotten_total"); got != 1 {
		t.Errorf("modelium_brain_gateways_forgotten_total = %v; want 1", got)
	}

	// Once its stream ends, the watching gateway's TTL counts from then: kept 9 minutes on (its
	// sync, 11 minutes before the stream ended, is older than the TTL), forgotten 2 minutes later.
	w.cancel()
	waitFor(t, func() bool { return !watchOpen(b) }) // the server keeps the gateway alive before it counts the stream gone
	b.clock.Advance(9 * time.Minute)
	if gone := b.srv.ExpireGateways(b.clock.Now()); !slices.Equal(gone, []string{"reporting"}) {
		t.Errorf("ExpireGateways 9 minutes after the stream ended = %v; want [reporting]", gone)
	}
	b.clock.Advance(2 * time.Minute)
	if gone := b.srv.ExpireGateways(b.clock.Now()); !slices.Equal(gone, []string{"watching"}) {
		t.Errorf("ExpireGateways 11 minutes after the stream ended = %v; want [watching]", gone)
	}
}

// Without a gateway TTL (the default) no gateway is ever forgotten, however long it is silent.
func TestNoGatewayTTLForgetsNothing(t *testing.T) {
	b := newBrain(t, server.Options{})
	if _, err := b.client.SyncGateway(ctxT(t), &brainv1.SyncGatewayRequest{GatewayId: "silent",
		Models: []*brainv1.GatewayModel{loadedModel("m")}}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(1000 * time.Hour)
	if gone := b.srv.ExpireGateways(b.clock.Now()); len(gone) != 0 {
		t.Errorf("ExpireGateways without a TTL = %v; want none", gone)
	}
}

// watchOpen says whether the brain still counts a subscriber.
func watchOpen(b *brain) bool { return gaugeValue(b, "modelium_brain_watch_subscribers") > 0 }

func counterValue(t testing.TB, b *brain, name string) float64 {
	t.Helper()
	return metricValue(b, name, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
}

func gaugeValue(b *brain, name string) float64 {
	return metricValue(b, name, func(m *dto.Metric) float64 { return m.GetGauge().GetValue() })
}

func metricValue(b *brain, name string, value func(*dto.Metric) float64) float64 {
	b.t.Helper()
	families, err := b.registry.Gather()
	if err != nil {
		b.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return value(f.GetMetric()[0])
		}
	}
	b.t.Fatalf("no metric %s", name)
	return 0
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A gateway forgotten after the TTL takes the predictive policy's histories of its models along;
// another gateway's stay.
func TestGatewayTTLForgetsThePolicysHistories(t *testing.T) {
	p, err := predict.New(predict.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrain(t, server.Options{GatewayTTL: 10 * time.Minute, Policy: predict.NewEnginePolicy(p, nil)})
	ctx := ctxT(t)
	for _, gw := range []string{"silent", "reporting"} {
		if _, err := b.client.SyncGateway(ctx, &brainv1.SyncGatewayRequest{GatewayId: gw,
			Models: []*brainv1.GatewayModel{loadedModel("model-of-" + gw)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.client.ReportTraffic(ctx, &brainv1.ReportTrafficRequest{GatewayId: gw, Samples: []*brainv1.TrafficSample{
			sample("model-of-"+gw, b.clock.Now(), 10, 1),
		}}); err != nil {
			t.Fatal(err)
		}
	}
	b.srv.Evaluate(b.clock.Now()) // the cycle observes both models' requests
	if p.Len() != 2 {
		t.Fatalf("%d histories after a cycle, want one per gateway", p.Len())
	}
	b.clock.Advance(9 * time.Minute)
	b.load("reporting", "model-of-reporting", "GPU-a")
	b.clock.Advance(2 * time.Minute)
	if gone := b.srv.ExpireGateways(b.clock.Now()); !slices.Equal(gone, []string{"silent"}) {
		t.Fatalf("ExpireGateways = %v; want [silent]", gone)
	}
	if p.Len() != 1 || p.ForgetGateway("reporting") != 1 {
		t.Errorf("%d histories after the silent gateway was forgotten; want the reporting gateway's one alone", p.Len())
	}
}
