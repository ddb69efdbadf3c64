package predict_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/predict"
)

// TestConfigBounds walks each knob across the edges of its range: the edge itself is accepted,
// one step past it refused with the knob named.
func TestConfigBounds(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  predict.Config
		bad  string // "" when accepted
	}{
		{"a probability of exactly one is accepted", predict.Config{MinProbability: 1}, ""},
		{"a probability over one is refused", predict.Config{MinProbability: 1.0000001}, "min_probability"},
		{"a negative probability is refused", predict.Config{MinProbability: -0.1}, "min_probability"},
		{"a history of one gap is accepted", predict.Config{MinHistory: 1}, ""},
		{"a negative history is refused", predict.Config{MinHistory: -1}, "min_history"},
		{"the longest history is accepted", predict.Config{MinHistory: math.MaxUint16}, ""},
		{"one gap more than the longest history is refused", predict.Config{MinHistory: math.MaxUint16 + 1}, "min_history"},
		{"a step of one second is accepted", predict.Config{Step: time.Second}, ""},
		{"a step under a second is refused", predict.Config{Step: time.Second - 1}, "step"},
		{"a step of the default minute is accepted", predict.Config{Step: predict.DefaultStep}, ""},
		{"a step over the default is refused", predict.Config{Step: predict.DefaultStep + time.Second}, "step"},
		{"a step of a second and a half is refused", predict.Config{Step: 1500 * time.Millisecond}, "step"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := predict.New(tt.cfg)
			switch {
			case tt.bad == "" && err != nil:
				t.Fatalf("New(%+v) = %v, want accepted", tt.cfg, err)
			case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
				t.Fatalf("New(%+v) = %v, want an error naming %s", tt.cfg, err, tt.bad)
			}
		})
	}
}
