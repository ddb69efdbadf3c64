package gpu_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
)

// BenchmarkChoose8GPUs is one placement decision over 8 GPUs from the snapshot (target <= 1 µs/op).
func BenchmarkChoose8GPUs(b *testing.B) {
	for _, strategy := range gpu.Strategies() {
		b.Run(strategy.Name(), func(b *testing.B) {
			clock := newFakeClock()
			a := gpu.NewAllocator(openStatic(b, clock, 10, 20, 30, 40, 50, 60, 70, 79), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
			req := gpu.Request{Model: "llama", RequiredBytes: 20 * GiB, Strategy: strategy, Exclude: []string{gpu.StaticUUID(7)}, Now: clock.Now()}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Choose(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChoose8GPUsReserve places with a reservation and releases it, with 64 other
// reservations outstanding.
func BenchmarkChoose8GPUsReserve(b *testing.B) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(b, clock, 10, 20, 30, 40, 50, 60, 70, 79), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	for range 64 {
		if _, err := a.Choose(gpu.Request{Model: "other", RequiredBytes: 1 << 20, Reserve: true}); err != nil {
			b.Fatal(err)
		}
	}
	req := gpu.Request{Model: "llama", Gateway: "gw-1", RequiredBytes: 20 * GiB, Reserve: true, Now: clock.Now()}
	b.ReportAllocs()
	for b.Loop() {
		p, err := a.Choose(req)
		if err != nil {
			b.Fatal(err)
		}
		a.Release(p.ReservationID)
	}
}

// BenchmarkChoose8GPUsParallel is the decision under contention for the allocator's lock.
func BenchmarkChoose8GPUsParallel(b *testing.B) {
	clock := newFakeClock()
	a := gpu.NewAllocator(openStatic(b, clock, 10, 20, 30, 40, 50, 60, 70, 79), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	req := gpu.Request{Model: "llama", RequiredBytes: 20 * GiB, Now: clock.Now()}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Choose(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEvictionPlan8GPUs100Models is ChooseGPU with eviction when nothing fits: 8 full GPUs
// with 100 loaded models each (0.75 GiB apiece, varied recency), a 20 GiB model, the LRU default
// estimate (target <= 10 µs/op).
func BenchmarkEvictionPlan8GPUs100Models(b *testing.B) {
	clock := newFakeClock()
	now := clock.Now()
	a := gpu.NewAllocator(openStatic(b, clock, 1, 1, 1, 1, 1, 1, 1, 1), gpu.AllocatorConfig{HeadroomBytes: GiB, Clock: clock.Now})
	res := make(map[string][]gpu.Resident, 8)
	for g := range 8 {
		rs := make([]gpu.Resident, 100)
		for k := range rs {
			rs[k] = gpu.Resident{
				Model: fmt.Sprintf("m-%d-%d", g, k), Gateway: "gw", MemoryBytes: 3 * GiB / 4, State: gpu.ResidentLoaded,
				LastRequest: now.Add(-time.Duration((k*37+g*11)%600) * time.Second),
				Pinned:      k%10 == 0, InFlight: int64(k % 7 / 6),
			}
		}
		res[gpu.StaticUUID(g)] = rs
	}
	req := gpu.Request{Model: "new", RequiredBytes: 3 * GiB / 2, AllowEviction: true, Residents: res, Now: now}
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		p, err := a.Choose(req)
		if err != nil || len(p.Evictions) == 0 {
			b.Fatal(err)
		}
	}
}
