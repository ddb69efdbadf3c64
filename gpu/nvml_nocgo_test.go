//go:build !cgo

package gpu_test

import (
	"errors"
	"testing"

	"github.com/modelium/brain/gpu"
)

func TestWithoutCgoNVMLIsUnavailable(t *testing.T) {
	_, err := gpu.Open(gpu.Config{Backend: gpu.BackendNVML}, nil)
	if !errors.Is(err, gpu.ErrNVMLUnavailable) || err.Error() != "open GPU backend nvml: NVML unavailable: built without cgo" {
		t.Fatalf("Open nvml = %v, want NVML unavailable: built without cgo", err)
	}
	inv, err := gpu.Open(gpu.Config{Backend: gpu.BackendAuto}, nil)
	if err != nil || inv.Backend() != gpu.BackendNone {
		t.Fatalf("Open auto = %v, %v; want the none backend", inv, err)
	}
}
