package recommend_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// clock is a fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// world is a tracker on a fake clock and an engine over it, with no sink.
type world struct {
	t       testing.TB
	clock   *clock
	tracker *metrics.Tracker
	engine  *recommend.Engine
}

func newWorld(t testing.TB, p recommend.Policy) *world {
	w := &world{t: t, clock: &clock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}}
	w.tracker = metrics.NewTracker(metrics.Config{Now: w.clock.Now})
	w.engine = recommend.New(recommend.Config{Tracker: w.tracker, Policy: p})
	return w
}

func (w *world) report(gateway, model, gpu string, s metrics.State) {
	w.t.Helper()
	if _, err := w.tracker.ReportState(metrics.StateReport{Gateway: gateway, Model: model, Runtime: "vllm", GPUUUID: gpu, State: s, MemoryBytes: 1 << 30}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) request(gateway, model string) {
	w.t.Helper()
	now := w.clock.Now()
	if err := w.tracker.ReportTraffic(gateway, []metrics.Sample{{Model: model, Start: now.Add(-time.Second), End: now, Requests: 1}}); err != nil {
		w.t.Fatal(err)
	}
}

// evaluate runs a cycle and describes its events, one per line: "seq kind action gw/model rule|cause".
func (w *world) evaluate() string {
	return describe(w.engine.Evaluate(w.clock.Now()).Events)
}

func describe(evs []*recommend.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		r := ev.Rec
		if ev.Withdrawn {
			fmt.Fprintf(&b, "%d %s withdrawn %s/%s %s\n", ev.Seq, r.Kind, r.Gateway, r.Model, ev.Cause)
		} else {
			fmt.Fprintf(&b, "%d %s recommended %s/%s %s\n", ev.Seq, r.Kind, r.Gateway, r.Model, r.Rule)
		}
	}
	return b.String()
}

// scripted is a test policy: it acts on the pairs named in act (by "state/model"), with rule
// "scripted" and a prediction one minute ahead, and withdraws with cause when set.
type scripted struct {
	mu    sync.Mutex
	act   map[string]bool
	cause recommend.Cause
}

func (s *scripted) set(state metrics.State, model string, act bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.act == nil {
		s.act = map[string]bool{}
	}
	s.act[state.String()+"/"+model] = act
}

func (s *scripted) Decide(p *recommend.Pair) recommend.Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return recommend.Decision{Act: s.act[p.State.String()+"/"+p.Model], Rule: "scripted", NextRequest: p.Now.Add(time.Minute), Confidence: 0.75, Cause: s.cause}
}

func (s *scripted) Reason(p *recommend.Pair, d recommend.Decision) string {
	return fmt.Sprintf("%q: scripted %v at idle %.0f s", p.Model, d.Act, p.IdleSeconds)
}

func TestEvaluateWithTheFixedPolicy(t *testing.T) {
	w := newWorld(t, nil)
	w.report("gw-1", "llama", "GPU-0", metrics.StateLoaded)
	w.report("gw-1", "bert", "GPU-1", metrics.StateLoaded)
	if got := w.evaluate(); got != "" {
		t.Errorf("a model just loaded: events %q, want none", got)
	}
	w.clock.Advance(301 * time.Second)
	w.request("gw-1", "bert")
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"an idle model is recommended for unloading once", func() {}, "1 unload recommended gw-1/llama idle\n"},
		{"a recommendation that still holds publishes nothing", func() {}, ""},
		{"traffic withdraws it", func() { w.request("gw-1", "llama") }, "2 unload withdrawn gw-1/llama traffic_resumed\n"},
		{"idle again, it is recommended again", func() { w.clock.Advance(301 * time.Second) }, "3 unload recommended gw-1/llama idle\n4 unload recommended gw-1/bert idle\n"},
		{"an unloaded model's recommendation is withdrawn", func() { w.report("gw-1", "llama", "", metrics.StateUnloaded) }, "5 unload withdrawn gw-1/llama model_unloaded\n"},
		{"the fixed policy never recommends a load", func() { w.clock.Advance(time.Hour) }, ""},
	}
	for _, s := range steps {
		s.do()
		if got := w.evaluate(); got != s.want {
			t.Errorf("%s: events\n%swant\n%s", s.name, got, s.want)
		}
	}
	if open := w.engine.Open(); len(open) != 1 || open[0].Model != "bert" || !strings.Contains(open[0].Reason, "longer than the 300 s of evict_after_idle") {
		t.Errorf("open recommendations %+v, want bert's with the idle rule's reason", open)
	}
}

func TestLoadRecommendations(t *testing.T) {
	p := &scripted{}
	w := newWorld(t, p)
	w.report("gw-1", "llama", "GPU-7", metrics.StateLoaded)
	w.report("gw-1", "llama", "", metrics.StateUnloaded) // an UNLOADED report names no GPU
	w.report("gw-1", "fresh", "", metrics.StateUnloaded) // never loaded, never requested: no history
	p.set(metrics.StateUnloaded, "fresh", true)
	if got := w.evaluate(); got != "" {
		t.Fatalf("pairs without history: events %q, want none", got)
	}
	p.set(metrics.StateUnloaded, "llama", true)
	res := w.engine.Evaluate(w.clock.Now())
	if got := describe(res.Events); got != "1 load recommended gw-1/llama scripted\n" || res.Unloaded != 1 {
		t.Fatalf("events %q after %d unloaded pairs, want llama's load", got, res.Unloaded)
	}
	r := res.Events[0].Rec
	now := w.clock.Now()
	if r.GPUUUID != "GPU-7" || r.Runtime != "vllm" || r.MemoryBytes != 1<<30 || !r.NextRequest.Equal(now.Add(time.Minute)) || r.Confidence != 0.75 || !r.Time.Equal(now) || !strings.Contains(r.Reason, "scripted true") {
		t.Errorf("load recommendation %+v: want the last GPU and runtime, the prediction and the reason", r)
	}

	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"the policy changing its mind withdraws it", func() { p.set(metrics.StateUnloaded, "llama", false) }, "2 load withdrawn gw-1/llama policy_changed\n"},
		{"it recommends again", func() { p.set(metrics.StateUnloaded, "llama", true) }, "3 load recommended gw-1/llama scripted\n"},
		{"traffic since the recommendation, then no: traffic resumed", func() {
			w.clock.Advance(time.Second)
			w.request("gw-1", "llama")
			p.set(metrics.StateUnloaded, "llama", false)
		}, "4 load withdrawn gw-1/llama traffic_resumed\n"},
		{"again", func() { p.set(metrics.StateUnloaded, "llama", true) }, "5 load recommended gw-1/llama scripted\n"},
		{"the model getting loaded withdraws it, and the loaded pair is asked about unloading", func() {
			w.report("gw-1", "llama", "GPU-7", metrics.StateLoading)
		}, "6 load withdrawn gw-1/llama model_loaded\n"},
		{"loaded and to be unloaded", func() {
			w.report("gw-1", "llama", "GPU-7", metrics.StateLoaded)
			p.set(metrics.StateLoaded, "llama", true)
		}, "7 unload recommended gw-1/llama scripted\n"},
		{"a cause given by the policy is used", func() {
			p.cause = recommend.CausePinned
			p.set(metrics.StateLoaded, "llama", false)
		}, "8 unload withdrawn gw-1/llama pinned\n"},
	}
	for _, s := range steps {
		s.do()
		if got := w.evaluate(); got != s.want {
			t.Errorf("%s: events\n%swant\n%s", s.name, got, s.want)
		}
	}
}

func TestRecommendAndWithdrawOutsideTheCycle(t *testing.T) {
	w := newWorld(t, nil) // the fixed policy keeps a model that was just used
	w.report("gw-1", "victim", "GPU-0", metrics.StateLoaded)
	w.request("gw-1", "victim")
	key := recommend.Key{Kind: recommend.Unload, Gateway: "gw-1", Model: "victim"}
	makeRoom := recommend.Recommendation{Kind: recommend.Unload, Model: "victim", Gateway: "gw-1", GPUUUID: "GPU-0", Rule: "make_room", Reason: "room for another"}

	evs, err := w.engine.Recommend(makeRoom, w.clock.Now())
	if got := describe(evs); err != nil || got != "1 unload recommended gw-1/victim make_room\n" {
		t.Fatalf("Recommend: %q, %v", got, err)
	}
	if got := w.evaluate(); got != "" {
		t.Errorf("a cycle whose policy keeps the model withdrew the outside recommendation: %q", got)
	}
	evs, _ = w.engine.Recommend(makeRoom, w.clock.Now())
	if got, want := describe(evs), "2 unload withdrawn gw-1/victim policy_changed\n3 unload recommended gw-1/victim make_room\n"; got != want {
		t.Errorf("Recommend over an open one: %q, want %q", got, want)
	}
	if ev := w.engine.Withdraw(key, recommend.CausePolicyChanged, "the room is no longer needed", w.clock.Now()); describe([]*recommend.Event{ev}) != "4 unload withdrawn gw-1/victim policy_changed\n" || ev.Reason != "the room is no longer needed" {
		t.Errorf("Withdraw: %+v", ev)
	}
	if ev := w.engine.Withdraw(key, recommend.CausePolicyChanged, "again", w.clock.Now()); ev != nil {
		t.Errorf("Withdraw of nothing open published %+v", ev)
	}
	if _, err := w.engine.Recommend(makeRoom, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.report("gw-1", "victim", "", metrics.StateUnloaded)
	if got := w.evaluate(); got != "6 unload withdrawn gw-1/victim model_unloaded\n" {
		t.Errorf("the victim unloaded: %q, want its recommendation withdrawn", got)
	}
	for _, bad := range []recommend.Recommendation{{Model: "m", Gateway: "g", Rule: "r"}, {Kind: recommend.Load, Gateway: "g", Rule: "r"}, {Kind: recommend.Load, Model: "m", Gateway: "g"}} {
		if _, err := w.engine.Recommend(bad, w.clock.Now()); err == nil {
			t.Errorf("Recommend(%+v) accepted a recommendation without kind, model or rule", bad)
		}
	}
	if seq := w.engine.Sequence(); seq != 6 {
		t.Errorf("sequence %d after 6 events", seq)
	}
}

func TestSteadyCycleAllocatesNothing(t *testing.T) {
	p := &scripted{}
	w := newWorld(t, p)
	for i := range 100 {
		m := fmt.Sprintf("m%03d", i)
		w.report("gw-1", m, "GPU-0", metrics.StateLoaded)
		if i%2 == 0 {
			w.report("gw-1", m, "", metrics.StateUnloaded)
		}
		p.set(metrics.StateLoaded, m, i%3 == 0)
		p.set(metrics.StateUnloaded, m, i%3 == 0)
	}
	w.evaluate()
	if allocs := testing.AllocsPerRun(10, func() { w.engine.Evaluate(w.clock.Now()) }); allocs != 0 {
		t.Errorf("a steady cycle over 50 loaded and 50 unloaded pairs, some recommended, allocates %v times", allocs)
	}
}

func TestShouldUnload(t *testing.T) {
	w := newWorld(t, recommend.NewFixedPolicy(nil))
	w.report("gw-1", "llama", "GPU-0", metrics.StateLoaded)
	w.report("gw-2", "llama", "GPU-0", metrics.StateUnloaded)
	w.clock.Advance(301 * time.Second)
	cases := []struct {
		name, model, gateway string
		wantRule             string
		wantErr              bool
	}{
		{"idle across gateways", "llama", "", rules.UnloadRuleIdle, false},
		{"idle on the gateway where it is loaded", "llama", "gw-1", rules.UnloadRuleIdle, false},
		{"not loaded on the gateway asked about", "llama", "gw-2", recommend.RuleNotLoaded, false},
		{"unknown gateway", "llama", "gw-3", "", true},
		{"unknown model", "gpt", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := w.engine.ShouldUnload(c.model, c.gateway, w.clock.Now())
			var unknown *recommend.UnknownModelError
			if c.wantErr != errors.As(err, &unknown) || a.Rule != c.wantRule || a.Unload != (c.wantRule == rules.UnloadRuleIdle) || a.Reason == "" && !c.wantErr {
				t.Errorf("ShouldUnload(%q, %q) = %+v, %v; want rule %q (error: %v)", c.model, c.gateway, a, err, c.wantRule, c.wantErr)
			}
		})
	}
}

// The fixed policy never loads, so the cycle skips the UNLOADED pairs; but not while a Load
// recommendation made outside the cycle is open, which stays open while its pair is UNLOADED.
func TestFixedPolicyCycleLooksAtUnloadedPairsOnlyForOpenLoads(t *testing.T) {
	w := newWorld(t, nil)
	for _, m := range []string{"m", "other"} {
		w.report("gw-1", m, "GPU-0", metrics.StateLoaded)
		w.report("gw-1", m, "", metrics.StateUnloaded)
	}
	w.report("gw-1", "busy", "GPU-0", metrics.StateLoaded)
	if res := w.engine.Evaluate(w.clock.Now()); res.Unloaded != 0 || len(res.Events) != 0 {
		t.Fatalf("cycle %+v: want the UNLOADED pairs skipped", res)
	}
	if _, err := w.engine.Recommend(recommend.Recommendation{Kind: recommend.Load, Model: "m", Gateway: "gw-1", Rule: "operator"}, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if res := w.engine.Evaluate(w.clock.Now()); res.Unloaded != 2 || len(res.Events) != 0 || res.Open != 1 {
		t.Fatalf("cycle %+v: want the UNLOADED pairs asked about and the load kept open", res)
	}
	// An unload made and withdrawn outside the cycle leaves the open load as it was.
	if _, err := w.engine.Recommend(recommend.Recommendation{Kind: recommend.Unload, Model: "busy", Gateway: "gw-1", Rule: "make_room"}, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ev := w.engine.Withdraw(recommend.Key{Kind: recommend.Unload, Gateway: "gw-1", Model: "busy"}, recommend.CausePolicyChanged, "placement abandoned", w.clock.Now()); ev == nil {
		t.Fatal("Withdraw of the open unload published nothing")
	}
	if res := w.engine.Evaluate(w.clock.Now()); res.Unloaded != 2 || len(res.Events) != 0 || res.Open != 1 {
		t.Fatalf("cycle %+v: an unload withdrawn, want the UNLOADED pairs still asked about and the load still open", res)
	}
	w.report("gw-1", "m", "GPU-0", metrics.StateLoading)
	if got := w.evaluate(); got != "4 load withdrawn gw-1/m model_loaded\n" {
		t.Errorf("the model loading: %q, want the load withdrawn", got)
	}
	if res := w.engine.Evaluate(w.clock.Now()); res.Unloaded != 0 {
		t.Errorf("cycle %+v: with no load open, the UNLOADED pairs are skipped again", res)
	}
}

// idSeer records the pair IDs the engine asks about, by "state/gateway/model".
type idSeer struct{ seen map[string]metrics.PairID }

func (s *idSeer) Decide(p *recommend.Pair) recommend.Decision {
	s.seen[p.State.String()+"/"+p.Gateway+"/"+p.Model] = p.ID
	return recommend.Decision{Rule: "seen"}
}

func (s *idSeer) Reason(*recommend.Pair, recommend.Decision) string { return "" }

func TestCycleHandsThePolicyTheTrackersPairID(t *testing.T) {
	p := &idSeer{seen: map[string]metrics.PairID{}}
	w := newWorld(t, p)
	w.report("gw-1", "a", "GPU-1", metrics.StateLoaded)
	w.report("gw-2", "a", "GPU-2", metrics.StateLoaded)
	w.report("gw-1", "b", "GPU-1", metrics.StateLoaded)
	w.report("gw-1", "b", "", metrics.StateUnloaded) // UNLOADED with history: asked about loading
	w.evaluate()
	want := map[string]metrics.PairID{}
	for _, m := range w.tracker.AppendLoaded(nil, time.Time{}) {
		want[metrics.StateLoaded.String()+"/"+m.Gateway+"/"+m.Model] = m.ID
	}
	for _, m := range w.tracker.AppendUnloaded(nil, time.Time{}) {
		want[metrics.StateUnloaded.String()+"/"+m.Gateway+"/"+m.Model] = m.ID
	}
	if len(want) != 3 {
		t.Fatalf("tracker lists %v, want 3 pairs", want)
	}
	for k, id := range want {
		if got, ok := p.seen[k]; !ok || got != id || id == 0 {
			t.Errorf("%s: the policy saw ID %d (asked: %v), want the tracker's %d", k, got, ok, id)
		}
	}
}

// The engine finds a pair's open recommendation by the tracker's pair number, a cache of its open
// recommendations by names. These are the cases where the cache could lie: a number the tracker
// gives to another pair (the same model on another gateway, another model on the same gateway), a
// pair that comes back under another number, and a withdrawal outside the cycle. Each must
// publish what the names alone would.
func TestOpenRecommendationsFollowTheirPairsNotTheirNumbers(t *testing.T) {
	p := &scripted{}
	w := newWorld(t, p)
	w.report("gw-1", "a", "GPU-1", metrics.StateLoaded)
	w.report("gw-9", "z", "GPU-9", metrics.StateLoaded) // open throughout, so that open is never empty
	p.set(metrics.StateLoaded, "a", true)
	p.set(metrics.StateLoaded, "z", true)
	keep := func(g string) bool { return g == "gw-9" }
	if got := w.evaluate(); got != "1 unload recommended gw-1/a scripted\n2 unload recommended gw-9/z scripted\n" {
		t.Fatalf("first cycle: %q", got)
	}
	// forget forgets one gateway (gw-9 is kept).
	forget := func(gateway string) {
		t.Helper()
		w.clock.Advance(time.Minute)
		if got := w.tracker.ForgetGateways(w.clock.Now(), keep); len(got) != 1 || got[0] != gateway {
			t.Fatalf("ForgetGateways = %v, want [%s]", got, gateway)
		}
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"kept while the policy still says so", func() {}, ""},
		{"withdrawn outside the cycle, then recommended again by the next cycle", func() {
			if ev := w.engine.Withdraw(recommend.Key{Kind: recommend.Unload, Gateway: "gw-1", Model: "a"}, recommend.CausePolicyChanged, "test", w.clock.Now()); ev == nil {
				t.Fatal("Withdraw found nothing open")
			}
		}, "4 unload recommended gw-1/a scripted\n"},
		{"gw-1 forgotten and the same model on gw-2 given its number: recommended, gw-1's withdrawn", func() {
			before := pairID(t, w, "gw-1", "a")
			forget("gw-1")
			w.report("gw-2", "a", "GPU-2", metrics.StateLoaded)
			if got := pairID(t, w, "gw-2", "a"); got != before {
				t.Fatalf("gw-2/a has number %d, not gw-1/a's %d; the step needs it", got, before)
			}
		}, "5 unload recommended gw-2/a scripted\n6 unload withdrawn gw-1/a model_unloaded\n"},
		{"gw-2 forgotten, another model there given the number, a back under another: nothing changes", func() {
			before := pairID(t, w, "gw-2", "a")
			forget("gw-2")
			w.report("gw-2", "c", "GPU-2", metrics.StateLoaded) // the policy says keep
			w.report("gw-2", "a", "GPU-2", metrics.StateLoaded)
			if got := pairID(t, w, "gw-2", "c"); got != before {
				t.Fatalf("gw-2/c has number %d, not a's former %d; the step needs it", got, before)
			}
		}, ""},
		{"and a is withdrawn once when the policy changes its mind", func() { p.set(metrics.StateLoaded, "a", false) }, "7 unload withdrawn gw-2/a traffic_resumed\n"},
		{"and nothing more after", func() {}, ""},
	}
	for _, s := range steps {
		s.do()
		if got := w.evaluate(); got != s.want {
			t.Errorf("%s: events\n%swant\n%s", s.name, got, s.want)
		}
	}
}

// pairID is the tracker's number for a LOADED pair.
func pairID(t *testing.T, w *world, gateway, model string) metrics.PairID {
	t.Helper()
	for _, m := range w.tracker.AppendLoaded(nil, time.Time{}) {
		if m.Gateway == gateway && m.Model == model {
			return m.ID
		}
	}
	t.Fatalf("%s/%s is not LOADED", gateway, model)
	return 0
}
