//go:build !race

// The predictive policy on the tuning half of the Azure trace, through the brain's tracker and
// the policy on the virtual clock: too slow under the race detector.

package main

import "testing"

func TestPredictiveBeatsFixedFiveOnRows1To500(t *testing.T) {
	fixed := replayJSON(t, "--trace", invFile, "--rows", "1-500", "--policy", "fixed", "--keep-alive", "5m")
	pred := replayJSON(t, "--trace", invFile, "--rows", "1-500", "--policy", "predictive")
	t.Logf("fixed 5 min: cold %v idle %v loads %v; predictive: cold %v idle %v loads %v",
		fixed["cold_starts"], fixed["idle_model_minutes"], fixed["loads"], pred["cold_starts"], pred["idle_model_minutes"], pred["loads"])
	if pred["policy"] != "predictive" {
		t.Fatalf("policy %v, want predictive", pred["policy"])
	}
	for _, k := range []string{"cold_starts", "idle_model_minutes"} {
		if pred[k].(float64) >= fixed[k].(float64) {
			t.Errorf("%s: predictive %v, fixed 5 min %v: predictive should be lower", k, pred[k], fixed[k])
		}
	}
	if pred["loads"].(float64) > 20000 {
		t.Errorf("loads %v: more than the 20,000 of the issue's budget", pred["loads"])
	}
}
