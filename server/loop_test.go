package server_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/server"
)

// TestEvaluationLoopInterval: the evaluation loop runs every DecisionInterval, every
// DefaultDecisionInterval when it is zero (the default), and not at all when it is negative. The
// loop's ticker runs on real time, so the test runs in a synctest bubble, where time is virtual
// and moves only when every goroutine of the bubble waits. A model idle past the 300 s
// threshold at the loop's first tick after it is recommended by the loop; the test then runs one
// cycle itself, which finds the recommendation already open (the loop ran) or makes it (it did
// not).
func TestEvaluationLoopInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		wait     time.Duration
		loopRan  bool
	}{
		{"the default interval (zero) runs the loop every 10 s", 0, 311 * time.Second, true},
		{"the default interval has not ticked since the model went idle", 0, 309 * time.Second, false},
		{"a configured interval is the loop's period: no tick between 240 s and 360 s", 2 * time.Minute, 359 * time.Second, false},
		{"a configured interval's next tick recommends", 2 * time.Minute, 361 * time.Second, true},
		{"a negative interval runs no loop", -1, time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tracker := metrics.NewTracker(metrics.Config{Now: time.Now})
				srv := server.New(server.Options{Tracker: tracker, DecisionInterval: tt.interval, Logger: slog.New(slog.DiscardHandler)})
				defer func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					defer cancel()
					_ = srv.Shutdown(ctx)
				}()
				if _, err := tracker.ReportState(metrics.StateReport{Gateway: "gw-1", Model: "llama", Runtime: "vllm", State: metrics.StateLoaded}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.wait)
				synctest.Wait() // a tick at the end of the wait has finished its cycle
				res := srv.Evaluate(time.Now())
				if ran := res.Recommended == 0 && res.Open == 1; ran != tt.loopRan {
					t.Errorf("after %s: this cycle recommended %d with %d open; want the loop to have recommended already: %v", tt.wait, res.Recommended, res.Open, tt.loopRan)
				}
			})
		})
	}
}
