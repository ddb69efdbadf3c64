package rules_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/rules"
)

// TestUnloadDecisionBoundaries walks every comparison of the unload decision across its edge, one
// step on each side: the idle threshold (evict_after_idle and a keep_alive), min_qps and in-flight
// requests. The decision is a switch, whose conditions the mutation tool does not mutate; this
// table is what holds them.
func TestUnloadDecisionBoundaries(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{
		EvictAfterIdle: 300 * time.Second,
		MinQPS:         0.25,
		KeepAlive:      map[string]rules.KeepAlive{"long": {After: 600 * time.Second}, "none": {After: 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const eps = 1e-9
	tests := []struct {
		name string
		in   rules.UnloadInput
		rule string
	}{
		{"idle exactly evict_after_idle is recently used", rules.UnloadInput{Model: "m", IdleSeconds: 300}, rules.UnloadRuleRecentlyUsed},
		{"idle just past evict_after_idle is idle", rules.UnloadInput{Model: "m", IdleSeconds: 300 + 1e-6}, rules.UnloadRuleIdle},
		{"idle just under evict_after_idle is recently used", rules.UnloadInput{Model: "m", IdleSeconds: 300 - 1e-6}, rules.UnloadRuleRecentlyUsed},
		{"idle exactly a keep_alive is recently used", rules.UnloadInput{Model: "long", IdleSeconds: 600}, rules.UnloadRuleRecentlyUsed},
		{"idle just past a keep_alive is idle", rules.UnloadInput{Model: "long", IdleSeconds: 600 + 1e-6}, rules.UnloadRuleIdle},
		{"a keep_alive of 0 keeps a model idle for 0 s", rules.UnloadInput{Model: "none", IdleSeconds: 0}, rules.UnloadRuleRecentlyUsed},
		{"a keep_alive of 0 unloads a model idle for any time", rules.UnloadInput{Model: "none", IdleSeconds: 1e-6}, rules.UnloadRuleIdle},
		{"QPS exactly min_qps is busy", rules.UnloadInput{Model: "m", IdleSeconds: 301, QPS: 0.25}, rules.UnloadRuleBusy},
		{"QPS just under min_qps is idle", rules.UnloadInput{Model: "m", IdleSeconds: 301, QPS: 0.25 - eps}, rules.UnloadRuleIdle},
		{"one request in flight keeps the model", rules.UnloadInput{Model: "m", IdleSeconds: 301, InFlight: 1}, rules.UnloadRuleInFlight},
		{"no request in flight does not", rules.UnloadInput{Model: "m", IdleSeconds: 301, InFlight: 0}, rules.UnloadRuleIdle},
		{"idle time 0 is known", rules.UnloadInput{Model: "m", IdleSeconds: 0}, rules.UnloadRuleRecentlyUsed},
		{"QPS 0 is known", rules.UnloadInput{Model: "m", IdleSeconds: 301, QPS: 0}, rules.UnloadRuleIdle},
		{"a negative idle time is unknown", rules.UnloadInput{Model: "m", IdleSeconds: -eps}, rules.UnloadRuleUnknown},
		{"a negative QPS is unknown", rules.UnloadInput{Model: "m", IdleSeconds: 301, QPS: -eps}, rules.UnloadRuleUnknown},
		{"an infinite idle time is idle", rules.UnloadInput{Model: "m", IdleSeconds: math.Inf(1)}, rules.UnloadRuleIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policy.ShouldUnload(tt.in)
			if d.Rule != tt.rule || d.Unload != (tt.rule == rules.UnloadRuleIdle) {
				t.Errorf("ShouldUnload(%+v) = %s (unload %v); want %s", tt.in, d.Rule, d.Unload, tt.rule)
			}
		})
	}
}

func TestUnloadReasonNumbers(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: 300 * time.Second, MinQPS: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	d := policy.ShouldUnload(rules.UnloadInput{Model: "m", IdleSeconds: 312, QPS: 0.125})
	want := `"m" has been idle for 312 s, longer than the 300 s of evict_after_idle, and gets 0.12 QPS, below min_qps 0.25, so it should be unloaded`
	if got := d.Reason(); got != want {
		t.Errorf("Reason() = %q; want %q (min_qps in full, whole seconds without a decimal)", got, want)
	}
}

func TestUnloadPolicyWithMoreKeepAlivesThanPins(t *testing.T) {
	p, err := rules.NewUnloadPolicy(rules.UnloadPolicy{KeepAlive: map[string]rules.KeepAlive{"a": {Forever: true}, "b": {After: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Pinned("a") || p.Pinned("b") {
		t.Errorf("Pinned(a), Pinned(b) = %v, %v; want true, false", p.Pinned("a"), p.Pinned("b"))
	}
}

func TestEmptyTableErrorNamesTheTable(t *testing.T) {
	_, err := rules.NewTable(nil)
	var re *rules.RuleError
	if !errors.As(err, &re) || re.Index != -1 || !strings.HasPrefix(err.Error(), "rule table: no rules") {
		t.Fatalf("NewTable(nil) = %v; want a RuleError of the whole table (index -1)", err)
	}
}
