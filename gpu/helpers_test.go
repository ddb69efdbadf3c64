package gpu_test

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

const GiB = int64(1) << 30

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openStatic opens a static inventory of 80 GiB GPUs with the given free memory.
func openStatic(t testing.TB, clock *fakeClock, freeGiB ...int64) gpu.Inventory {
	t.Helper()
	devices := make([]gpu.StaticDevice, len(freeGiB))
	for i, free := range freeGiB {
		devices[i] = gpu.StaticDevice{Name: "test GPU", TotalBytes: 80 * GiB, UsedBytes: 80*GiB - free*GiB}
	}
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendStatic, Devices: devices, Clock: clock.Now}, nil)
	if err != nil {
		t.Fatalf("open static inventory: %v", err)
	}
	t.Cleanup(func() { _ = inv.Close() })
	return inv
}

// cpuTimer reports a benchmark's CPU time per op (user + system, all threads) beside ns/op: on a
// shared machine wall time per op grows with other load, CPU time much less.
func cpuTimer(b *testing.B) func() {
	b.Helper()
	start := cpuNanos()
	return func() {
		b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
