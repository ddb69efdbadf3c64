package main

import (
	"os"
	"path/filepath"
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
