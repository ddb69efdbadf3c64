//go:build cgo

package gpu_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/modelium/brain/gpu"
)

// dgx is go-nvml's DGX H100 mock (8 x H100 80GB) with memory set per device; the test controls
// free memory, read errors and whether the library has GetMemoryInfo_v2.
type dgx struct {
	*server.Server
	devices    [8]*server.Device
	free       [8]atomic.Int64
	v1Calls    atomic.Int64
	failReads  atomic.Bool
	noV2Symbol bool
}

func newDGX(t *testing.T, freeGiB ...int64) *dgx {
	t.Helper()
	g := &dgx{Server: dgxh100.New()}
	g.LookupSymbolFunc = func(symbol string) error {
		if symbol == "nvmlDeviceGetMemoryInfo_v2" && g.noV2Symbol {
			return errors.New("symbol not found")
		}
		return nil
	}
	total := GiBu(80)
	for i := range g.devices {
		g.free[i].Store(80 * GiB)
		if i < len(freeGiB) {
			g.free[i].Store(freeGiB[i] * GiB)
		}
		dev := g.Devices[i].(*server.Device)
		g.devices[i] = dev
		dev.GetMemoryInfo_v2Func = func() (nvml.Memory_v2, nvml.Return) {
			if g.failReads.Load() {
				return nvml.Memory_v2{}, nvml.ERROR_GPU_IS_LOST
			}
			free := uint64(g.free[i].Load())
			return nvml.Memory_v2{Total: total, Reserved: GiBu(1), Free: free, Used: total - free - GiBu(1)}, nvml.SUCCESS
		}
		dev.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
			g.v1Calls.Add(1)
			if g.failReads.Load() {
				return nvml.Memory{}, nvml.ERROR_GPU_IS_LOST
			}
			free := uint64(g.free[i].Load())
			return nvml.Memory{Total: total, Free: free, Used: total - free}, nvml.SUCCESS
		}
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: uint32(10 * i)}, nvml.SUCCESS
		}
	}
	return g
}

func GiBu(n int64) uint64 { return uint64(n * GiB) }

// openDGX opens the nvml backend over g; the poller never fires (tests call Refresh).
func openDGX(t *testing.T, g nvml.Interface, clock *fakeClock) gpu.Inventory {
	t.Helper()
	inv, err := gpu.OpenWithNVML(gpu.Config{Backend: gpu.BackendNVML, RefreshInterval: time.Hour, MaxSnapshotAge: 10 * time.Second, Clock: clock.Now}, g, nil)
	if err != nil {
		t.Fatalf("open nvml backend: %v", err)
	}
	t.Cleanup(func() { _ = inv.Close() })
	return inv
}

func TestNVMLReportsEveryDevice(t *testing.T) {
	g := newDGX(t, 70, 10, 50)
	g.devices[3].MigMode = nvml.DEVICE_MIG_ENABLE
	g.devices[4].GetMigModeFunc = func() (int, int, nvml.Return) { return 0, 0, nvml.ERROR_NOT_SUPPORTED }
	g.devices[5].GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		return nvml.Utilization{}, nvml.ERROR_NOT_SUPPORTED
	}
	clock := newFakeClock()
	snap := openDGX(t, g, clock).Snapshot()

	if snap.Backend != gpu.BackendNVML || snap.Stale || snap.Err != nil || !snap.Time.Equal(clock.Now()) {
		t.Fatalf("snapshot header = %s stale=%v err=%v time=%s", snap.Backend, snap.Stale, snap.Err, snap.Time)
	}
	if len(snap.Devices) != 8 {
		t.Fatalf("got %d devices, want 8", len(snap.Devices))
	}
	tests := []struct {
		name string
		idx  int
		want gpu.Device
	}{
		{"memory comes from GetMemoryInfo_v2", 0, gpu.Device{Index: 0, UUID: g.devices[0].UUID, Name: "NVIDIA H100 80GB HBM3",
			TotalBytes: 80 * GiB, FreeBytes: 70 * GiB, UsedBytes: 10 * GiB, UtilizationPercent: 0}},
		{"used is total minus free", 1, gpu.Device{Index: 1, UUID: g.devices[1].UUID, Name: "NVIDIA H100 80GB HBM3",
			TotalBytes: 80 * GiB, FreeBytes: 10 * GiB, UsedBytes: 70 * GiB, UtilizationPercent: 10}},
		{"MIG mode enabled is reported", 3, gpu.Device{Index: 3, UUID: g.devices[3].UUID, Name: "NVIDIA H100 80GB HBM3",
			TotalBytes: 80 * GiB, FreeBytes: 80 * GiB, UtilizationPercent: 30, MIGEnabled: true}},
		{"MIG not supported reads as disabled", 4, gpu.Device{Index: 4, UUID: g.devices[4].UUID, Name: "NVIDIA H100 80GB HBM3",
			TotalBytes: 80 * GiB, FreeBytes: 80 * GiB, UtilizationPercent: 40}},
		{"unknown utilisation is -1", 5, gpu.Device{Index: 5, UUID: g.devices[5].UUID, Name: "NVIDIA H100 80GB HBM3",
			TotalBytes: 80 * GiB, FreeBytes: 80 * GiB, UtilizationPercent: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := snap.Devices[tt.idx]; got != tt.want {
				t.Fatalf("device %d =\n%+v\nwant\n%+v", tt.idx, got, tt.want)
			}
		})
	}
	if uuid := snap.Devices[0].UUID; !strings.HasPrefix(uuid, "GPU-") {
		t.Errorf("UUID %q does not look like an NVML UUID", uuid)
	}
	if g.v1Calls.Load() != 0 {
		t.Errorf("GetMemoryInfo called %d times although GetMemoryInfo_v2 exists", g.v1Calls.Load())
	}
}

func TestNVMLFallsBackToGetMemoryInfoWithoutTheV2Symbol(t *testing.T) {
	g := newDGX(t, 33)
	g.noV2Symbol = true
	g.devices[0].GetMemoryInfo_v2Func = nil // calling it would panic
	snap := openDGX(t, g, newFakeClock()).Snapshot()
	if d := snap.Devices[0]; d.FreeBytes != 33*GiB || d.TotalBytes != 80*GiB {
		t.Fatalf("device 0 = %+v, want 33 GiB free of 80 GiB", d)
	}
	if g.v1Calls.Load() != 8 {
		t.Errorf("GetMemoryInfo called %d times, want once per device", g.v1Calls.Load())
	}
}

func TestNVMLPlacementFollowsTheMemoryItReads(t *testing.T) {
	g := newDGX(t, 40, 40, 40, 40, 40, 40, 40, 40)
	clock := newFakeClock()
	inv := openDGX(t, g, clock)
	a := gpu.NewAllocator(inv, gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	req := gpu.Request{RequiredBytes: 20 * GiB}
	if p, err := a.Choose(req); err != nil || p.Device.Index != 0 {
		t.Fatalf("equal GPUs: Choose = GPU %d, %v; want GPU 0 (lowest index)", p.Device.Index, err)
	}
	g.free[5].Store(60 * GiB) // another process freed memory on GPU 5
	if p, _ := a.Choose(req); p.Device.Index != 0 {
		t.Fatalf("before refresh: Choose = GPU %d, want 0: requests must read the snapshot, not NVML", p.Device.Index)
	}
	inv.Refresh()
	if p, err := a.Choose(req); err != nil || p.Device.Index != 5 {
		t.Fatalf("after refresh: Choose = GPU %d, %v; want GPU 5", p.Device.Index, err)
	}
}

func TestNVMLMIGEnabledGPUIsNeverChosen(t *testing.T) {
	g := newDGX(t, 10, 79)
	g.devices[1].MigMode = nvml.DEVICE_MIG_ENABLE
	clock := newFakeClock()
	a := gpu.NewAllocator(openDGX(t, g, clock), gpu.AllocatorConfig{Clock: clock.Now})
	p, err := a.Choose(gpu.Request{RequiredBytes: 20 * GiB})
	if err != nil || p.Device.Index != 2 {
		t.Fatalf("Choose = GPU %d, %v; want GPU 2 (GPU 1 has MIG)", p.Device.Index, err)
	}
}

func TestNVMLReadErrorsMarkTheSnapshotStaleThenUnavailable(t *testing.T) {
	g := newDGX(t, 50)
	clock := newFakeClock()
	inv := openDGX(t, g, clock)
	a := gpu.NewAllocator(inv, gpu.AllocatorConfig{Clock: clock.Now})
	goodTime := clock.Now()
	req := gpu.Request{RequiredBytes: 20 * GiB}

	g.failReads.Store(true)
	clock.Advance(5 * time.Second)
	snap := inv.Refresh()
	if !snap.Stale || snap.Err == nil || !strings.Contains(snap.Err.Error(), "ERROR_GPU_IS_LOST") {
		t.Fatalf("after a failed read: stale=%v err=%v; want stale with the NVML error", snap.Stale, snap.Err)
	}
	if len(snap.Devices) != 8 || !snap.Time.Equal(goodTime) || snap.Age(clock.Now()) != 5*time.Second {
		t.Fatalf("stale snapshot keeps %d devices from %s (age %s); want the last good 8 from %s", len(snap.Devices), snap.Time, snap.Age(clock.Now()), goodTime)
	}
	if _, err := a.Choose(req); err != nil {
		t.Fatalf("stale within max age: Choose error = %v, want the last good snapshot used", err)
	}

	clock.Advance(5 * time.Second) // exactly 10 s: still within the limit
	if _, err := a.Choose(req); err != nil {
		t.Fatalf("stale at max age: %v", err)
	}
	clock.Advance(time.Millisecond)
	_, err := a.Choose(req)
	if !errors.Is(err, gpu.ErrUnavailable) || !strings.Contains(err.Error(), "ERROR_GPU_IS_LOST") {
		t.Fatalf("stale past max age: Choose error = %v, want ErrUnavailable naming the NVML error", err)
	}
	if st := a.Status(clock.Now()); !errors.Is(st.Usable, gpu.ErrUnavailable) || !st.Snapshot.Stale {
		t.Fatalf("Status = usable %v stale %v; want unavailable and stale", st.Usable, st.Snapshot.Stale)
	}

	g.failReads.Store(false)
	if snap := inv.Refresh(); snap.Stale || snap.Err != nil || !snap.Time.Equal(clock.Now()) {
		t.Fatalf("after recovery: stale=%v err=%v time=%s", snap.Stale, snap.Err, snap.Time)
	}
	if _, err := a.Choose(req); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestNVMLPollerPublishesInTheBackground(t *testing.T) {
	g := newDGX(t, 50)
	inv, err := gpu.OpenWithNVML(gpu.Config{Backend: gpu.BackendNVML, RefreshInterval: time.Millisecond}, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	g.free[0].Store(12 * GiB)
	deadline := time.Now().Add(5 * time.Second)
	for inv.Snapshot().Devices[0].FreeBytes != 12*GiB {
		if time.Now().After(deadline) {
			t.Fatal("the poller did not publish the new free memory within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNVMLMakesNoCallAfterClose(t *testing.T) {
	g := newDGX(t)
	shutdowns := 0
	g.ShutdownFunc = func() nvml.Return { shutdowns++; return nvml.SUCCESS }
	inv := openDGX(t, g, newFakeClock())
	if err := inv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := inv.Close(); err != nil || shutdowns != 1 {
		t.Fatalf("second Close = %v, shutdowns = %d; want nil and exactly one Shutdown", err, shutdowns)
	}
	g.DeviceGetCountFunc = func() (int, nvml.Return) {
		t.Fatal("DeviceGetCount called after Shutdown")
		return 0, nvml.ERROR_UNINITIALIZED
	}
	if snap := inv.Refresh(); !snap.Stale || len(snap.Devices) != 8 {
		t.Fatalf("Refresh after Close: stale=%v devices=%d; want the last snapshot, stale", snap.Stale, len(snap.Devices))
	}
}

// failingInit is an NVML whose Init fails; any other call fails the test, because after a failed
// Init a call into the real library can kill the process.
func failingInit() *mock.Interface {
	return &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
}

func TestNVMLInitFailure(t *testing.T) {
	tests := []struct {
		name        string
		backend     string
		wantBackend string
		wantErr     bool
	}{
		{"auto falls back to none", gpu.BackendAuto, gpu.BackendNone, false},
		{"empty backend means auto", "", gpu.BackendNone, false},
		{"explicit nvml refuses to start", gpu.BackendNVML, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := failingInit()
			var log bytes.Buffer
			inv, err := gpu.OpenWithNVML(gpu.Config{Backend: tt.backend}, lib, slog.New(slog.NewTextHandler(&log, nil)))
			if tt.wantErr {
				if !errors.Is(err, gpu.ErrNVMLUnavailable) || !strings.Contains(err.Error(), "ERROR_LIBRARY_NOT_FOUND") {
					t.Fatalf("Open error = %v, want ErrNVMLUnavailable with the NVML code", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if inv.Backend() != tt.wantBackend || len(inv.Snapshot().Devices) != 0 {
					t.Fatalf("backend %s with %d devices, want %s with none", inv.Backend(), len(inv.Snapshot().Devices), tt.wantBackend)
				}
				lines := strings.Split(strings.TrimSpace(log.String()), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], "backend=none") || !strings.Contains(lines[0], "ERROR_LIBRARY_NOT_FOUND") {
					t.Errorf("log = %q, want one line saying none and why", log.String())
				}
			}
			if calls := len(lib.InitCalls()); calls != 1 {
				t.Errorf("Init called %d times, want once", calls)
			}
		})
	}
}

func TestNVMLAutoUsesNVMLWhenItInitialises(t *testing.T) {
	inv, err := gpu.OpenWithNVML(gpu.Config{RefreshInterval: time.Hour}, newDGX(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	if inv.Backend() != gpu.BackendNVML || len(inv.Snapshot().Devices) != 8 {
		t.Fatalf("auto chose %s with %d devices, want nvml with 8", inv.Backend(), len(inv.Snapshot().Devices))
	}
}

func TestNVMLFirstReadFailureIsAnOpenError(t *testing.T) {
	g := newDGX(t)
	g.failReads.Store(true)
	shutdowns := 0
	g.ShutdownFunc = func() nvml.Return { shutdowns++; return nvml.SUCCESS }
	_, err := gpu.OpenWithNVML(gpu.Config{Backend: gpu.BackendNVML}, g, nil)
	if !errors.Is(err, gpu.ErrNVMLUnavailable) || shutdowns != 1 {
		t.Fatalf("Open = %v with %d shutdowns; want ErrNVMLUnavailable and NVML shut down", err, shutdowns)
	}
}

func TestNVMLPanicInAReadBecomesAStaleSnapshot(t *testing.T) {
	g := newDGX(t)
	clock := newFakeClock()
	inv := openDGX(t, g, clock)
	g.devices[2].GetNameFunc = nil // the mock panics on a nil function
	if snap := inv.Refresh(); !snap.Stale || !strings.Contains(snap.Err.Error(), "panicked") {
		t.Fatalf("Refresh = stale %v, err %v; want stale with the panic", snap.Stale, snap.Err)
	}
}

// TestNVMLStalenessFollowsTheConfiguredMaxAge: the limit past which a snapshot is refused is the
// configured gpu.max_snapshot_age, and DefaultMaxSnapshotAge when it is zero; the poller's
// interval defaults too (a zero ticker would panic).
func TestNVMLStalenessFollowsTheConfiguredMaxAge(t *testing.T) {
	tests := []struct {
		name       string
		maxAge     time.Duration
		refresh    time.Duration
		wantMaxAge time.Duration
	}{
		{"a short configured limit", 3 * time.Second, time.Hour, 3 * time.Second},
		{"a long configured limit", 2 * time.Minute, time.Hour, 2 * time.Minute},
		{"zero settings take the defaults", 0, 0, gpu.DefaultMaxSnapshotAge},
		{"negative settings take the defaults", -time.Second, -time.Second, gpu.DefaultMaxSnapshotAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newDGX(t, 50)
			clock := newFakeClock()
			inv, err := gpu.OpenWithNVML(gpu.Config{Backend: gpu.BackendNVML, RefreshInterval: tt.refresh, MaxSnapshotAge: tt.maxAge, Clock: clock.Now}, g, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = inv.Close() })
			if got := inv.Snapshot().MaxAge; got != tt.wantMaxAge {
				t.Fatalf("snapshot MaxAge = %s; want %s", got, tt.wantMaxAge)
			}
			g.failReads.Store(true) // the poller (if it fires) can only publish the same stale devices
			a := gpu.NewAllocator(inv, gpu.AllocatorConfig{Clock: clock.Now})
			req := gpu.Request{RequiredBytes: GiB}
			clock.Advance(tt.wantMaxAge)
			inv.Refresh()
			if _, err := a.Choose(req); err != nil {
				t.Fatalf("at exactly the limit: %v; want the last good snapshot used", err)
			}
			clock.Advance(time.Millisecond)
			if _, err := a.Choose(req); !errors.Is(err, gpu.ErrUnavailable) {
				t.Fatalf("past the limit: %v; want ErrUnavailable", err)
			}
		})
	}
}

// TestNVMLReadErrorNamesTheGPU: a failed read says which call failed on which GPU, GPU 0 included.
func TestNVMLReadErrorNamesTheGPU(t *testing.T) {
	g := newDGX(t, 50)
	clock := newFakeClock()
	inv := openDGX(t, g, clock)
	g.failReads.Store(true)
	snap := inv.Refresh()
	if snap.Err == nil || !strings.Contains(snap.Err.Error(), "NVML GetMemoryInfo_v2 on GPU 0: ") {
		t.Fatalf("read error %v; want it to name GetMemoryInfo_v2 on GPU 0", snap.Err)
	}
}
