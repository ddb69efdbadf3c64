package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/rules"
)

// runtimeTable builds the runtime rule table: the configured runtime_rules, or the default table.
func (c *Config) runtimeTable() (*rules.Table, error) {
	if len(c.RuntimeRules) == 0 {
		return rules.DefaultTable(), nil
	}
	t, err := rules.NewTable(c.RuntimeRules)
	if err != nil {
		return nil, fmt.Errorf("runtime_rules: %w", err)
	}
	return t, nil
}

// enabled is the set of runtimes the table may choose.
func (c *Config) enabled() rules.Enabled {
	return rules.Enabled{VLLM: c.VLLM.Enabled, Ray: c.RayServe.Enabled, Triton: c.Triton.Enabled}
}

// ruleNames lists the table's rule names (and the fallback), the label values of decisions.
func ruleNames(t *rules.Table) []string {
	names := []string{rules.FallbackRule}
	for _, r := range t.Rules() {
		names = append(names, r.Name)
	}
	return names
}

// gpuInventory opens the configured GPU backend and the placement settings.
func (c *Config) gpuInventory(log *slog.Logger) (gpu.Inventory, gpu.AllocatorConfig, error) {
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

// unloadPolicy compiles orchestration.policies.
func (c *Config) unloadPolicy() (*rules.UnloadPolicy, error) {
	p := c.Orchestration.Policies
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{
		EvictAfterIdle: time.Duration(p.EvictAfterIdleSeconds * float64(time.Second)),
		MinQPS:         p.MinQPS,
		AlwaysLoaded:   p.AlwaysLoaded,
		KeepAlive:      p.KeepAlive,
	})
	if err != nil {
		return nil, fmt.Errorf("orchestration.policies: %w", err)
	}
	return policy, nil
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
func (c *Config) maxModelSeries() int {
	if c.Metrics.MaxModelSeries == 0 {
		return -1
	}
	return c.Metrics.MaxModelSeries
}
