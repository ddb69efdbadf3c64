package main

import (
	"fmt"

	"github.com/modelium/brain/rules"
)

// runtimeTable builds the runtime rule table: the configured runtime_rules, or the default table.
func (c *Config) runtimeTable() (*rules.Table, error) {
	if len(c.RuntimeRules) == 0 {
		return rules.DefaultTable(), nil
	}
	rs := make([]rules.Rule, len(c.RuntimeRules))
	for i, r := range c.RuntimeRules {
		rs[i] = rules.Rule{Name: r.Name, Runtime: r.Runtime, Description: r.Description, Match: rules.Match{
			Architectures: r.Match.Architectures,
			ModelTypes:    r.Match.ModelTypes,
			Names:         r.Match.Names,
			Formats:       r.Match.Formats,
			Tasks:         r.Match.Tasks,
			Any:           r.Match.Any,
		}}
	}
	t, err := rules.NewTable(rs)
	if err != nil {
		return nil, fmt.Errorf("runtime_rules: %w", err)
	}
	return t, nil
}

// rulesConfig is the table as the configuration file writes it, for --print-config.
func rulesConfig(t *rules.Table) []RuleConfig {
	var out []RuleConfig
	for _, r := range t.Rules() {
		out = append(out, RuleConfig{Name: r.Name, Runtime: r.Runtime, Description: r.Description, Match: MatchConfig{
			Architectures: r.Match.Architectures,
			ModelTypes:    r.Match.ModelTypes,
			Names:         r.Match.Names,
			Formats:       r.Match.Formats,
			Tasks:         r.Match.Tasks,
			Any:           r.Match.Any,
		}})
	}
	return out
}

// enabled is the set of runtimes the table may choose.
func (c *Config) enabled() rules.Enabled {
	return rules.Enabled{VLLM: c.VLLM.Enabled, Ray: c.RayServe.Enabled, Triton: c.Triton.Enabled}
}
