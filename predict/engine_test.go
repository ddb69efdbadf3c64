package predict_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// gatewaySim is a gateway on a fake clock that does what the engine recommends, through the
// tracker, as the replay and the reference gateways do.
type gatewaySim struct {
	t       *testing.T
	now     time.Time
	tracker *metrics.Tracker
	engine  *recommend.Engine
	loaded  map[string]bool
}

func newGatewaySim(t *testing.T, p recommend.Policy) *gatewaySim {
	g := &gatewaySim{t: t, now: t0, loaded: map[string]bool{}}
	g.tracker = metrics.NewTracker(metrics.Config{Now: func() time.Time { return g.now }})
	g.engine = recommend.New(recommend.Config{Tracker: g.tracker, Policy: p})
	return g
}

func (g *gatewaySim) state(model string, states ...metrics.State) {
	for _, s := range states {
		if _, err := g.tracker.ReportState(metrics.StateReport{Gateway: gw, Model: model, State: s, Runtime: "vllm", GPUUUID: "GPU-0"}); err != nil {
			g.t.Fatal(err)
		}
	}
	g.loaded[model] = states[len(states)-1] == metrics.StateLoaded
}

// request serves one request at now (loading the model first if it is not loaded: a cold start).
func (g *gatewaySim) request(model string) (cold bool) {
	if !g.loaded[model] {
		cold = true
		g.state(model, metrics.StateLoading, metrics.StateLoaded)
	}
	err := g.tracker.ReportTraffic(gw, []metrics.Sample{{Model: model, Start: g.now.Add(-time.Second), End: g.now, Requests: 1}})
	if err != nil {
		g.t.Fatal(err)
	}
	return cold
}

// cycle runs one engine cycle and carries out the recommendations it opened.
func (g *gatewaySim) cycle() []*recommend.Event {
	res := g.engine.Evaluate(g.now)
	evs := append([]*recommend.Event(nil), res.Events...)
	for _, ev := range evs {
		switch {
		case ev.Withdrawn:
		case ev.Rec.Kind == recommend.Unload && g.loaded[ev.Rec.Model]:
			g.state(ev.Rec.Model, metrics.StateUnloading, metrics.StateUnloaded)
		case ev.Rec.Kind == recommend.Load && !g.loaded[ev.Rec.Model]:
			g.state(ev.Rec.Model, metrics.StateLoading, metrics.StateLoaded)
		}
	}
	return evs
}

func TestEnginePolicyPrewarmsAPeriodicModel(t *testing.T) {
	p, _ := predict.New(predict.Config{})
	g := newGatewaySim(t, predict.NewEnginePolicy(p, rules.DefaultUnloadPolicy()))
	var colds []int
	var loads, unloads []*recommend.Event
	// A timer every 10 minutes for three hours; cycles every 10 s; requests at second 30.
	for s := 0; s < 3*3600; s += 10 {
		g.now = t0.Add(time.Duration(s) * time.Second)
		if s%600 == 30 && g.request("timer") {
			colds = append(colds, s/60)
		}
		for _, ev := range g.cycle() {
			if ev.Withdrawn {
				continue
			}
			if ev.Rec.Kind == recommend.Load {
				loads = append(loads, ev)
			} else {
				unloads = append(unloads, ev)
			}
		}
	}
	// Cold at 0 (never seen) and at 10 (one gap: the fixed keep-alive unloaded it after 5
	// minutes idle); from then on each request finds the model pre-warmed.
	if len(colds) > 3 {
		t.Errorf("cold starts at minutes %v: want only the first ones, while the rhythm is learnt", colds)
	}
	if len(loads) < 14 {
		t.Fatalf("%d load recommendations, want one before each of the last 14 or more requests", len(loads))
	}
	last := loads[len(loads)-1]
	rec := last.Rec
	// The last pre-warm comes in minute 179, expecting the request of minute 180 (past the loop).
	if want := t0.Add(179 * time.Minute); rec.Time.Before(want) || !rec.Time.Before(want.Add(time.Minute)) {
		t.Errorf("last pre-warm at %s, want in the minute starting %s", rec.Time.Format(time.TimeOnly), want.Format(time.TimeOnly))
	}
	if want := t0.Add(180 * time.Minute); !rec.NextRequest.Equal(want) || rec.Confidence < 0.5 {
		t.Errorf("next request %s with confidence %v, want %s and at least 0.5", rec.NextRequest.Format(time.TimeOnly), rec.Confidence, want.Format(time.TimeOnly))
	}
	if rec.Rule != predict.RulePrewarm || rec.GPUUUID != "GPU-0" || rec.Runtime != "vllm" {
		t.Errorf("rule %s, gpu %s, runtime %s: want prewarm on the last GPU and runtime", rec.Rule, rec.GPUUUID, rec.Runtime)
	}
	if !strings.Contains(rec.Reason, "2026-11-29T15:00Z") || !strings.Contains(rec.Reason, "pre-warm") {
		t.Errorf("reason %q does not give the expected minute and the pre-warm", rec.Reason)
	}
	u := unloads[len(unloads)-1].Rec
	if u.Rule != predict.RulePredictedIdle || !strings.Contains(u.Reason, "should be unloaded") {
		t.Errorf("last unload: rule %s, reason %q", u.Rule, u.Reason)
	}
}

func TestEnginePolicyLetsPinnedModelsBe(t *testing.T) {
	fixed, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: time.Minute, MinQPS: 0.1, AlwaysLoaded: []string{"pinned"}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := predict.New(predict.Config{})
	g := newGatewaySim(t, predict.NewEnginePolicy(p, fixed))
	for s := 0; s < 3600; s += 10 {
		g.now = t0.Add(time.Duration(s) * time.Second)
		if s%600 == 30 {
			g.request("pinned")
		}
		for _, ev := range g.cycle() {
			if !ev.Withdrawn && ev.Rec.Kind == recommend.Unload {
				t.Fatalf("a pinned model was recommended for unloading: %s", ev.Rec.Reason)
			}
		}
	}
	pair := &recommend.Pair{Model: "pinned", Gateway: gw, State: metrics.StateLoaded, IdleSeconds: 500, Now: g.now}
	pol := predict.NewEnginePolicy(p, fixed)
	d := pol.Decide(pair)
	if d.Act || d.Rule != rules.UnloadRulePinned || d.Cause != recommend.CausePinned || !strings.Contains(pol.Reason(pair, d), "always_loaded") {
		t.Errorf("decision %+v, reason %q: want kept by the pinned rule", d, pol.Reason(pair, d))
	}
}

func TestEnginePolicyDecidesWithoutAllocating(t *testing.T) {
	p := periodic(t, 10, 12)
	pol := predict.NewEnginePolicy(p, rules.DefaultUnloadPolicy())
	pair := &recommend.Pair{Model: "timer", Gateway: gw, State: metrics.StateUnloaded, LastRequest: minute(110).Add(59 * time.Second), Now: minute(119)}
	if d := pol.Decide(pair); !d.Act || d.Rule != predict.RulePrewarm {
		t.Fatalf("decision %+v, want a pre-warm", d)
	}
	if n := testing.AllocsPerRun(100, func() { pol.Decide(pair) }); n != 0 {
		t.Errorf("Decide: %v allocations", n)
	}
}
