package main

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// Gateways of the benchmark, one per purpose, so that a watch can filter on its own.
const (
	gatewayCalls   = "gw-bench-calls"   // ShouldUnload's model and ReportTraffic's samples
	gatewayWatch   = "gw-bench-watch"   // the fan-out recommendations; the subscribers filter on it
	gatewayBacklog = "gw-bench-backlog" // the burst that fills the stalled subscribers' queues
	gatewayMemory  = "gw-bench-memory"  // the 100,000 models of the memory benchmark
)

// shouldUnloadModel is the model ShouldUnload asks about; it is reported LOADED, with a request
// in flight, before the load starts.
const shouldUnloadModel = "bench-should-unload"

// healthSubject is the baseline: the cheapest call the same server answers, through the same
// interceptor chain.
func healthSubject() subject {
	return subject{
		Name:        "Health/Check",
		Method:      "/grpc.health.v1.Health/Check",
		Description: "the baseline: the cheapest call the same server answers, through the same interceptors",
		newCall: func(conn *grpc.ClientConn, _ int) call {
			c := healthpb.NewHealthClient(conn)
			req := &healthpb.HealthCheckRequest{}
			return func(ctx context.Context) error {
				_, err := c.Check(ctx, req)
				return err
			}
		},
	}
}

// runtimeNames are the names ChooseRuntime (name) rotates through: each rule of the default table
// and the fallback.
var runtimeNames = []string{"gpt2", "resnet50", "bert-base", "custom-model", "meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mixtral-8x7B-v0.1"}

// subjects are the calls measured beside the baseline. hfConfig is a real config.json.
func subjects(hfConfig []byte) []subject {
	brain := func(conn *grpc.ClientConn) brainv1.BrainServiceClient { return brainv1.NewBrainServiceClient(conn) }
	traffic := func(batch int) subject {
		return subject{
			Name:        fmt.Sprintf("ReportTraffic (%d samples)", batch),
			Method:      brainv1.BrainService_ReportTraffic_FullMethodName,
			Description: fmt.Sprintf("a batch of %d traffic samples, each for another model (the same %d models for every worker)", batch, batch),
			Items:       batch,
			newCall: func(conn *grpc.ClientConn, _ int) call {
				c := brain(conn)
				req := trafficBatch(gatewayCalls, "bench-traffic", batch, 0, 0, time.Now())
				return func(ctx context.Context) error {
					_, err := c.ReportTraffic(ctx, req)
					return err
				}
			},
		}
	}
	return []subject{
		{
			Name:        "ChooseRuntime (name)",
			Method:      brainv1.BrainService_ChooseRuntime_FullMethodName,
			Description: "a model name only, rotating over names that hit every rule of the default table",
			newCall: func(conn *grpc.ClientConn, w int) call {
				c := brain(conn)
				reqs := make([]*brainv1.ChooseRuntimeRequest, len(runtimeNames))
				for i, n := range runtimeNames {
					reqs[i] = &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: n}}
				}
				i := w
				return func(ctx context.Context) error {
					i++
					_, err := c.ChooseRuntime(ctx, reqs[i%len(reqs)])
					return err
				}
			},
		},
		{
			Name:        "ChooseRuntime (config.json)",
			Method:      brainv1.BrainService_ChooseRuntime_FullMethodName,
			Description: fmt.Sprintf("a name and the %d bytes of Llama-3.1-8B's config.json, which the brain analyses", len(hfConfig)),
			newCall: func(conn *grpc.ClientConn, _ int) call {
				c := brain(conn)
				req := &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "meta-llama/Llama-3.1-8B", ConfigJson: hfConfig}}
				return func(ctx context.Context) error {
					_, err := c.ChooseRuntime(ctx, req)
					return err
				}
			},
		},
		{
			Name:        "ChooseGPU (8 GPUs)",
			Method:      brainv1.BrainService_ChooseGPU_FullMethodName,
			Description: "20 GiB over the static 8-GPU inventory, default strategy (most_free), no reservation",
			newCall: func(conn *grpc.ClientConn, _ int) call {
				c := brain(conn)
				req := &brainv1.ChooseGPURequest{ModelName: "meta-llama/Llama-3.1-8B", RequiredBytes: 20 << 30}
				return func(ctx context.Context) error {
					_, err := c.ChooseGPU(ctx, req)
					return err
				}
			},
		},
		{
			Name:        "ShouldUnload",
			Method:      brainv1.BrainService_ShouldUnload_FullMethodName,
			Description: "a model reported LOADED with traffic, across gateways",
			newCall: func(conn *grpc.ClientConn, _ int) call {
				c := brain(conn)
				req := &brainv1.ShouldUnloadRequest{ModelName: shouldUnloadModel}
				return func(ctx context.Context) error {
					_, err := c.ShouldUnload(ctx, req)
					return err
				}
			},
		},
		traffic(100),
		traffic(1000),
	}
}

// trafficBatch is n samples of the 10 s before now, for the models prefix-<first> ...
// prefix-<first+n-1>: 10 requests each, inFlight in flight at the end.
func trafficBatch(gateway, prefix string, n, first int, inFlight int64, now time.Time) *brainv1.ReportTrafficRequest {
	start, end := timestamppb.New(now.Add(-10*time.Second)), timestamppb.New(now)
	req := &brainv1.ReportTrafficRequest{GatewayId: gateway, Samples: make([]*brainv1.TrafficSample, n)}
	for i := range n {
		req.Samples[i] = &brainv1.TrafficSample{
			ModelName: fmt.Sprintf("%s-%06d", prefix, first+i),
			StartTime: start, EndTime: end, Requests: 10, InFlight: inFlight,
		}
	}
	return req
}

// prepare reports what the subjects ask about: ShouldUnload's model, LOADED with a request in
// flight (so that the evaluation loop leaves it alone).
func prepare(ctx context.Context, conn *grpc.ClientConn) error {
	c := brainv1.NewBrainServiceClient(conn)
	req := trafficBatch(gatewayCalls, shouldUnloadModel, 1, 0, 1, time.Now())
	req.Samples[0].ModelName = shouldUnloadModel
	if _, err := c.ReportTraffic(ctx, req); err != nil {
		return fmt.Errorf("report traffic of %s: %w", shouldUnloadModel, err)
	}
	if _, err := c.ReportModelState(ctx, &brainv1.ReportModelStateRequest{
		GatewayId: gatewayCalls, ModelName: shouldUnloadModel, Runtime: "vllm", GpuUuid: "static-GPU-0",
		State: brainv1.ModelState_MODEL_STATE_LOADED, MemoryBytes: 16 << 30,
	}); err != nil {
		return fmt.Errorf("report %s LOADED: %w", shouldUnloadModel, err)
	}
	return nil
}
