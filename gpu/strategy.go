package gpu

import (
	"fmt"
	"strings"
)

// Candidate is a GPU on which the model fits, as a Strategy scores it.
type Candidate struct {
	// Device is the GPU; a Strategy must neither change nor keep it.
	Device *Device
	// AvailableBytes is the device's free memory minus the brain's reservations on it.
	AvailableBytes int64
	// FreeAfterBytes is AvailableBytes minus the model's bytes (headroom not subtracted).
	FreeAfterBytes int64
}

// Strategy ranks the GPUs a model fits on. The Allocator picks the highest score; equal scores go
// to the lowest index.
type Strategy interface {
	// Name is the value gpu.strategy and ChooseGPU use, and that a placement reports.
	Name() string
	// Score ranks one candidate; higher is better.
	Score(c Candidate) int64
}

// MostFree places the model on the GPU with the most available memory, spreading load: the
// seed's rule and the default.
type MostFree struct{}

// Name implements Strategy.
func (MostFree) Name() string { return "most_free" }

// Score implements Strategy.
func (MostFree) Score(c Candidate) int64 { return c.AvailableBytes }

// BestFit places the model on the GPU with the least memory left after placement, keeping large
// GPUs free for large models.
type BestFit struct{}

// Name implements Strategy.
func (BestFit) Name() string { return "best_fit" }

// Score implements Strategy.
func (BestFit) Score(c Candidate) int64 { return -c.FreeAfterBytes }

var (
	_ Strategy = MostFree{}
	_ Strategy = BestFit{}
)

// DefaultStrategy is used when neither the configuration nor the request names one.
var DefaultStrategy Strategy = MostFree{}

// Strategies lists every strategy, the default first.
func Strategies() []Strategy { return []Strategy{MostFree{}, BestFit{}} }

// StrategyByName returns the strategy called name, or an error listing the allowed names.
func StrategyByName(name string) (Strategy, error) {
	all := Strategies()
	names := make([]string, len(all))
	for i, s := range all {
		if s.Name() == name {
			return s, nil
		}
		names[i] = s.Name()
	}
	return nil, fmt.Errorf("unknown placement strategy %q: allowed values are %s", name, strings.Join(names, ", "))
}
