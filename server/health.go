package server

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// GPUHealthService is the health-service name of the GPU inventory: SERVING while placement may
// use the inventory's snapshot, NOT_SERVING once the last good NVML read is older than
// gpu.max_snapshot_age (ChooseGPU then answers UNAVAILABLE).
const GPUHealthService = "modelium.brain.v1.BrainService/gpu"

// healthService is grpc's health server whose Watch streams also end when the brain shuts down:
// the stock one keeps them open, so GracefulStop would wait for them until its deadline.
type healthService struct {
	*health.Server
	stopping <-chan struct{}
}

// shutdownGrace lets a watcher receive the NOT_SERVING update before its stream ends.
const shutdownGrace = 100 * time.Millisecond

func (h healthService) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() {
		select {
		case <-h.stopping:
			time.Sleep(shutdownGrace)
			cancel()
		case <-ctx.Done():
		}
	}()
	err := h.Server.Watch(req, &contextStream[healthpb.HealthCheckResponse]{ServerStreamingServer: stream, ctx: ctx})
	select {
	case <-h.stopping:
		return errShuttingDown
	default:
		return err
	}
}

type contextStream[T any] struct {
	grpc.ServerStreamingServer[T]
	ctx context.Context
}

func (s *contextStream[T]) Context() context.Context { return s.ctx }

// watchGPUHealth keeps GPUHealthService in step with the inventory until shutdown.
func (s *Server) watchGPUHealth(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.updateGPUHealth()
		select {
		case <-s.stopping:
			return
		case <-t.C:
		}
	}
}

func (s *Server) updateGPUHealth() {
	st := healthpb.HealthCheckResponse_SERVING
	if s.gpus.Status(s.now()).Usable != nil {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	// After Shutdown the health server ignores updates, so this cannot undo its NOT_SERVING.
	s.health.SetServingStatus(GPUHealthService, st)
}
