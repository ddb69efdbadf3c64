package recommend

import (
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// everyPair acts on every pair it is asked about: unload every LOADED one, load every UNLOADED one.
type everyPair struct{}

func (everyPair) Decide(*Pair) Decision         { return Decision{Act: true, Rule: "every"} }
func (everyPair) Reason(*Pair, Decision) string { return "every pair" }

// A cycle caches each open recommendation under its pair's number, unloads and loads apart
// (byID[0] and byID[1]), growing the cache to twice its length or to the number, whichever is
// more; a withdrawal takes it out.
func TestOpenRecommendationsAreCachedUnderTheirPairNumbers(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tracker := metrics.NewTracker(metrics.Config{Now: func() time.Time { return now }})
	e := New(Config{Tracker: tracker, Policy: everyPair{}})
	report := func(model string, s metrics.State) {
		t.Helper()
		if _, err := tracker.ReportState(metrics.StateReport{Gateway: "gw", Model: model, State: s}); err != nil {
			t.Fatal(err)
		}
	}
	report("u1", metrics.StateLoaded)   // number 1
	report("l2", metrics.StateLoaded)   // number 2, UNLOADED below: a load
	report("l2", metrics.StateUnloaded) //
	report("u3", metrics.StateLoaded)   // number 3
	if res := e.Evaluate(now); res.Open != 3 {
		t.Fatalf("first cycle: %+v, want 3 open", res)
	}
	ids := map[string]metrics.PairID{}
	for _, m := range tracker.AppendLoaded(nil, now) {
		ids[m.Model] = m.ID
	}
	for _, m := range tracker.AppendUnloaded(nil, now) {
		ids[m.Model] = m.ID
	}
	// Unloads 1 then 3: 1 grows the cache to 2, 3 to 4. The load, 2: to 3.
	if got, want := len(e.byID[0]), 4; got != want {
		t.Errorf("unloads cached in %d slots, want %d", got, want)
	}
	if got, want := len(e.byID[1]), 3; got != want {
		t.Errorf("loads cached in %d slots, want %d", got, want)
	}
	for _, c := range []struct {
		kind  Kind
		slot  int
		model string
	}{{Unload, 0, "u1"}, {Unload, 0, "u3"}, {Load, 1, "l2"}} {
		o := e.open[Key{Kind: c.kind, Gateway: "gw", Model: c.model}]
		if o == nil || e.byID[c.slot][ids[c.model]] != o || o.id != ids[c.model] {
			t.Errorf("%s's open %v recommendation is not cached under its number %d in byID[%d]", c.model, c.kind, ids[c.model], c.slot)
		}
	}
	e.Withdraw(Key{Kind: Unload, Gateway: "gw", Model: "u3"}, CausePolicyChanged, "test", now)
	if e.byID[0][ids["u3"]] != nil {
		t.Error("a withdrawn recommendation is still cached")
	}
}
