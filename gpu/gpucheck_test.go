//go:build cgo && linux

package gpu_test

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

// TestGPUCheck opens the real NVML backend and prints what it reads; it runs only with
// MODELIUM_GPU_CHECK=1, on a host with an NVIDIA driver:
//
//	MODELIUM_GPU_CHECK=1 go test -run TestGPUCheck -v ./gpu/
//
// With MODELIUM_GPU_CHECK_HOLDER naming a built testdata/gpu/holdmem, it also has that process
// occupy 10 GiB and checks that the snapshot and the placement see free memory drop.
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
	a.Release(p.ReservationID)

	if holder := os.Getenv("MODELIUM_GPU_CHECK_HOLDER"); holder != "" {
		checkDropIsSeen(t, inv, a, holder)
	}
}

func checkDropIsSeen(t *testing.T, inv gpu.Inventory, a *gpu.Allocator, holder string) {
	const held = 10 << 30
	before := inv.Refresh()
	placedBefore, err := a.Choose(gpu.Request{RequiredBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(holder, strconv.Itoa(held))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", holder, err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s did not report holding memory: %v", holder, err)
	}
	t.Logf("holder: %s", strings.TrimSpace(line))

	after := inv.Refresh()
	var drop int64
	for i, d := range after.Devices {
		dropped := before.Devices[i].FreeBytes - d.FreeBytes
		t.Logf("GPU %d free %s -> %s (drop %s)", d.Index, gpu.FormatBytes(before.Devices[i].FreeBytes), gpu.FormatBytes(d.FreeBytes), gpu.FormatBytes(dropped))
		drop = max(drop, dropped)
	}
	if drop < held {
		t.Errorf("largest free-memory drop %s, want at least %s", gpu.FormatBytes(drop), gpu.FormatBytes(held))
	}
	placedAfter, err := a.Choose(gpu.Request{RequiredBytes: 1 << 30, Exclude: nil})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("placement before: %s", placedBefore.Reason())
	t.Logf("placement after:  %s", placedAfter.Reason())
	if len(after.Devices) == 1 && placedBefore.AvailableBytes-placedAfter.AvailableBytes < held {
		t.Errorf("available for placement dropped by %s, want at least %s",
			gpu.FormatBytes(placedBefore.AvailableBytes-placedAfter.AvailableBytes), gpu.FormatBytes(held))
	}
}
