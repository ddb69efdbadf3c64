package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/server"
)

func TestShutdownTurnsHealthNotServingAndEndsHealthWatches(t *testing.T) {
	_, srv, conn := startServer(t, server.Options{})
	watch, err := healthpb.NewHealthClient(conn).Watch(context.Background(), &healthpb.HealthCheckRequest{Service: server.ServiceName})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first health update %v, %v; want SERVING", first, err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	if next, err := watch.Recv(); err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health update during shutdown %v, %v; want NOT_SERVING", next, err)
	}
	if _, err := watch.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("health watch ended with %v, want UNAVAILABLE", err)
	}
	// Graceful: the open health watch did not hold the stop up until its deadline.
	if err := <-done; err != nil {
		t.Errorf("Shutdown = %v, want a graceful stop", err)
	}
}

// staleInventory is an NVML-like inventory whose last good read is an hour old.
type staleInventory struct{ now func() time.Time }

func (s staleInventory) Snapshot() gpu.Snapshot {
	return gpu.Snapshot{
		Devices: []gpu.Device{{Index: 0, UUID: "GPU-a", Name: "H100", TotalBytes: 80 * gib, FreeBytes: 80 * gib}},
		Time:    s.now().Add(-time.Hour), Backend: "nvml", Stale: true, Err: errors.New("nvml: GPU is lost"), MaxAge: 30 * time.Second,
	}
}
func (s staleInventory) Refresh() gpu.Snapshot { return s.Snapshot() }
func (staleInventory) Backend() string         { return "nvml" }
func (staleInventory) Close() error            { return nil }

func TestStaleGPUInventoryIsUnavailableAndUnhealthy(t *testing.T) {
	clock := newFakeClock()
	client, _, conn := startServer(t, server.Options{Clock: clock.Now, GPUs: staleInventory{clock.Now}})
	_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: gib})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("ChooseGPU on a snapshot past its age = %v, want UNAVAILABLE", err)
	}
	list, err := client.ListGPUs(ctxT(t), &brainv1.ListGPUsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !list.GetStale() || list.GetError() == "" || len(list.GetGpus()) != 1 {
		t.Errorf("ListGPUs = %v, want the last good devices marked stale with the error", list)
	}
	h := healthpb.NewHealthClient(conn)
	resp, err := h.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: server.GPUHealthService})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("GPU health = %v, %v; want NOT_SERVING", resp, err)
	}
	// The brain itself still serves: runtime and unload decisions need no GPU.
	if resp, err := h.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: server.ServiceName}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("BrainService health = %v, %v; want SERVING", resp, err)
	}
}

func TestGPUHealthServingWithAStaticInventory(t *testing.T) {
	clock := newFakeClock()
	_, _, conn := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock)})
	resp, err := healthpb.NewHealthClient(conn).Check(ctxT(t), &healthpb.HealthCheckRequest{Service: server.GPUHealthService})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("GPU health = %v, %v; want SERVING", resp, err)
	}
}
