package main

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// TestGPUCheck runs the real brain with the nvml backend on this host's NVIDIA GPU, occupies
// 10 GiB from another process (testdata/gpu/holdmem, named by MODELIUM_GPU_CHECK_HOLDER), and
// shows that ListGPUs and ChooseGPU see free memory drop. `make gpu-check` builds and runs it;
// without MODELIUM_GPU_CHECK=1 it is skipped.
func TestGPUCheck(t *testing.T) {
	if os.Getenv("MODELIUM_GPU_CHECK") != "1" {
		t.Skip("set MODELIUM_GPU_CHECK=1 (make gpu-check) on a host with an NVIDIA GPU")
	}
	holder := os.Getenv("MODELIUM_GPU_CHECK_HOLDER")
	if holder == "" {
		t.Fatal("MODELIUM_GPU_CHECK_HOLDER must name a built testdata/gpu/holdmem (make gpu-check does this)")
	}
	brain := startBrain(t, "--config", writeConfig(t, "gpu:\n  backend: nvml\n  refresh_interval: 200ms\n  headroom_bytes: 0\n"))
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	ctx := callCtx(t)

	list := func() *brainv1.ListGPUsResponse {
		t.Helper()
		resp, err := client.ListGPUs(ctx, &brainv1.ListGPUsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetBackend() != "nvml" || len(resp.GetGpus()) == 0 || resp.GetStale() {
			t.Fatalf("ListGPUs = %v, want fresh nvml devices", resp)
		}
		return resp
	}
	choose := func() *brainv1.ChooseGPUResponse {
		t.Helper()
		resp, err := client.ChooseGPU(ctx, &brainv1.ChooseGPURequest{ModelName: "gpu-check", RequiredBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	before, placedBefore := list(), choose()
	for _, g := range before.GetGpus() {
		t.Logf("before: GPU %d %s %q total %d free %d used %d util %d%% MIG %v", g.GetIndex(), g.GetUuid(), g.GetName(),
			g.GetTotalBytes(), g.GetFreeBytes(), g.GetUsedBytes(), g.GetUtilizationPercent(), g.GetMigEnabled())
	}
	t.Logf("before: ChooseGPU(1 GiB) -> GPU %d, free after %d: %s", placedBefore.GetGpu().GetIndex(), placedBefore.GetFreeBytesAfter(), placedBefore.GetReason())

	const held = 10 << 30
	cmd := exec.Command(holder, strconv.Itoa(held))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("holder did not report holding memory: %v", err)
	}
	t.Logf("another process: %s", strings.TrimSpace(line))
	time.Sleep(time.Second) // five refresh intervals: the poller publishes a new snapshot

	after, placedAfter := list(), choose()
	var drop int64
	for i, g := range after.GetGpus() {
		d := before.GetGpus()[i].GetFreeBytes() - g.GetFreeBytes()
		t.Logf("after:  GPU %d free %d (dropped %.2f GiB)", g.GetIndex(), g.GetFreeBytes(), float64(d)/(1<<30))
		drop = max(drop, d)
	}
	t.Logf("after:  ChooseGPU(1 GiB) -> GPU %d, free after %d: %s", placedAfter.GetGpu().GetIndex(), placedAfter.GetFreeBytesAfter(), placedAfter.GetReason())
	if drop < held {
		t.Errorf("ListGPUs: largest free-memory drop %d bytes, want at least %d", drop, held)
	}
	if len(after.GetGpus()) == 1 && placedBefore.GetFreeBytesAfter()-placedAfter.GetFreeBytesAfter() < held {
		t.Errorf("ChooseGPU: free after placement dropped by %d bytes, want at least %d", placedBefore.GetFreeBytesAfter()-placedAfter.GetFreeBytesAfter(), held)
	}
}
