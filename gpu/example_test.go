package gpu_test

import (
	"errors"
	"fmt"

	"github.com/modelium/brain/gpu"
)

// Two declared GPUs; a 20 GiB model goes to the emptier one with most_free and to the tighter
// one with best_fit, and a reservation keeps a second placement from counting the same memory.
func Example() {
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendStatic, Devices: []gpu.StaticDevice{
		{Name: "A100 40GB", TotalBytes: 40 << 30, UsedBytes: 16 << 30},
		{Name: "H100 80GB", TotalBytes: 80 << 30, UsedBytes: 20 << 30},
	}}, nil)
	if err != nil {
		panic(err)
	}
	defer inv.Close()
	a := gpu.NewAllocator(inv, gpu.AllocatorConfig{HeadroomBytes: 1 << 30})

	for _, s := range gpu.Strategies() {
		p, _ := a.Choose(gpu.Request{Model: "llama-3-8b", RequiredBytes: 20 << 30, Strategy: s})
		fmt.Println(p.Reason())
	}

	p, _ := a.Choose(gpu.Request{Model: "llama-3-70b", RequiredBytes: 50 << 30, Reserve: true})
	fmt.Println("reserved on GPU", p.Device.Index)
	_, err = a.Choose(gpu.Request{Model: "mixtral", RequiredBytes: 30 << 30})
	fmt.Println(errors.Is(err, gpu.ErrNoFit), err)
	// Output:
	// GPU 1 (H100 80GB, static-GPU-1) chosen by most_free among 2 GPU(s) that fit: 60.0 GiB available, 20.0 GiB required + 1.0 GiB headroom, 40.0 GiB left after placement
	// GPU 0 (A100 40GB, static-GPU-0) chosen by best_fit among 2 GPU(s) that fit: 24.0 GiB available, 20.0 GiB required + 1.0 GiB headroom, 4.0 GiB left after placement
	// reserved on GPU 1
	// true no GPU fits 30.0 GiB + 1.0 GiB headroom: GPU 0 has 24.0 GiB available (24.0 GiB free - 0 B reserved), needs 30.0 GiB + 1.0 GiB headroom; GPU 1 has 10.0 GiB available (60.0 GiB free - 50.0 GiB reserved), needs 30.0 GiB + 1.0 GiB headroom
}
