//go:build cgo && !linux

package gpu

import (
	"fmt"
	"runtime"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

func systemNVML() (nvml.Interface, error) {
	return nil, fmt.Errorf("%w: not supported on %s", ErrNVMLUnavailable, runtime.GOOS)
}
