package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/predict"
)

// TestE2EPredictivePolicyKeepsItsStateAcrossARestart: with keep_alive_policy predictive, a
// foreign state file is logged and ignored at start, ShouldUnload answers with the predictive
// policy (the fixed rules while a model has little history), and the histories are written at
// shutdown for the next start to read.
func TestE2EPredictivePolicyKeepsItsStateAcrossARestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "brain.state")
	if err := os.WriteFile(state, []byte("not a state file"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "orchestration:\n  state_file: "+state+"\n  policies:\n    keep_alive_policy: predictive\n")
	brain := startBrain(t, "--config", cfg)
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	ctx := callCtx(t)
	for _, st := range []brainv1.ModelState{brainv1.ModelState_MODEL_STATE_LOADING, brainv1.ModelState_MODEL_STATE_LOADED} {
		if _, err := client.ReportModelState(ctx, &brainv1.ReportModelStateRequest{GatewayId: "gw-e2e", ModelName: "timer", Runtime: "vllm", State: st}); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now().Add(-time.Second)
	if _, err := client.ReportTraffic(ctx, &brainv1.ReportTrafficRequest{GatewayId: "gw-e2e", Samples: []*brainv1.TrafficSample{{
		ModelName: "timer", StartTime: timestamppb.New(end.Add(-10 * time.Second)), EndTime: timestamppb.New(end), Requests: 3,
	}}}); err != nil {
		t.Fatal(err)
	}
	// ShouldUnload asks the same policy as the cycle, which observes the request.
	ans, err := client.ShouldUnload(ctx, &brainv1.ShouldUnloadRequest{ModelName: "timer", GatewayId: "gw-e2e"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.GetUnload() || ans.GetRule() != "recently_used" || !strings.Contains(ans.GetReason(), "fewer than min_history") {
		t.Errorf("ShouldUnload: unload %v, rule %s, reason %q; want kept by the fixed keep-alive while the history is short", ans.GetUnload(), ans.GetRule(), ans.GetReason())
	}
	if err := brain.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-brain.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("brain did not exit within 10 s of SIGTERM")
	}
	if brain.ExitErr() != nil {
		t.Errorf("brain exited with %v, want a clean exit", brain.ExitErr())
	}
	logs := strings.Join(brain.Logs(), "\n")
	for _, want := range []string{"state file ignored", "state file written"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %q in the brain's log", want)
		}
	}
	p, _ := predict.New(predict.Config{})
	if found, err := p.ReadFile(state); !found || err != nil || p.Len() != 1 {
		t.Errorf("state file after shutdown: found %v, err %v, %d histories; want the model's", found, err, p.Len())
	}
}

// TestE2EPredictiveHistorySurvivesARestart: with orchestration.state_file, a brain stopped
// gracefully (SIGTERM) writes each model's history and the next brain, after the gateway's sync,
// decides with it; a kill -9 keeps only what the last write held: what was observed since (here
// the history the second brain added) is lost, since the file is written every
// predict.SaveInterval and at shutdown, not at each observation.
func TestE2EPredictiveHistorySurvivesARestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "brain.state")
	cfg := writeConfig(t, "orchestration:\n  state_file: "+state+"\n  policies:\n    keep_alive_policy: predictive\n")
	const gw, model = "gw-restart", "timer"
	start := time.Now()
	// busyAt reports a request in the minute of at (the model's latest request then) and asks
	// ShouldUnload, which observes it as the cycle would, then answers with the history.
	busyAt := func(brain *brainProcess, at time.Time) *brainv1.ShouldUnloadResponse {
		t.Helper()
		client := brainv1.NewBrainServiceClient(brain.Dial(t))
		if at.IsZero() {
			// No new request: the gateway's sync after a restart, as the reference gateways do it.
			if _, err := client.SyncGateway(callCtx(t), &brainv1.SyncGatewayRequest{GatewayId: gw, Models: []*brainv1.GatewayModel{
				{ModelName: model, Runtime: "vllm", State: brainv1.ModelState_MODEL_STATE_LOADED},
			}}); err != nil {
				t.Fatal(err)
			}
		} else if _, err := client.ReportTraffic(callCtx(t), &brainv1.ReportTrafficRequest{GatewayId: gw, Samples: []*brainv1.TrafficSample{{
			ModelName: model, StartTime: timestamppb.New(at.Add(-time.Second)), EndTime: timestamppb.New(at), Requests: 1,
		}}}); err != nil {
			t.Fatal(err)
		}
		ans, err := client.ShouldUnload(callCtx(t), &brainv1.ShouldUnloadRequest{ModelName: model, GatewayId: gw})
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	byHistory := func(ans *brainv1.ShouldUnloadResponse, gaps int) bool {
		return (ans.GetRule() == predict.RuleExpectedSoon || ans.GetRule() == predict.RulePredictedIdle) &&
			strings.Contains(ans.GetReason(), fmt.Sprintf("(from %d gaps)", gaps))
	}

	// The first brain sees requests in three minutes: two gaps, enough history (min_history 2)
	// for the predictive policy to decide instead of the fixed keep-alive.
	first := startBrain(t, "--config", cfg)
	busyAt(first, time.Time{})
	for i, ago := range []time.Duration{3 * time.Minute, 2 * time.Minute, time.Minute} {
		ans := busyAt(first, start.Add(-ago))
		if i < 2 && !strings.Contains(ans.GetReason(), fmt.Sprintf("%d gaps observed, fewer than min_history", i)) {
			t.Fatalf("the first brain after %d busy minutes: rule %s, %q; want the fixed keep-alive for lack of history", i+1, ans.GetRule(), ans.GetReason())
		}
		if i == 2 && !byHistory(ans, 2) {
			t.Fatalf("the first brain after 3 busy minutes: rule %s, %q; want the predictive policy from 2 gaps", ans.GetRule(), ans.GetReason())
		}
	}
	if err := first.Stop(10 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}

	// The second brain reads the history: after the gateway's sync, with no request since, it
	// decides from the same 2 gaps. Then a request in a fourth minute makes 3 gaps, and kill -9.
	second := startBrain(t, "--config", cfg)
	if ans := busyAt(second, time.Time{}); !byHistory(ans, 2) {
		t.Errorf("after a graceful restart: rule %s, %q; want the predictive policy from the 2 gaps before it", ans.GetRule(), ans.GetReason())
	}
	if ans := busyAt(second, time.Now()); !byHistory(ans, 3) {
		t.Fatalf("the second brain after a fourth busy minute: rule %s, %q; want 3 gaps", ans.GetRule(), ans.GetReason())
	}
	second.Kill()

	// The third brain has the history as last written (by the first brain, at its stop): 2 gaps.
	third := startBrain(t, "--config", cfg)
	if ans := busyAt(third, time.Time{}); !byHistory(ans, 2) {
		t.Errorf("after kill -9: rule %s, %q; want the history as last written, 2 gaps (the gap seen since is lost)", ans.GetRule(), ans.GetReason())
	}
	for _, b := range []*brainProcess{first, second, third} {
		t.Logf("brain log: %s", strings.Join(slices.DeleteFunc(b.Logs(), func(l string) bool { return !strings.Contains(l, "state file") }), "; "))
	}
}
