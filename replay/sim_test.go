package replay_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/replay"
	"github.com/modelium/brain/rules"
)

// fixed is the brain's fixed policy with a keep-alive of t and the default min_qps.
func fixed(t testing.TB, keepAlive time.Duration) recommend.Policy {
	t.Helper()
	p, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: keepAlive, MinQPS: rules.DefaultMinQPS})
	if err != nil {
		t.Fatal(err)
	}
	return recommend.NewFixedPolicy(p)
}

// trace builds a sampled-layout trace, one row per string of per-minute counts ("1 0 0 3").
func trace(t *testing.T, rows ...string) *replay.Trace {
	t.Helper()
	minutes := len(strings.Fields(rows[0]))
	var b strings.Builder
	b.WriteString("HashFunction,HashApp,HashOwner")
	for m := 1; m <= minutes; m++ {
		fmt.Fprintf(&b, ",minute_%d", m)
	}
	for i, r := range rows {
		fmt.Fprintf(&b, "\nf%d,app%d,o,%s", i+1, i+1, strings.Join(strings.Fields(r), ","))
	}
	tr, err := replay.ReadTrace("t.csv", strings.NewReader(b.String()), replay.Rows{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func run(t *testing.T, tr *replay.Trace, cfg replay.Config) *replay.Result {
	t.Helper()
	if cfg.DecisionInterval == 0 {
		cfg.DecisionInterval = 10 * time.Second
	}
	r, err := replay.Run(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunFixedKeepAlive(t *testing.T) {
	tests := []struct {
		name       string
		row        string
		keepAlive  time.Duration
		cold, idle int64
		unloads    int64
	}{
		{"first request is a cold start; resident to the end of the trace", "1 0 0", 5 * time.Minute, 1, 2, 0},
		{"a model is never loaded before its first request", "0 0 4", 5 * time.Minute, 1, 0, 0},
		{"consecutive invocation minutes are warm", "1 1 1 1", time.Minute, 1, 0, 0},
		{"keep-alive of T: resident T minutes after the last request, then unloaded", "1 0 0 0 0", 2 * time.Minute, 1, 2, 1},
		{"a request T+1 minutes later finds the model still resident in minute a+T: warm", "1 0 0 1", 2 * time.Minute, 1, 2, 0},
		{"a request T+2 minutes later is a second cold start", "1 0 0 0 1", 2 * time.Minute, 2, 2, 1},
		{"a longer keep-alive saves that cold start and costs idle minutes", "1 0 0 0 1", 3 * time.Minute, 1, 3, 0},
		{"a model unloaded and loaded again", "2 0 0 0 0 0 3 0", time.Minute, 2, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, trace(t, tt.row), replay.Config{Policy: fixed(t, tt.keepAlive)})
			if r.ColdStarts != tt.cold || r.IdleModelMinutes != tt.idle || r.Unloads != tt.unloads || r.Loads != tt.cold {
				t.Errorf("%d cold starts, %d idle model-minutes, %d unloads, %d loads; want %d, %d, %d, %d",
					r.ColdStarts, r.IdleModelMinutes, r.Unloads, r.Loads, tt.cold, tt.idle, tt.unloads, tt.cold)
			}
		})
	}
}

func TestRunWeighsIdleByMemory(t *testing.T) {
	tr := trace(t, "1 0 0", "1 0 0", "1 0 0")
	mem := replay.Memory{"app1": 1024, "app2": 512} // app3 missing: counts 0 MB
	r := run(t, tr, replay.Config{Policy: fixed(t, 5*time.Minute), Memory: mem})
	if r.IdleModelMinutes != 6 || r.IdleMBMinutes != 2*1024+2*512 || r.ModelsWithoutMemory != 1 {
		t.Errorf("%d idle model-minutes, %g idle MB-minutes, %d models without memory; want 6, 3072, 1", r.IdleModelMinutes, r.IdleMBMinutes, r.ModelsWithoutMemory)
	}
	if want := 3072.0 / 1024 / 60; r.IdleGBHours != want {
		t.Errorf("idle GB-h %g, want %g", r.IdleGBHours, want)
	}
}

func TestRunFollowsThePolicy(t *testing.T) {
	tr := trace(t, "1 0 0 0 0 0 0 1")
	pinned, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: time.Minute, MinQPS: 0.1, AlwaysLoaded: []string{"f1"}})
	if err != nil {
		t.Fatal(err)
	}
	never, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: time.Minute, MinQPS: 0})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		policy     recommend.Policy
		cold, idle int64
	}{
		{"evict after 1 minute unloads between the requests", fixed(t, time.Minute), 2, 1},
		{"always_loaded keeps the model resident", recommend.NewFixedPolicy(pinned), 1, 6},
		{"min_qps 0 never unloads (no QPS is below 0)", recommend.NewFixedPolicy(never), 1, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tr, replay.Config{Policy: tt.policy})
			if r.ColdStarts != tt.cold || r.IdleModelMinutes != tt.idle {
				t.Errorf("%d cold starts, %d idle model-minutes; want %d, %d", r.ColdStarts, r.IdleModelMinutes, tt.cold, tt.idle)
			}
		})
	}
}

// reference computes DESIGN.md's figures for a fixed keep-alive of k minutes straight from the
// definitions, independently of the brain: after an invocation minute a the model is resident in
// a+1 ... a+k; a request in minute b is warm iff minute b-1 had a request or the model was resident
// in it.
func reference(tr *replay.Trace, k int, mem replay.Memory) (cold, idle int64, idleMB float64) {
	for _, m := range tr.Models {
		counts := make([]int64, tr.Minutes+1)
		for _, a := range m.Active {
			counts[a.Minute] = a.Count
		}
		last := -1 << 30
		resident := make([]bool, tr.Minutes+1)
		for b := 1; b <= tr.Minutes; b++ {
			resident[b] = b-last <= k
			if counts[b] > 0 {
				if !(b > 1 && (counts[b-1] > 0 || resident[b-1])) {
					cold++
				}
				last = b
			} else if resident[b] {
				idle++
				idleMB += mem[m.App]
			}
		}
	}
	return cold, idle, idleMB
}

func TestRunMatchesTheDefinitionsOnRandomTraces(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20 {
		rows := make([]string, 1+rng.IntN(8))
		mem := replay.Memory{}
		busy := rng.Float64()
		for i := range rows {
			c := make([]string, 120)
			for m := range c {
				c[m] = "0"
				if rng.Float64() < busy*busy {
					c[m] = fmt.Sprint(1 + rng.IntN(20))
				}
			}
			rows[i] = strings.Join(c, " ")
			mem[fmt.Sprintf("app%d", i+1)] = float64(rng.IntN(4000))
		}
		tr := trace(t, rows...)
		for _, k := range []int{1, 2, 3, 5, 10, 30} {
			t.Run(fmt.Sprintf("trace %d keep-alive %dm", n, k), func(t *testing.T) {
				r := run(t, tr, replay.Config{Policy: fixed(t, time.Duration(k)*time.Minute), Memory: mem})
				cold, idle, idleMB := reference(tr, k, mem)
				if r.ColdStarts != cold || r.IdleModelMinutes != idle || r.IdleMBMinutes != idleMB {
					t.Errorf("replay: %d cold starts, %d idle model-minutes, %g idle MB-minutes; the definitions: %d, %d, %g",
						r.ColdStarts, r.IdleModelMinutes, r.IdleMBMinutes, cold, idle, idleMB)
				}
				if r.WarmStarts+r.ColdStarts != tr.InvocationMinutes || r.ResidentModelMinutes != r.IdleModelMinutes+tr.InvocationMinutes {
					t.Errorf("%d warm + %d cold != %d invocation minutes, or %d resident != %d idle + invocation minutes",
						r.WarmStarts, r.ColdStarts, tr.InvocationMinutes, r.ResidentModelMinutes, r.IdleModelMinutes)
				}
			})
		}
	}
}

// prewarmPolicy is the fixed policy that also, at one instant, says to load an unloaded model,
// as the predictive policy will.
type prewarmPolicy struct {
	recommend.Policy
	at    time.Time
	model string
}

func (p *prewarmPolicy) Decide(pair *recommend.Pair) recommend.Decision {
	if pair.State == metrics.StateUnloaded && pair.Model == p.model && pair.Now.Equal(p.at) {
		return recommend.Decision{Act: true, Rule: "test_prewarm"}
	}
	return p.Policy.Decide(pair)
}

func (p *prewarmPolicy) Reason(pair *recommend.Pair, d recommend.Decision) string {
	if d.Rule == "test_prewarm" {
		return "the test says so"
	}
	return p.Policy.Reason(pair, d)
}

func TestRunCarriesOutLoadRecommendations(t *testing.T) {
	tr := trace(t, "1 0 0 0 0 0 0 0 1")
	tests := []struct {
		name    string
		minute  int // the minute whose first cycle pre-warms
		offset  time.Duration
		cold    int64
		prewarm int64
		idle    int64
	}{
		{"pre-warm at the start of the minute before the request: warm, one idle minute", 8, 0, 1, 1, 2},
		{"pre-warm later in the minute before: warm, not resident in it", 8, 30 * time.Second, 1, 1, 1},
		{"pre-warm at the start of the request's own minute: too late, still cold", 9, 0, 2, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := replay.AzureDay.Add(time.Duration(tt.minute-1)*time.Minute + tt.offset)
			r := run(t, tr, replay.Config{Policy: &prewarmPolicy{Policy: fixed(t, time.Minute), at: at, model: "f1"}})
			if r.ColdStarts != tt.cold || r.PrewarmLoads != tt.prewarm || r.Loads != tt.cold+tt.prewarm || r.IdleModelMinutes != tt.idle {
				t.Errorf("%d cold starts, %d pre-warm loads, %d loads, %d idle; want %d, %d, %d, %d",
					r.ColdStarts, r.PrewarmLoads, r.Loads, r.IdleModelMinutes, tt.cold, tt.prewarm, tt.cold+tt.prewarm, tt.idle)
			}
		})
	}
}

func TestRunRejectsANonPositiveInterval(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, 0} {
		_, err := replay.Run(trace(t, "1"), replay.Config{DecisionInterval: d})
		if want := "replay: decision interval " + d.String() + ": want a positive duration"; err == nil || err.Error() != want {
			t.Errorf("interval %v: error %v, want %q", d, err, want)
		}
	}
}

// The brain's cycle runs every decision interval from the start of the first minute to the end of
// the last: ceil(minutes / interval) cycles.
func TestRunCountsItsCycles(t *testing.T) {
	tr := trace(t, "1 0 0", "0 1 0")
	for _, tt := range []struct {
		interval time.Duration
		want     int64
	}{{10 * time.Second, 18}, {7 * time.Second, 26}, {time.Minute, 3}, {61 * time.Second, 3}, {time.Hour, 1}} {
		if r := run(t, tr, replay.Config{DecisionInterval: tt.interval}); r.Cycles != tt.want {
			t.Errorf("every %v over 3 minutes: %d cycles, want %d", tt.interval, r.Cycles, tt.want)
		}
	}
}
