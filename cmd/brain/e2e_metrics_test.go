package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// scrape returns the brain's /metrics page.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(body)
}

func TestE2EReportedStateAndTrafficShowInListModelsAndMetrics(t *testing.T) {
	brain := startBrain(t)
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	ctx := callCtx(t)
	for _, st := range []brainv1.ModelState{brainv1.ModelState_MODEL_STATE_LOADING, brainv1.ModelState_MODEL_STATE_LOADED} {
		if _, err := client.ReportModelState(ctx, &brainv1.ReportModelStateRequest{
			GatewayId: "gw-e2e", ModelName: "llama-8b", Runtime: "vllm", GpuUuid: "GPU-e2e", State: st, MemoryBytes: 16 << 30,
		}); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now().Add(-time.Second)
	if _, err := client.ReportTraffic(ctx, &brainv1.ReportTrafficRequest{GatewayId: "gw-e2e", Samples: []*brainv1.TrafficSample{{
		ModelName: "llama-8b", StartTime: timestamppb.New(end.Add(-30 * time.Second)), EndTime: timestamppb.New(end), Requests: 600, Errors: 3,
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ChooseRuntime(ctx, &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "gpt2"}}); err != nil {
		t.Fatal(err)
	}

	list, err := client.ListModels(ctx, &brainv1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetModels()) != 1 || list.GetModels()[0].GetRequestsTotal() != 600 || list.GetModels()[0].GetErrorsTotal() != 3 ||
		list.GetModels()[0].GetPlacements()[0].GetState() != brainv1.ModelState_MODEL_STATE_LOADED {
		t.Fatalf("ListModels = %v", list)
	}

	page := scrape(t, brain.MetricsAddr)
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="ReportTraffic",grpc_service="modelium.brain.v1.BrainService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="ReportModelState",grpc_service="modelium.brain.v1.BrainService",grpc_type="unary"} 2`,
		`grpc_server_handling_seconds_bucket{grpc_method="ChooseRuntime"`,
		`modelium_brain_models{state="loaded"} 1`,
		`modelium_brain_model_qps{model="llama-8b",window="5m"} 2`,
		`modelium_brain_decisions_total{kind="runtime",rule="llm-families"} 1`,
		`modelium_brain_traffic_samples_total 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", page)
	}
}
