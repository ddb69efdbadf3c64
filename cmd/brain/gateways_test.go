package main

// The reference gateways (examples/gateway-python, examples/gateway-ts) against the real brain
// binary, each behind a TCP proxy that the test uses to cut the gateway's connection: each gateway
// must complete its flow, receive a recommendation, lose its stream, reconnect with backoff and
// resume from its last (epoch, sequence) so that the events published while it was away are
// replayed to it, none lost and none twice.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// gatewayBrainConfig: a static two-GPU host and a short idle threshold, so that a model the gateway
// loads is recommended for unloading about two seconds after its last request.
const gatewayBrainConfig = `
gpu:
  backend: static
  devices:
    - {name: "NVIDIA A100-SXM4-40GB", total_bytes: 42949672960, used_bytes: 10737418240}
    - {name: "NVIDIA H100 80GB HBM3", total_bytes: 85899345920, used_bytes: 21474836480}
orchestration:
  decision_interval_seconds: 1
  policies:
    evict_after_idle_seconds: 2
server:
  heartbeat_interval: 1s
`

// debianPython is the interpreter whose packages (python3-grpcio, python3-protobuf) the generated
// stubs are made for; another python3 may come first on PATH.
const debianPython = "/usr/bin/python3"

func TestGateways(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Python and TypeScript reference gateways; skipped with -short")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("python", func(t *testing.T) {
		t.Parallel()
		if out, err := exec.Command(debianPython, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
			t.Fatalf("%s cannot import grpc and protobuf (%v: %s): run `make client-deps` (Debian's python3-grpcio and python3-protobuf)",
				debianPython, err, bytes.TrimSpace(out))
		}
		python := func(args ...string) *exec.Cmd {
			cmd := exec.Command(debianPython, append([]string{"examples/gateway-python/gateway.py"}, args...)...)
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(repo, "gen", "python"))
			return cmd
		}
		runGateway(t, "gw-python", "llama-8b", "mistral-7b", python)
		runGatewayAcrossRestart(t, "gw-python-restart", "gemma-2b", python)
		runGatewayOverMutualTLS(t, "gw-python-tls", python)
		runGatewayPrewarm(t, repo, "gw-python-prewarm", "cron-py", python)
	})
	t.Run("typescript", func(t *testing.T) {
		t.Parallel()
		pkg := filepath.Join(repo, "examples", "gateway-ts")
		tsc := filepath.Join(pkg, "node_modules", ".bin", "tsc")
		if _, err := os.Stat(tsc); err != nil {
			t.Fatalf("%s is missing: run `make client-deps` (npm ci in examples/gateway-ts)", tsc)
		}
		if _, err := exec.LookPath("node"); err != nil {
			t.Fatal("node is not on PATH: run `make client-deps`")
		}
		// Compile (strict type-check included) into a folder of the package, so that Node finds
		// the package's node_modules from the compiled gateway and stubs alike.
		out, err := os.MkdirTemp(pkg, ".test-dist-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(out) })
		start := time.Now()
		build := exec.Command(tsc, "-p", ".", "--outDir", out)
		build.Dir = pkg
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("tsc: %v\n%s", err, b)
		}
		t.Logf("tsc compiled the gateway in %v", time.Since(start).Round(time.Millisecond))
		node := func(args ...string) *exec.Cmd {
			cmd := exec.Command("node", append([]string{filepath.Join(out, "examples", "gateway-ts", "src", "gateway.js")}, args...)...)
			cmd.Dir = repo
			return cmd
		}
		runGateway(t, "gw-ts", "qwen-7b", "phi-3", node)
		runGatewayAcrossRestart(t, "gw-ts-restart", "falcon-7b", node)
		runGatewayOverMutualTLS(t, "gw-ts-tls", node)
		runGatewayPrewarm(t, repo, "gw-ts-prewarm", "cron-ts", node)
	})
}

// gatewayLine is one JSON line a gateway printed.
type gatewayLine map[string]any

func (l gatewayLine) str(k string) string { s, _ := l[k].(string); return s }
func (l gatewayLine) seq() uint64         { f, _ := l["sequence"].(float64); return uint64(f) }
func (l gatewayLine) num(k string) int64  { f, _ := l[k].(float64); return int64(f) }
func (l gatewayLine) live() bool {
	snap, _ := l["snapshot"].(bool)
	return (l.str("event") == "recommended" || l.str("event") == "withdrawn") && !snap
}

// streamEvent is a recommended or withdrawn event as a key the two sides can be compared by.
type streamEvent struct {
	Epoch string
	Seq   uint64
	Kind  string
	Model string
}

// runGateway runs one gateway (made by gateway with its flags) through the whole scenario.
func runGateway(t *testing.T, gatewayID, model, secondModel string, gateway func(args ...string) *exec.Cmd) {
	began := time.Now()
	brain := startBrain(t, "--config", writeConfig(t, gatewayBrainConfig))
	proxy := startTCPProxy(t, brain.GRPCAddr)
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	truth := watchTruth(t, client, gatewayID)

	started := time.Now()
	cmd := gateway("--brain", proxy.Addr(), "--gateway-id", gatewayID, "--model", model,
		"--recommendations", "2", "--duration", "40",
		"--backoff-initial", "0.1", "--backoff-max", "1", "--stream-timeout", "5")
	gw := startGateway(t, cmd)

	// The flow, up to the first recommendation of the gateway's model, live.
	first := gw.waitFor(t, 20*time.Second, "a live recommendation of "+model, func(l gatewayLine) bool {
		return l.live() && l.str("event") == "recommended" && l.str("model") == model
	})

	// Cut the gateway off, and keep it off while two events happen: its model gets traffic (the
	// recommendation is withdrawn) and a second model of the gateway is loaded and idles (it is
	// recommended).
	proxy.Cut(true)
	gw.waitFor(t, 10*time.Second, "a disconnected line", func(l gatewayLine) bool { return l.str("event") == "disconnected" })
	ctx := callCtx(t)
	now := time.Now()
	if _, err := client.ReportTraffic(ctx, &brainv1.ReportTrafficRequest{GatewayId: gatewayID, Samples: []*brainv1.TrafficSample{{
		ModelName: model, StartTime: timestamppb.New(now.Add(-time.Minute)), EndTime: timestamppb.New(now), Requests: 600,
	}}}); err != nil {
		t.Fatal(err)
	}
	for _, state := range []brainv1.ModelState{brainv1.ModelState_MODEL_STATE_LOADING, brainv1.ModelState_MODEL_STATE_LOADED} {
		if _, err := client.ReportModelState(ctx, &brainv1.ReportModelStateRequest{GatewayId: gatewayID, ModelName: secondModel,
			Runtime: "vllm", GpuUuid: "static-GPU-0", State: state, MemoryBytes: 1 << 30}); err != nil {
			t.Fatal(err)
		}
	}
	withdrawn := truth.waitFor(t, 15*time.Second, "withdrawn", model)
	recommended := truth.waitFor(t, 15*time.Second, "recommended", secondModel)
	cutFor := time.Since(first.at)
	proxy.Cut(false)
	restored := time.Now()

	if err := gw.wait(30 * time.Second); err != nil {
		t.Fatalf("gateway: %v", err)
	}
	t.Logf("%s: brain up in %v, first recommendation %v after the gateway started, cut off for %v, done %v after the proxy let it back",
		gatewayID, started.Sub(began).Round(time.Millisecond), first.at.Sub(started).Round(time.Millisecond),
		cutFor.Round(time.Millisecond), time.Since(restored).Round(time.Millisecond))
	lines := gw.Lines()

	// The flow: runtime chosen, GPU chosen (the static inventory), LOADING then LOADED, traffic.
	expect := []struct {
		what string
		ok   func(gatewayLine) bool
	}{
		{"runtime_chosen with a runtime", func(l gatewayLine) bool { return l.str("event") == "runtime_chosen" && l.str("runtime") != "" }},
		{"gpu_chosen on a static GPU", func(l gatewayLine) bool {
			return l.str("event") == "gpu_chosen" && strings.HasPrefix(l.str("gpu_uuid"), "static-GPU-")
		}},
		{"state_reported LOADING", func(l gatewayLine) bool {
			return l.str("event") == "state_reported" && l.str("state") == "MODEL_STATE_LOADING"
		}},
		{"state_reported LOADED", func(l gatewayLine) bool {
			return l.str("event") == "state_reported" && l.str("state") == "MODEL_STATE_LOADED"
		}},
		{"traffic_reported with 1 accepted sample", func(l gatewayLine) bool {
			return l.str("event") == "traffic_reported" && l.num("accepted_samples") == 1
		}},
		{"subscribed without a cursor", func(l gatewayLine) bool { return l.str("event") == "subscribed" && l.str("resume_epoch") == "" }},
		{"snapshot_end", func(l gatewayLine) bool { return l.str("event") == "snapshot_end" }},
		{"the first recommendation", func(l gatewayLine) bool { return l.live() && l.str("model") == model }},
		{"disconnected", func(l gatewayLine) bool { return l.str("event") == "disconnected" }},
		{"done after 2 recommendations", func(l gatewayLine) bool {
			return l.str("event") == "done" && l.str("reason") == "recommendations"
		}},
	}
	i := 0
	for _, l := range lines {
		if i < len(expect) && expect[i].ok(l) {
			i++
		}
	}
	if i < len(expect) {
		t.Errorf("the gateway's output lacks %s (in this order: runtime, GPU, LOADING, LOADED, traffic, subscribe, snapshot end, recommendation, disconnect, done)", expect[i].what)
	}

	// The brain saw what the gateway reported.
	models, err := client.ListModels(ctx, &brainv1.ListModelsRequest{GatewayId: gatewayID})
	if err != nil {
		t.Fatal(err)
	}
	tracked := false
	for _, m := range models.GetModels() {
		tracked = tracked || m.GetModelName() == model && m.GetRequestsTotal() == 601 && len(m.GetPlacements()) == 1 &&
			m.GetPlacements()[0].GetState() == brainv1.ModelState_MODEL_STATE_LOADED
	}
	if !tracked {
		t.Errorf("the brain tracks %v for %s, want %s LOADED with the gateway's request and the test's 600", models.GetModels(), gatewayID, model)
	}

	// The resume: the last subscription named the cursor the gateway had when it was cut off, no
	// reset came, and the two events published while it was away came after it (replayed).
	var cursor gatewayLine
	resubscribed := -1
	for i, l := range lines {
		switch l.str("event") {
		case "stream_reset":
			t.Errorf("the gateway got a stream_reset (%s), want an exact resume", l.str("reason"))
		case "disconnected":
			if cursor == nil {
				cursor = l
			}
		case "subscribed":
			if cursor != nil {
				resubscribed = i
			}
		}
	}
	if cursor == nil || resubscribed < 0 {
		t.Fatalf("no reconnect in the gateway's output")
	}
	last := lines[resubscribed]
	if last.str("resume_epoch") != first.str("epoch") || last.num("resume_after_sequence") < int64(first.seq()) ||
		last.num("resume_after_sequence") != cursor.num("resume_after_sequence") {
		t.Errorf("resumed from (%s, %d), want the epoch %s and the cursor when cut off (%d, at least the recommendation's %d)",
			last.str("resume_epoch"), last.num("resume_after_sequence"), first.str("epoch"), cursor.num("resume_after_sequence"), first.seq())
	}

	// No event lost or doubled: the gateway's live events are exactly the brain's, in order.
	var got []streamEvent
	for _, l := range lines {
		if l.live() {
			got = append(got, streamEvent{l.str("epoch"), l.seq(), l.str("event"), l.str("model")})
		}
	}
	want := truth.upTo(recommended.Seq)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the gateway's events differ from the brain's:\n got %v\nwant %v", got, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("sequences not strictly increasing: %v", got)
		}
	}
	for _, ev := range []streamEvent{withdrawn, recommended} {
		at := -1
		for i, l := range lines {
			if l.live() && l.seq() == ev.Seq {
				at = i
			}
		}
		if at < resubscribed || ev.Seq <= uint64(last.num("resume_after_sequence")) {
			t.Errorf("%v, published while the gateway was cut off, was not replayed after its resume", ev)
		}
	}
	t.Logf("%s: whole run %v", gatewayID, time.Since(began).Round(time.Millisecond))
}

// killBrainConfig: like gatewayBrainConfig, but a model idle for 1 s is recommended at the next
// 2-second decision cycle, so that after a restart an idle model is recommended again within two
// decision intervals of its gateway's sync (the restarted brain counts idleness from its start).
const killBrainConfig = `
gpu:
  backend: static
  devices:
    - {name: "NVIDIA A100-SXM4-40GB", total_bytes: 42949672960, used_bytes: 10737418240}
    - {name: "NVIDIA H100 80GB HBM3", total_bytes: 85899345920, used_bytes: 21474836480}
orchestration:
  decision_interval_seconds: 2
  policies:
    evict_after_idle_seconds: 1
server:
  heartbeat_interval: 1s
`

// runGatewayAcrossRestart kills the brain (SIGKILL, as kill -9) under a connected gateway with an
// idle loaded model and starts a new one on the same port. The new brain knows nothing and has
// another epoch: the gateway's resume gets a stream_reset, the snapshot after it says
// sync_required, and the gateway must sync by itself (nobody re-reports for it), after which its
// idle model is recommended again, and the new brain knows exactly what the gateway holds.
func runGatewayAcrossRestart(t *testing.T, gatewayID, model string, gateway func(args ...string) *exec.Cmd) {
	old := startBrain(t, "--config", writeConfig(t, killBrainConfig))
	gw := startGateway(t, gateway("--brain", old.GRPCAddr, "--gateway-id", gatewayID, "--model", model,
		"--recommendations", "2", "--duration", "40",
		"--backoff-initial", "0.1", "--backoff-max", "1", "--stream-timeout", "5"))
	first := gw.waitFor(t, 20*time.Second, "a live recommendation of "+model, func(l gatewayLine) bool {
		return l.live() && l.str("event") == "recommended" && l.str("model") == model
	})

	old.Kill()
	restarted := startBrain(t, "--config", writeConfig(t, killBrainConfig), "--grpc-addr", old.GRPCAddr)
	if restarted.Epoch() == "" {
		t.Fatal("the restarted brain logged no epoch")
	}
	if err := gw.wait(30 * time.Second); err != nil {
		t.Fatalf("gateway: %v", err)
	}

	// In order: a sync at start, then after the kill a resume from the old cursor, the reset, the
	// gateway's sync of its model, the new brain's recommendation of the model, done.
	oldEpoch, newEpoch := first.str("epoch"), restarted.Epoch()
	steps := []struct {
		what string
		ok   func(gatewayLine) bool
	}{
		{"a sync at start", func(l gatewayLine) bool { return l.str("event") == "synced" && l.str("why") == "start" }},
		{"the old brain's recommendation", func(l gatewayLine) bool { return l.live() && l.str("epoch") == oldEpoch }},
		{"a disconnect", func(l gatewayLine) bool { return l.str("event") == "disconnected" }},
		{"a resume from the old epoch", func(l gatewayLine) bool { return l.str("event") == "subscribed" && l.str("resume_epoch") == oldEpoch }},
		{"a stream_reset", func(l gatewayLine) bool { return l.str("event") == "stream_reset" }},
		{"a sync of the model, added to the new brain", func(l gatewayLine) bool {
			added, _ := l["added"].([]any)
			return l.str("event") == "synced" && l.str("why") == "sync_required" && len(added) == 1 && added[0] == model
		}},
		{"the new brain's recommendation", func(l gatewayLine) bool {
			return l.str("event") == "recommended" && l.str("model") == model && l.str("epoch") == newEpoch
		}},
		{"done", func(l gatewayLine) bool { return l.str("event") == "done" && l.str("reason") == "recommendations" }},
	}
	i := 0
	var synced, recommended float64
	for _, l := range gw.Lines() {
		if i < len(steps) && steps[i].ok(l) {
			switch steps[i].what {
			case "a sync of the model, added to the new brain":
				synced, _ = l["t"].(float64)
			case "the new brain's recommendation":
				recommended, _ = l["t"].(float64)
			}
			i++
		}
	}
	if i < len(steps) {
		t.Fatalf("across the kill, the gateway's output lacks %s (old epoch %s, new %s)", steps[i].what, oldEpoch, newEpoch)
	}
	// The sync was asked for: the new brain's snapshot end said sync_required (the TypeScript
	// gateway syncs before it prints the line, the Python one after).
	if !slices.ContainsFunc(gw.Lines(), func(l gatewayLine) bool {
		return l.str("event") == "snapshot_end" && l.str("epoch") == newEpoch && l["sync_required"] == true
	}) {
		t.Error("the new brain's snapshot_end did not say sync_required")
	}
	t.Logf("%s: recommended again %.3f s after its sync (decision interval 2 s, idle threshold 1 s)", gatewayID, recommended-synced)

	// The new brain knows exactly what the gateway holds: its model, LOADED, and nothing else.
	models, err := brainv1.NewBrainServiceClient(restarted.Dial(t)).ListModels(callCtx(t), &brainv1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ms := models.GetModels()
	if len(ms) != 1 || ms[0].GetModelName() != model || len(ms[0].GetPlacements()) != 1 ||
		ms[0].GetPlacements()[0].GetGatewayId() != gatewayID || ms[0].GetPlacements()[0].GetState() != brainv1.ModelState_MODEL_STATE_LOADED ||
		ms[0].GetPlacements()[0].GetMemoryBytes() != 1<<30 {
		t.Errorf("the restarted brain lists %v; want %s LOADED on %s (1 GiB) and nothing else", ms, model, gatewayID)
	}
}

// runGatewayOverMutualTLS runs a gateway with --tls-ca, --tls-cert and --tls-key against a brain
// that requires client certificates and lets the certificate's principal act for this gateway
// alone: the whole flow (sync, runtime, GPU, reports, watch) passes authorization, up to a
// recommendation.
func runGatewayOverMutualTLS(t *testing.T, gatewayID string, gateway func(args ...string) *exec.Cmd) {
	p := newTestPKI(t)
	cfg := strings.Replace(killBrainConfig, "server:\n", fmt.Sprintf("server:\n  tls: {cert_file: %s, key_file: %s, client_ca_file: %s, client_auth: require}\n"+
		"  authorization:\n    gateways: [{principal: \"spiffe://example.org/gateway/gw-1\", gateway_ids: [%s]}]\n",
		p.certFile, p.keyFile, p.caFile, gatewayID), 1)
	brain := startBrain(t, "--config", writeConfig(t, cfg))
	gw := startGateway(t, gateway("--brain", brain.GRPCAddr, "--gateway-id", gatewayID, "--model", "tls-model",
		"--recommendations", "1", "--duration", "30", "--tls-ca", p.caFile, "--tls-cert", p.gatewayCert, "--tls-key", p.gatewayKey,
		"--stream", "unload")) // the unload-only stream, as gateways written before WatchRecommendations follow it
	if err := gw.wait(30 * time.Second); err != nil {
		t.Fatalf("gateway over mutual TLS: %v", err)
	}
	if !slices.ContainsFunc(gw.Lines(), func(l gatewayLine) bool {
		return l.live() && l.str("model") == "tls-model" && l.str("kind") == "unload"
	}) {
		t.Errorf("the gateway over mutual TLS saw no unload recommendation of its model")
	}
	if !slices.ContainsFunc(gw.Lines(), func(l gatewayLine) bool { return l.str("event") == "subscribed" && l.str("stream") == "unload" }) {
		t.Errorf("the gateway did not follow the unload-only stream (--stream unload)")
	}
}

// runGatewayPrewarm shows a load recommendation reaching the gateway before the request it
// anticipates. The brain runs configs/predictive-demo.yaml: the predictive policy with a "minute"
// (predictive_step) of 2 s. The test plays a timer-driven model on the gateway: a request every
// three steps (6 s), each served by loading the model, reporting the request and unloading it.
// After three requests (two gaps of three steps, the policy's min_history), the policy expects the
// next one three steps after the last and recommends loading the model in the step before; the
// gateway must print that load recommendation, with the expected time, before the test sends the
// fourth request. The test then loads the model (as the gateway would), and the gateway prints the
// recommendation's withdrawal (model_loaded). The request times are set on the step grid (a sample
// ends when the test says, however late it is sent), so the rhythm is exact on a loaded machine.
func runGatewayPrewarm(t *testing.T, repo, gatewayID, model string, gateway func(args ...string) *exec.Cmd) {
	const step = 2 * time.Second // predictive_step in the config
	brain := startBrain(t, "--config", filepath.Join(repo, "configs", "predictive-demo.yaml"))
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	gw := startGateway(t, gateway("--brain", brain.GRPCAddr, "--gateway-id", gatewayID, "--model", gatewayID+"-own",
		"--duration", "90", "--stream-timeout", "5"))
	// The gateway synced at start (which replaces what the brain holds for it) before it subscribed:
	// from its snapshot_end on, what the test reports for the gateway stays.
	gw.waitFor(t, 20*time.Second, "a snapshot_end", func(l gatewayLine) bool { return l.str("event") == "snapshot_end" })

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // the whole rhythm, not one call
	t.Cleanup(cancel)
	state := func(s brainv1.ModelState) {
		t.Helper()
		if _, err := client.ReportModelState(ctx, &brainv1.ReportModelStateRequest{GatewayId: gatewayID, ModelName: model,
			Runtime: "vllm", GpuUuid: "static-GPU-0", State: s, MemoryBytes: 1 << 30}); err != nil {
			t.Fatal(err)
		}
	}
	// Request i is sent half a second into step first+3i (Unix time in steps).
	first := time.Now().Add(step).Truncate(step).Unix()/int64(step/time.Second) + 1
	at := func(k int64) time.Time { return time.Unix(k*int64(step/time.Second), 0) }
	request := func(i int64) time.Time {
		t.Helper()
		when := at(first + 3*i).Add(step / 4)
		time.Sleep(time.Until(when))
		sent := time.Now()
		if _, err := client.ReportTraffic(ctx, &brainv1.ReportTrafficRequest{GatewayId: gatewayID, Samples: []*brainv1.TrafficSample{{
			ModelName: model, StartTime: timestamppb.New(when.Add(-step / 8)), EndTime: timestamppb.New(when), Requests: 1,
		}}}); err != nil {
			t.Fatal(err)
		}
		return sent
	}
	// Three requests, each a cold start: loaded for the request, unloaded after.
	for i := range int64(3) {
		state(brainv1.ModelState_MODEL_STATE_LOADING)
		state(brainv1.ModelState_MODEL_STATE_LOADED)
		request(i)
		state(brainv1.ModelState_MODEL_STATE_UNLOADED)
	}
	expected := at(first + 9)
	load := gw.waitFor(t, 30*time.Second, "a load recommendation of "+model+" expecting its request at "+expected.UTC().Format(time.RFC3339),
		func(l gatewayLine) bool {
			next, err := time.Parse(time.RFC3339, l.str("next_request_time"))
			return l.live() && l.str("event") == "recommended" && l.str("kind") == "load" && l.str("model") == model &&
				err == nil && next.Equal(expected)
		})
	if load.str("rule") != "prewarm" || load.str("gpu_uuid") != "static-GPU-0" || load.str("runtime") != "vllm" ||
		!strings.HasPrefix(load.str("action"), "would load "+model) {
		t.Errorf("load recommendation %v: want rule prewarm, where the model was last loaded (static-GPU-0, vllm), and the action to load it", load.gatewayLine)
	}
	// The test acts on it as a gateway would: it loads the model now, and the recommendation is
	// withdrawn (model_loaded; policy_changed instead if the expected step began first, on a
	// machine slow enough). Then the fourth request, at its time in the rhythm, finds it loaded.
	state(brainv1.ModelState_MODEL_STATE_LOADING)
	state(brainv1.ModelState_MODEL_STATE_LOADED)
	withdrawn := gw.waitFor(t, 15*time.Second, "the load recommendation's withdrawal of "+model, func(l gatewayLine) bool {
		return l.live() && l.str("event") == "withdrawn" && l.str("kind") == "load" && l.str("model") == model && l.seq() > load.seq()
	})
	if c := withdrawn.str("cause"); c != "WITHDRAWAL_CAUSE_MODEL_LOADED" && c != "WITHDRAWAL_CAUSE_POLICY_CHANGED" {
		t.Errorf("the load recommendation was withdrawn for %s, want model_loaded (or policy_changed once its step is over)", c)
	}
	sent := request(3)
	t.Logf("%s: load recommendation printed %v before the expected request time and %v before the request was sent; withdrawn: %s (%s)",
		gatewayID, expected.Sub(load.at).Round(time.Millisecond), sent.Sub(load.at).Round(time.Millisecond), withdrawn.str("cause"), load.str("reason"))
}

// gatewayProcess is a running reference gateway whose JSON lines are collected.
type gatewayProcess struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan struct{}
	err    error

	mu    sync.Mutex
	lines []gatewayLine
	at    []time.Time
	grew  chan struct{} // closed and replaced on every new line
}

// timedLine is a line and when it was read.
type timedLine struct {
	gatewayLine
	at time.Time
}

func startGateway(t *testing.T, cmd *exec.Cmd) *gatewayProcess {
	t.Helper()
	g := &gatewayProcess{cmd: cmd, exited: make(chan struct{}), grew: make(chan struct{})}
	cmd.Stderr = &g.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l gatewayLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = gatewayLine{"event": "unparsed", "text": sc.Text()}
			}
			g.mu.Lock()
			g.lines, g.at = append(g.lines, l), append(g.at, time.Now())
			close(g.grew)
			g.grew = make(chan struct{})
			g.mu.Unlock()
		}
	}()
	go func() {
		<-read
		g.err = cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-g.exited
		if t.Failed() || os.Getenv("MODELIUM_GATEWAY_LOG") != "" { // make gateways sets it
			for _, l := range g.Lines() {
				b, _ := json.Marshal(l)
				t.Logf("gateway: %s", b)
			}
			t.Logf("gateway stderr: %s", g.stderr.String())
		}
	})
	return g
}

// Lines returns the lines so far.
func (g *gatewayProcess) Lines() []gatewayLine {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayLine(nil), g.lines...)
}

// waitFor waits for a line that ok accepts and returns it.
func (g *gatewayProcess) waitFor(t *testing.T, timeout time.Duration, what string, ok func(gatewayLine) bool) timedLine {
	t.Helper()
	deadline := time.After(timeout)
	for next := 0; ; {
		g.mu.Lock()
		lines, at, grew := g.lines, g.at, g.grew
		g.mu.Unlock()
		for ; next < len(lines); next++ {
			if ok(lines[next]) {
				return timedLine{lines[next], at[next]}
			}
		}
		select {
		case <-grew:
		case <-g.exited:
			if len(g.Lines()) == len(lines) {
				t.Fatalf("gateway exited (%v) before printing %s", g.err, what)
			}
		case <-deadline:
			t.Fatalf("gateway printed no %s within %v", what, timeout)
		}
	}
}

// wait waits for the gateway to exit by itself.
func (g *gatewayProcess) wait(timeout time.Duration) error {
	select {
	case <-g.exited:
		return g.err
	case <-time.After(timeout):
		return fmt.Errorf("did not finish within %v", timeout)
	}
}

// truthWatcher follows the brain's stream directly, as the reference for what the gateway must see.
type truthWatcher struct {
	mu     sync.Mutex
	events []streamEvent
	grew   chan struct{}
}

func watchTruth(t *testing.T, client brainv1.BrainServiceClient, gatewayID string) *truthWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := client.WatchUnloadRecommendations(ctx, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: gatewayID})
	if err != nil {
		t.Fatal(err)
	}
	// Subscribed once the snapshot has ended: everything after is live.
	for {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetSnapshotEnd() != nil {
			break
		}
	}
	w := &truthWatcher{grew: make(chan struct{})}
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				return
			}
			ev := streamEvent{Epoch: msg.GetEpoch(), Seq: msg.GetSequence()}
			switch {
			case msg.GetRecommended() != nil:
				ev.Kind, ev.Model = "recommended", msg.GetRecommended().GetModelName()
			case msg.GetWithdrawn() != nil:
				ev.Kind, ev.Model = "withdrawn", msg.GetWithdrawn().GetRecommendation().GetModelName()
			default:
				continue
			}
			w.mu.Lock()
			w.events = append(w.events, ev)
			close(w.grew)
			w.grew = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *truthWatcher) waitFor(t *testing.T, timeout time.Duration, kind, model string) streamEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		events, grew := w.events, w.grew
		w.mu.Unlock()
		for _, ev := range events {
			if ev.Kind == kind && ev.Model == model {
				return ev
			}
		}
		select {
		case <-grew:
		case <-deadline:
			t.Fatalf("the brain published no %s event for %s within %v (events: %v)", kind, model, timeout, events)
		}
	}
}

// upTo returns the events up to sequence seq.
func (w *truthWatcher) upTo(seq uint64) []streamEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []streamEvent
	for _, ev := range w.events {
		if ev.Seq <= seq {
			out = append(out, ev)
		}
	}
	return out
}

// tcpProxy forwards loopback TCP connections to the brain; Cut(true) closes every open connection
// and refuses new ones (accepted and closed at once) until Cut(false).
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.Cut(true)
	})
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// Retarget sends the connections accepted from now on to target.
func (p *tcpProxy) Retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

func (p *tcpProxy) forward(down net.Conn) {
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	up, err := net.Dial("tcp", target)
	if err != nil {
		down.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		down.Close()
		up.Close()
		return
	}
	p.conns[down], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // ends when either side closes, or Cut closes both
		dst.Close()
		src.Close()
	}
	go pipe(up, down)
	pipe(down, up)
	p.mu.Lock()
	delete(p.conns, down)
	delete(p.conns, up)
	p.mu.Unlock()
}

// Cut closes every forwarded connection and refuses new ones (cut true), or lets them through again.
func (p *tcpProxy) Cut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}
