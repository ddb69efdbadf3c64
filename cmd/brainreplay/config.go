package main

import (
	"github.com/modelium/brain/internal/config"
)

// loadSettings reads the brain's configuration file (empty: the embedded defaults) with the
// daemon's own code, so that the replay runs the daemon's policy, thresholds and decision interval.
func loadSettings(path string) (*settings, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	unload, err := cfg.UnloadPolicy()
	if err != nil {
		return nil, err
	}
	return &settings{policy: cfg.Orchestration.Policies.KeepAlivePolicy, unload: unload, interval: cfg.DecisionInterval(), devices: cfg.GPU.Devices, headroom: cfg.GPU.HeadroomBytes}, nil
}
