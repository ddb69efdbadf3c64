//go:build !cgo

package gpu

import (
	"fmt"
	"log/slog"
)

// openNVML: go-nvml needs cgo, so a CGO_ENABLED=0 build has no nvml backend.
func openNVML(Config, *slog.Logger) (Inventory, error) {
	return nil, fmt.Errorf("%w: built without cgo", ErrNVMLUnavailable)
}
