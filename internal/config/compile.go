package config

import (
	"fmt"
	"time"

	"github.com/modelium/brain/rules"
)

// RuntimeTable builds the runtime rule table: the configured runtime_rules, or the default table.
func (c *Config) RuntimeTable() (*rules.Table, error) {
	if len(c.RuntimeRules) == 0 {
		return rules.DefaultTable(), nil
	}
	t, err := rules.NewTable(c.RuntimeRules)
	if err != nil {
		return nil, fmt.Errorf("runtime_rules: %w", err)
	}
	return t, nil
}

// Enabled is the set of runtimes the table may choose.
func (c *Config) Enabled() rules.Enabled {
	return rules.Enabled{VLLM: c.VLLM.Enabled, Ray: c.RayServe.Enabled, Triton: c.Triton.Enabled}
}

// UnloadPolicy compiles orchestration.policies.
func (c *Config) UnloadPolicy() (*rules.UnloadPolicy, error) {
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

// DecisionInterval is orchestration.decision_interval_seconds as a duration.
func (c *Config) DecisionInterval() time.Duration {
	return time.Duration(c.Orchestration.DecisionIntervalSeconds * float64(time.Second))
}
