package gpu_test

import (
	"strings"
	"testing"

	"github.com/modelium/brain/gpu"
)

func TestStrategyByName(t *testing.T) {
	tests := []struct {
		name    string
		want    gpu.Strategy
		wantErr string
	}{
		{name: "most_free", want: gpu.MostFree{}},
		{name: "best_fit", want: gpu.BestFit{}},
		{name: "least_free", wantErr: `unknown placement strategy "least_free": allowed values are most_free, best_fit`},
		{name: "", wantErr: "allowed values are most_free, best_fit"},
		{name: "MOST_FREE", wantErr: "allowed values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gpu.StrategyByName(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("StrategyByName(%q) error = %v, want it to contain %q", tt.name, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("StrategyByName(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
			}
			if got.Name() != tt.name {
				t.Errorf("Name() = %q, want %q", got.Name(), tt.name)
			}
		})
	}
}

func TestDefaultStrategyIsMostFree(t *testing.T) {
	if gpu.DefaultStrategy.Name() != "most_free" || gpu.Strategies()[0] != gpu.DefaultStrategy {
		t.Fatalf("default strategy = %s, want most_free listed first", gpu.DefaultStrategy.Name())
	}
}
