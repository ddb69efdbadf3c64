package main

import (
	"errors"
	"time"

	"github.com/modelium/brain/rules"
)

// loadSettings reads the brain's configuration file (empty: the embedded defaults).
//
// STAND-IN until the daemon's config loading moves to an importable package.
func loadSettings(path string) (*settings, error) {
	if path != "" {
		return nil, errors.New("--config is not wired yet")
	}
	return &settings{policy: policyFixed, unload: rules.DefaultUnloadPolicy(), interval: 10 * time.Second}, nil
}
