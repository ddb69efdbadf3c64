//go:build cgo && linux

package gpu

import "github.com/NVIDIA/go-nvml/pkg/nvml"

// systemNVML returns the host's NVML library (libnvidia-ml.so.1, loaded by Init).
func systemNVML() (nvml.Interface, error) { return nvml.New(), nil }
