package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/rules"
)

// ruleNames lists the table's rule names (and the fallback), the label values of decisions.
func ruleNames(t *rules.Table) []string {
	names := []string{rules.FallbackRule}
	for _, r := range t.Rules() {
		names = append(names, r.Name)
	}
	return names
}

// gpuInventory opens the configured GPU backend and the placement settings.
func gpuInventory(c *config.Config, log *slog.Logger) (gpu.Inventory, gpu.AllocatorConfig, error) {
	inv, err := gpu.Open(gpu.Config{
		Backend:         c.GPU.Backend,
		Devices:         c.GPU.Devices,
		RefreshInterval: time.Duration(c.GPU.RefreshInterval),
		MaxSnapshotAge:  time.Duration(c.GPU.MaxSnapshotAge),
	}, log)
	if err != nil {
		return nil, gpu.AllocatorConfig{}, fmt.Errorf("gpu.backend %s: %w", c.GPU.Backend, err)
	}
	strategy, err := gpu.StrategyByName(c.GPU.Strategy)
	if err != nil {
		inv.Close()
		return nil, gpu.AllocatorConfig{}, fmt.Errorf("gpu.strategy: %w", err)
	}
	return inv, gpu.AllocatorConfig{
		HeadroomBytes:  c.GPU.HeadroomBytes,
		Strategy:       strategy,
		ReservationTTL: time.Duration(c.GPU.ReservationTTL),
	}, nil
}

// gpuStrategyNames are the label values of GPU decisions.
func gpuStrategyNames() []string {
	var names []string
	for _, s := range gpu.Strategies() {
		names = append(names, s.Name())
	}
	return names
}

// maxModelSeries maps metrics.max_model_series to the recorder's setting, where 0 means its
// default: in the configuration 0 means no per-model series, like metrics.port: 0 means off.
func maxModelSeries(c *config.Config) int {
	if c.Metrics.MaxModelSeries == 0 {
		return -1
	}
	return c.Metrics.MaxModelSeries
}

// validateAddr checks a listen address such as ":50051" or "127.0.0.1:0".
func validateAddr(flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port, e.g. :50051 or 127.0.0.1:50051: %w", flag, addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", flag, addr, port)
	}
	return nil
}
