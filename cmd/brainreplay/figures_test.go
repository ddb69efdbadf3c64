//go:build !race

// Whole-half replays of the Azure trace, too slow under the race detector; main_test.go covers the
// same paths on a few rows.

package main

import "testing"

func TestDoneWhenTheCommandPrintsTheDesignFigures(t *testing.T) {
	got := replayJSON(t, "--trace", invFile, "--rows", "1-500", "--policy", "fixed", "--keep-alive", "5m", "--memory", memFile)
	if got["cold_starts"] != 7647.0 || got["idle_model_minutes"] != 94634.0 || got["loads"] != 7647.0 || int(got["idle_gb_hours"].(float64)+0.5) != 1882 {
		t.Errorf("cold_starts %v, idle_model_minutes %v, loads %v, idle_gb_hours %v; want 7647, 94634, 7647, 1882",
			got["cold_starts"], got["idle_model_minutes"], got["loads"], got["idle_gb_hours"])
	}
}

func TestAThresholdInTheConfigChangesTheFigures(t *testing.T) {
	evict60 := writeConfig(t, "orchestration:\n  policies:\n    keep_alive_policy: fixed\n    evict_after_idle_seconds: 60\n")
	got := replayJSON(t, "--trace", invFile, "--rows", "1-500", "--config", evict60)
	if got["cold_starts"] != 23812.0 || got["idle_model_minutes"] != 34657.0 || got["keep_alive_seconds"] != 60.0 {
		t.Errorf("evict_after_idle_seconds 60: cold_starts %v, idle_model_minutes %v, keep_alive_seconds %v; want the 1-minute figures 23812, 34657, 60",
			got["cold_starts"], got["idle_model_minutes"], got["keep_alive_seconds"])
	}
}
