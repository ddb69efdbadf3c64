package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelium/brain/internal/config"
)

// The file-by-file tests of loading and validation are in cmd/brain (config_test.go), beside the
// daemon's flags; these pin what the replay takes from the package.
func TestCompiledSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "brain.yaml")
	yaml := "orchestration:\n  decision_interval_seconds: 2.5\n  policies:\n    evict_after_idle_seconds: 60\n    always_loaded: [llama]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		path        string
		interval    time.Duration
		evict       time.Duration
		llamaPinned bool
	}{
		{"embedded defaults", "", 10 * time.Second, 300 * time.Second, false},
		{"a file laid over them", path, 2500 * time.Millisecond, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := cfg.UnloadPolicy()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DecisionInterval() != tt.interval || p.EvictAfterIdle != tt.evict || p.Pinned("llama") != tt.llamaPinned {
				t.Errorf("interval %s, evict after %s, llama pinned %v; want %s, %s, %v",
					cfg.DecisionInterval(), p.EvictAfterIdle, p.Pinned("llama"), tt.interval, tt.evict, tt.llamaPinned)
			}
		})
	}
}
