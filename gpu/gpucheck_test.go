//go:build cgo && linux

package gpu_test

import (
	"os"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

// TestGPUCheck opens the real NVML backend and prints what it reads; it runs only with
// MODELIUM_GPU_CHECK=1, on a host with an NVIDIA driver:
//
//	MODELIUM_GPU_CHECK=1 go test -run TestGPUCheck -v ./gpu/
func TestGPUCheck(t *testing.T) {
	if os.Getenv("MODELIUM_GPU_CHECK") != "1" {
		t.Skip("set MODELIUM_GPU_CHECK=1 to read the real GPUs through NVML")
	}
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendNVML, RefreshInterval: time.Hour}, nil)
	if err != nil {
		t.Fatalf("open nvml backend: %v", err)
	}
	defer inv.Close()

	start := time.Now()
	const reads = 20
	for range reads {
		if snap := inv.Refresh(); snap.Stale {
			t.Fatalf("NVML read failed: %v", snap.Err)
		}
	}
	t.Logf("NVML read of every device: %s each (%d reads)", time.Since(start)/reads, reads)

	snap := inv.Snapshot()
	if len(snap.Devices) == 0 {
		t.Fatal("NVML initialised but reports no GPUs")
	}
	for _, d := range snap.Devices {
		t.Logf("GPU %d %s %q: total %s, free %s, used %s, utilisation %d%%, MIG %v",
			d.Index, d.UUID, d.Name, gpu.FormatBytes(d.TotalBytes), gpu.FormatBytes(d.FreeBytes), gpu.FormatBytes(d.UsedBytes), d.UtilizationPercent, d.MIGEnabled)
		if d.TotalBytes <= 0 || d.FreeBytes < 0 || d.FreeBytes > d.TotalBytes || d.UsedBytes != d.TotalBytes-d.FreeBytes {
			t.Errorf("GPU %d memory does not add up: %+v", d.Index, d)
		}
	}

	a := gpu.NewAllocator(inv, gpu.AllocatorConfig{})
	p, err := a.Choose(gpu.Request{Model: "gpu-check", RequiredBytes: 1 << 30, Reserve: true})
	if err != nil {
		t.Fatalf("choose a GPU for 1 GiB: %v", err)
	}
	t.Logf("1 GiB placement: %s (reservation %s)", p.Reason(), p.ReservationID)
}
