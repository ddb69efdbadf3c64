package server_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
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

// panickingPolicy fails every decision, as a defective policy might.
type panickingPolicy struct{}

func (panickingPolicy) Decide(*recommend.Pair) recommend.Decision { panic("policy defect") }
func (panickingPolicy) Reason(*recommend.Pair, recommend.Decision) string {
	return ""
}

// TestEvaluationLoopLogs: a cycle that changes something is logged at debug, a quiet one is not,
// and a cycle that panics is logged as an error while the loop keeps running.
func TestEvaluationLoopLogs(t *testing.T) {
	t.Run("a quiet cycle logs nothing, a changing one logs once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var logged safeBuffer
			tracker := metrics.NewTracker(metrics.Config{Now: time.Now})
			srv := server.New(server.Options{Tracker: tracker, DecisionInterval: 10 * time.Second,
				Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			defer shutdown(srv)
			if _, err := tracker.ReportState(metrics.StateReport{Gateway: "gw-1", Model: "llama", Runtime: "vllm", State: metrics.StateLoaded}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(295 * time.Second) // 29 quiet cycles
			synctest.Wait()
			if strings.Contains(logged.String(), "recommendation evaluation") {
				t.Fatalf("quiet cycles logged: %q", logged.String())
			}
			time.Sleep(20 * time.Second) // the cycle at 310 s recommends
			synctest.Wait()
			if n := strings.Count(logged.String(), "msg=\"recommendation evaluation\""); n != 1 {
				t.Fatalf("%d log lines for one changing cycle: %q", n, logged.String())
			}
			// Traffic: the next cycle only withdraws, and is logged too.
			now := time.Now()
			if err := tracker.ReportTraffic("gw-1", []metrics.Sample{{Model: "llama", Start: now.Add(-time.Second), End: now, Requests: 100}}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Second)
			synctest.Wait()
			if n := strings.Count(logged.String(), "msg=\"recommendation evaluation\""); n != 2 || !strings.Contains(logged.String(), "withdrawn=1") {
				t.Fatalf("%d log lines after a cycle that only withdrew: %q", n, logged.String())
			}
		})
	})
	t.Run("a panicking cycle is logged and the next one runs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var logged safeBuffer
			tracker := metrics.NewTracker(metrics.Config{Now: time.Now})
			srv := server.New(server.Options{Tracker: tracker, Policy: panickingPolicy{}, DecisionInterval: 10 * time.Second,
				Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			defer shutdown(srv)
			time.Sleep(15 * time.Second) // a quiet cycle: the policy is never asked
			synctest.Wait()
			if strings.Contains(logged.String(), "panic") {
				t.Fatalf("a cycle without a panic logged one: %q", logged.String())
			}
			if _, err := tracker.ReportState(metrics.StateReport{Gateway: "gw-1", Model: "llama", Runtime: "vllm", State: metrics.StateLoaded}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Second) // two cycles, each asking the policy
			synctest.Wait()
			if n := strings.Count(logged.String(), "policy defect"); n != 2 {
				t.Fatalf("%d panics logged over two cycles: %q", n, logged.String())
			}
		})
	})
}

func shutdown(srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// TestGatewayExpiryLoopRuns: with a gateway TTL the server runs the expiry loop itself (a tenth of
// the TTL apart), so a silent gateway is forgotten without anyone calling ExpireGateways. In a
// synctest bubble, as the evaluation loop's test.
func TestGatewayExpiryLoopRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tracker := metrics.NewTracker(metrics.Config{Now: time.Now})
		srv := server.New(server.Options{Tracker: tracker, GatewayTTL: 10 * time.Second, DecisionInterval: -1, Logger: slog.New(slog.DiscardHandler)})
		defer shutdown(srv)
		if _, err := tracker.ReportState(metrics.StateReport{Gateway: "gw-1", Model: "llama", Runtime: "vllm", State: metrics.StateLoaded}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if tracker.Gateways() != 1 {
			t.Fatalf("the gateway was forgotten within its TTL")
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if tracker.Gateways() != 0 {
			t.Errorf("12 s after its last report, with a TTL of 10 s and the loop every second, the gateway is still known")
		}
	})
}
