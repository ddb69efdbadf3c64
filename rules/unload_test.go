package rules_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/rules"
)

func TestShouldUnload(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{
		EvictAfterIdle: rules.DefaultEvictAfterIdle,
		MinQPS:         rules.DefaultMinQPS,
		AlwaysLoaded:   []string{"critical-model-v1"},
		KeepAlive: map[string]rules.KeepAlive{
			"embedder":  {Forever: true},
			"scratch":   {After: 0},
			"long-tail": {After: 10 * time.Minute},
			// always_loaded wins over a keep-alive duration.
			"critical-model-v1": {After: time.Second},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		in         rules.UnloadInput
		wantUnload bool
		wantRule   string
		wantReason []string
	}{
		{"pinned model idle for an hour is never unloaded (the seed's bug)",
			rules.UnloadInput{Model: "critical-model-v1", IdleSeconds: 3600}, false, rules.UnloadRulePinned,
			[]string{`"critical-model-v1" is in always_loaded`, "3600 s"}},
		{"keep-alive forever pins a model",
			rules.UnloadInput{Model: "embedder", IdleSeconds: 86400}, false, rules.UnloadRulePinned,
			[]string{"keep_alive of forever", "86400 s"}},
		{"requests in flight keep an idle model",
			rules.UnloadInput{Model: "llama", IdleSeconds: 1000, InFlight: 3}, false, rules.UnloadRuleInFlight,
			[]string{"3 requests in flight"}},
		{"pinned is checked before in flight",
			rules.UnloadInput{Model: "embedder", InFlight: 3}, false, rules.UnloadRulePinned, nil},
		{"idle past evict_after_idle and below min_qps is unloaded",
			rules.UnloadInput{Model: "llama", IdleSeconds: 301, QPS: 0}, true, rules.UnloadRuleIdle,
			[]string{"idle for 301 s", "longer than the 300 s of evict_after_idle", "0.00 QPS, below min_qps 0.1", "should be unloaded"}},
		{"idle exactly the threshold is kept",
			rules.UnloadInput{Model: "llama", IdleSeconds: 300}, false, rules.UnloadRuleRecentlyUsed,
			[]string{"idle for 300 s, not longer than the 300 s of evict_after_idle"}},
		{"a model loaded a moment ago is kept",
			rules.UnloadInput{Model: "llama", IdleSeconds: 0.5}, false, rules.UnloadRuleRecentlyUsed,
			[]string{"idle for 0.5 s"}},
		{"idle but still at min_qps is busy",
			rules.UnloadInput{Model: "llama", IdleSeconds: 400, QPS: 0.1}, false, rules.UnloadRuleBusy,
			[]string{"0.10 QPS, at least min_qps 0.1"}},
		{"keep-alive overrides evict_after_idle upwards",
			rules.UnloadInput{Model: "long-tail", IdleSeconds: 400}, false, rules.UnloadRuleRecentlyUsed,
			[]string{"600 s of its keep_alive"}},
		{"keep-alive duration still unloads once passed",
			rules.UnloadInput{Model: "long-tail", IdleSeconds: 601}, true, rules.UnloadRuleIdle,
			[]string{"600 s of its keep_alive"}},
		{"keep-alive 0 unloads as soon as idle",
			rules.UnloadInput{Model: "scratch", IdleSeconds: 0.2}, true, rules.UnloadRuleIdle,
			[]string{"0 s of its keep_alive"}},
		{"keep-alive 0 keeps a model that is not idle at all",
			rules.UnloadInput{Model: "scratch", IdleSeconds: 0}, false, rules.UnloadRuleRecentlyUsed, nil},
		{"keep-alive 0 keeps a model with requests in flight",
			rules.UnloadInput{Model: "scratch", IdleSeconds: 5, InFlight: 1}, false, rules.UnloadRuleInFlight, nil},
		{"a NaN QPS past the threshold keeps the model, not unloads it",
			rules.UnloadInput{Model: "llama", IdleSeconds: 400, QPS: math.NaN()}, false, rules.UnloadRuleUnknown,
			[]string{"idle time of 400 s and NaN QPS", "stays loaded"}},
		{"a NaN idle time keeps the model",
			rules.UnloadInput{Model: "llama", IdleSeconds: math.NaN(), QPS: 0}, false, rules.UnloadRuleUnknown,
			[]string{"idle time of NaN s and 0.00 QPS"}},
		{"a negative QPS keeps the model",
			rules.UnloadInput{Model: "llama", IdleSeconds: 400, QPS: -1}, false, rules.UnloadRuleUnknown, nil},
		{"keep-alive 0 does not unload on a NaN idle time",
			rules.UnloadInput{Model: "scratch", IdleSeconds: math.NaN()}, false, rules.UnloadRuleUnknown, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policy.ShouldUnload(tt.in)
			if d.Unload != tt.wantUnload || d.Rule != tt.wantRule {
				t.Fatalf("ShouldUnload(%+v) = unload %v by %q, want unload %v by %q", tt.in, d.Unload, d.Rule, tt.wantUnload, tt.wantRule)
			}
			if unload, rule := policy.Decide(tt.in); unload != tt.wantUnload || rule != tt.wantRule {
				t.Errorf("Decide(%+v) = unload %v by %q, want what ShouldUnload says", tt.in, unload, rule)
			}
			reason := d.Reason()
			for _, want := range tt.wantReason {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q lacks %q", reason, want)
				}
			}
			if strings.Count(reason, ".") > 3 || strings.Contains(reason, "\n") {
				t.Errorf("reason %q is not one sentence", reason)
			}
		})
	}
}

func TestUnloadRulesListsEveryRule(t *testing.T) {
	for _, r := range []string{rules.UnloadRulePinned, rules.UnloadRuleInFlight, rules.UnloadRuleUnknown,
		rules.UnloadRuleIdle, rules.UnloadRuleRecentlyUsed, rules.UnloadRuleBusy} {
		if !slices.Contains(rules.UnloadRules, r) {
			t.Errorf("UnloadRules %v lacks %q", rules.UnloadRules, r)
		}
	}
}

func TestNewUnloadPolicy(t *testing.T) {
	if p := rules.DefaultUnloadPolicy(); p.EvictAfterIdle != rules.DefaultEvictAfterIdle || p.MinQPS != rules.DefaultMinQPS {
		t.Errorf("default policy has %s and %v, want the seed's 300 s and 0.1", p.EvictAfterIdle, p.MinQPS)
	}
	// Zero is a value, not "the default": evict_after_idle_seconds: 0 unloads as soon as idle.
	zero, err := rules.NewUnloadPolicy(rules.UnloadPolicy{MinQPS: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if d := zero.ShouldUnload(rules.UnloadInput{Model: "m", IdleSeconds: 1}); !d.Unload {
		t.Errorf("evict_after_idle 0: a model idle for 1 s must be unloaded, got %s", d.Reason())
	}
	for _, tt := range []struct {
		name string
		p    rules.UnloadPolicy
		want string
	}{
		{"negative evict_after_idle", rules.UnloadPolicy{EvictAfterIdle: -time.Second}, "evict_after_idle -1s is negative"},
		{"negative min_qps", rules.UnloadPolicy{MinQPS: -1}, "min_qps -1"},
		{"negative keep-alive", rules.UnloadPolicy{KeepAlive: map[string]rules.KeepAlive{"m": {After: -time.Second}}}, `keep_alive of "m"`},
		{"empty always_loaded entry", rules.UnloadPolicy{AlwaysLoaded: []string{""}}, "always_loaded[0] is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.NewUnloadPolicy(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestUnloadPolicyPinned(t *testing.T) {
	p, _ := rules.NewUnloadPolicy(rules.UnloadPolicy{AlwaysLoaded: []string{"a"}, KeepAlive: map[string]rules.KeepAlive{"b": {Forever: true}, "c": {After: time.Minute}}})
	for name, want := range map[string]bool{"a": true, "b": true, "c": false, "d": false} {
		if got := p.Pinned(name); got != want {
			t.Errorf("Pinned(%q) = %v, want %v", name, got, want)
		}
	}
}

func BenchmarkShouldUnload(b *testing.B) {
	p, err := rules.NewUnloadPolicy(rules.UnloadPolicy{
		EvictAfterIdle: rules.DefaultEvictAfterIdle,
		MinQPS:         rules.DefaultMinQPS,
		AlwaysLoaded:   []string{"critical-model-v1", "embedder-v2", "reranker"},
		KeepAlive:      map[string]rules.KeepAlive{"long-tail": {After: 10 * time.Minute}, "scratch": {}},
	})
	if err != nil {
		b.Fatal(err)
	}
	in := rules.UnloadInput{Model: "meta-llama/Llama-3.1-8B-Instruct", IdleSeconds: 412, QPS: 0.02}
	b.ReportAllocs()
	for b.Loop() {
		if d := p.ShouldUnload(in); !d.Unload {
			b.Fatal("want unload")
		}
	}
}

func BenchmarkUnloadReason(b *testing.B) {
	p := rules.DefaultUnloadPolicy()
	d := p.ShouldUnload(rules.UnloadInput{Model: "llama", IdleSeconds: 412, QPS: 0.02})
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Reason()
	}
}
