package metrics_test

import (
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// pairIDs is (gateway, model) -> ID of every pair, LOADED or UNLOADED with history.
func pairIDs(tr *metrics.Tracker) map[[2]string]metrics.PairID {
	out := map[[2]string]metrics.PairID{}
	for _, m := range tr.AppendLoaded(nil, time.Time{}) {
		out[[2]string{m.Gateway, m.Model}] = m.ID
	}
	for _, m := range tr.AppendUnloaded(nil, time.Time{}) {
		out[[2]string{m.Gateway, m.Model}] = m.ID
	}
	return out
}

// checkIDs fails unless every pair has a distinct ID in 1..maxID.
func checkIDs(t *testing.T, ids map[[2]string]metrics.PairID, maxID metrics.PairID) {
	t.Helper()
	seen := map[metrics.PairID][2]string{}
	for k, id := range ids {
		if id < 1 || id > maxID {
			t.Errorf("%v has ID %d, want 1..%d (dense)", k, id, maxID)
		}
		if other, ok := seen[id]; ok {
			t.Errorf("%v and %v share ID %d", k, other, id)
		}
		seen[id] = k
	}
}

func TestPairIDsNameEachPairDenselyAndAreReusedOnlyAfterItIsForgotten(t *testing.T) {
	tr, c := newTracker(t, metrics.Config{})
	for _, r := range []metrics.StateReport{
		{Gateway: "a", Model: "m1", State: metrics.StateLoaded},
		{Gateway: "a", Model: "m2", State: metrics.StateLoaded},
		{Gateway: "b", Model: "m1", State: metrics.StateLoaded}, // the same model elsewhere: its own pair
		{Gateway: "b", Model: "m3", State: metrics.StateLoaded},
	} {
		reportState(t, tr, r)
	}
	before := pairIDs(tr)
	if len(before) != 4 {
		t.Fatalf("%d pairs, want 4: %v", len(before), before)
	}
	checkIDs(t, before, 4)

	// A change of state keeps the pair's ID: UNLOADED with history is the same pair.
	c.Add(time.Minute)
	reportState(t, tr, metrics.StateReport{Gateway: "a", Model: "m2", State: metrics.StateUnloaded})
	reportState(t, tr, metrics.StateReport{Gateway: "b", Model: "m3", State: metrics.StateLoaded})
	after := pairIDs(tr)
	for k, id := range before {
		if after[k] != id {
			t.Errorf("%v: ID %d became %d while the pair was held", k, id, after[k])
		}
	}

	// Gateway a is forgotten: its two IDs are free, and the next two new pairs take them (and no
	// more: the IDs stay dense); b's pairs keep theirs.
	c.Add(time.Minute)
	if got := tr.ForgetGateways(c.Now(), func(g string) bool { return g == "b" }); len(got) != 1 || got[0] != "a" {
		t.Fatalf("ForgetGateways = %v, want [a]", got)
	}
	freed := map[metrics.PairID]bool{before[[2]string{"a", "m1"}]: true, before[[2]string{"a", "m2"}]: true}
	reportState(t, tr, metrics.StateReport{Gateway: "c", Model: "m4", State: metrics.StateLoaded})
	reportState(t, tr, metrics.StateReport{Gateway: "c", Model: "m1", State: metrics.StateLoaded})
	now := pairIDs(tr)
	checkIDs(t, now, 4)
	for _, k := range [][2]string{{"c", "m4"}, {"c", "m1"}} {
		if !freed[now[k]] {
			t.Errorf("new pair %v has ID %d, want one of the forgotten gateway's %v", k, now[k], freed)
		}
	}
	for _, k := range [][2]string{{"b", "m1"}, {"b", "m3"}} {
		if now[k] != before[k] {
			t.Errorf("%v: ID %d became %d when another gateway was forgotten", k, before[k], now[k])
		}
	}

	// A sync that leaves a model out forgets that pair: its ID goes to the next new pair.
	dropped := now[[2]string{"c", "m4"}]
	if _, err := tr.SyncGateway("c", []metrics.GatewayModel{gm("m1", metrics.StateLoaded)}); err != nil {
		t.Fatal(err)
	}
	reportState(t, tr, metrics.StateReport{Gateway: "b", Model: "m5", State: metrics.StateLoaded})
	last := pairIDs(tr)
	checkIDs(t, last, 4)
	if got := last[[2]string{"b", "m5"}]; got != dropped {
		t.Errorf("the pair after a sync dropped (c, m4) has ID %d, want its freed %d", got, dropped)
	}
	// Five pairs at once need a fifth ID.
	reportState(t, tr, metrics.StateReport{Gateway: "b", Model: "m6", State: metrics.StateLoaded})
	checkIDs(t, pairIDs(tr), 5)
}
