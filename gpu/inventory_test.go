package gpu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

func TestStaticInventoryServesTheDeclaredDevices(t *testing.T) {
	clock := newFakeClock()
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendStatic, Clock: clock.Now, Devices: []gpu.StaticDevice{
		{Name: "A100", TotalBytes: 40 * GiB, UsedBytes: 10 * GiB},
		{TotalBytes: 24 * GiB},
		{Name: "full", TotalBytes: 16 * GiB, UsedBytes: 16 * GiB}, // all of it used is still a device
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := inv.Snapshot()
	want := []gpu.Device{
		{Index: 0, UUID: "static-GPU-0", Name: "A100", TotalBytes: 40 * GiB, FreeBytes: 30 * GiB, UsedBytes: 10 * GiB, UtilizationPercent: -1},
		{Index: 1, UUID: "static-GPU-1", Name: "static GPU 1", TotalBytes: 24 * GiB, FreeBytes: 24 * GiB, UtilizationPercent: -1},
		{Index: 2, UUID: "static-GPU-2", Name: "full", TotalBytes: 16 * GiB, UsedBytes: 16 * GiB, UtilizationPercent: -1},
	}
	if inv.Backend() != gpu.BackendStatic || snap.Backend != gpu.BackendStatic || snap.Stale || !snap.Time.Equal(clock.Now()) {
		t.Fatalf("snapshot header: backend %s/%s stale %v time %s", inv.Backend(), snap.Backend, snap.Stale, snap.Time)
	}
	if len(snap.Devices) != len(want) {
		t.Fatalf("devices = %+v, want %+v", snap.Devices, want)
	}
	for i := range want {
		if snap.Devices[i] != want[i] {
			t.Errorf("device %d = %+v, want %+v", i, snap.Devices[i], want[i])
		}
	}
	clock.Advance(24 * time.Hour)
	if err := inv.Refresh().Usable(clock.Now()); err != nil {
		t.Errorf("a static snapshot must never age out: %v", err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     gpu.Config
		wantErr string
	}{
		{"unknown backend lists the allowed ones", gpu.Config{Backend: "cuda"},
			`unknown GPU backend "cuda": allowed values are auto, nvml, static, none`},
		{"static without devices", gpu.Config{Backend: gpu.BackendStatic},
			"open GPU backend static: no devices declared (gpu.devices)"},
		{"static device without memory", gpu.Config{Backend: gpu.BackendStatic, Devices: []gpu.StaticDevice{{Name: "x"}}},
			"device 0: total_bytes must be > 0, got 0"},
		{"static device using more than it has", gpu.Config{Backend: gpu.BackendStatic, Devices: []gpu.StaticDevice{{TotalBytes: 10, UsedBytes: 11}}},
			"device 0: used_bytes must be between 0 and total_bytes (10), got 11"},
		{"static device with negative use", gpu.Config{Backend: gpu.BackendStatic, Devices: []gpu.StaticDevice{{TotalBytes: 10}, {TotalBytes: 10, UsedBytes: -1}}},
			"device 1: used_bytes must be between 0 and total_bytes (10), got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gpu.Open(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Open error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNoneInventoryHasNoGPUs(t *testing.T) {
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendNone}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Backend() != gpu.BackendNone || len(inv.Snapshot().Devices) != 0 || inv.Close() != nil {
		t.Fatalf("none backend: %s with %d devices", inv.Backend(), len(inv.Snapshot().Devices))
	}
}

func TestSnapshotUsable(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		snap    gpu.Snapshot
		age     time.Duration
		wantErr string
	}{
		{"fresh", gpu.Snapshot{Backend: "nvml", Time: at, MaxAge: 10 * time.Second}, time.Second, ""},
		{"exactly at the limit", gpu.Snapshot{Backend: "nvml", Time: at, MaxAge: 10 * time.Second}, 10 * time.Second, ""},
		{"no limit", gpu.Snapshot{Backend: "static", Time: at}, 1000 * time.Hour, ""},
		{"past the limit without an error (a hung poller)", gpu.Snapshot{Backend: "nvml", Time: at, MaxAge: 10 * time.Second}, 11 * time.Second,
			"GPU inventory unavailable: nvml read is 11s old (limit 10s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.snap.Usable(at.Add(tt.age))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Usable = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Usable = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
