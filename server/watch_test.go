package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
	"github.com/modelium/brain/server"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// brain is a real server on an in-process listener, with a fake clock, its tracker, and no
// evaluation loop: tests drive cycles with evaluate.
type brain struct {
	t        testing.TB
	srv      *server.Server
	tracker  *metrics.Tracker
	registry *prometheus.Registry
	clock    *fakeClock
	lis      *bufconn.Listener
	client   brainv1.BrainServiceClient
}

func newBrain(t testing.TB, o server.Options) *brain {
	t.Helper()
	b := &brain{t: t, clock: newFakeClock()}
	b.tracker = metrics.NewTracker(metrics.Config{Now: b.clock.Now})
	b.registry = prometheus.NewRegistry()
	rec, err := metrics.NewRecorder(b.registry, b.tracker, metrics.RecorderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	o.Clock, o.Tracker, o.Recorder = b.clock.Now, b.tracker, rec
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DecisionInterval == 0 {
		o.DecisionInterval = -1
	}
	b.srv = server.New(o)
	b.lis = bufconn.Listen(1 << 20)
	go func() { _ = b.srv.Serve(b.lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.srv.Shutdown(ctx)
	})
	b.client = b.dial()
	return b
}

// dial opens another connection to the server.
func (b *brain) dial(opts ...grpc.DialOption) brainv1.BrainServiceClient {
	b.t.Helper()
	opts = append(opts,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return b.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { conn.Close() })
	return brainv1.NewBrainServiceClient(conn)
}

func (b *brain) report(gateway, model, gpuUUID string, state metrics.State) {
	b.t.Helper()
	if _, err := b.tracker.ReportState(metrics.StateReport{Gateway: gateway, Model: model, Runtime: "vllm", GPUUUID: gpuUUID, State: state, MemoryBytes: 1 << 30}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *brain) load(gateway, model, gpuUUID string) {
	b.report(gateway, model, gpuUUID, metrics.StateLoaded)
}

// request reports n requests to model over the last second, inFlight still in flight.
func (b *brain) request(gateway, model string, n, inFlight int64) {
	b.t.Helper()
	now := b.clock.Now()
	if err := b.tracker.ReportTraffic(gateway, []metrics.Sample{{Model: model, Start: now.Add(-time.Second), End: now, Requests: n, InFlight: inFlight}}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *brain) evaluate() server.EvaluationResult { return b.srv.Evaluate(b.clock.Now()) }

// watcher reads one recommendation stream.
type watcher struct {
	t      testing.TB
	stream brainv1.BrainService_WatchUnloadRecommendationsClient
	cancel context.CancelFunc
}

func (b *brain) watch(client brainv1.BrainServiceClient, req *brainv1.WatchUnloadRecommendationsRequest) *watcher {
	b.t.Helper()
	if client == nil {
		client = b.client
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	b.t.Cleanup(cancel)
	stream, err := client.WatchUnloadRecommendations(ctx, req)
	if err != nil {
		b.t.Fatal(err)
	}
	return &watcher{t: b.t, stream: stream, cancel: cancel}
}

// next returns the next message that is not a heartbeat.
func (w *watcher) next() *brainv1.WatchUnloadRecommendationsResponse {
	w.t.Helper()
	for {
		m, err := w.stream.Recv()
		if err != nil {
			w.t.Fatalf("Recv: %v", err)
		}
		if m.GetHeartbeat() == nil {
			return m
		}
	}
}

// snapshot reads up to and including SnapshotEnd and returns the recommendations and the end.
func (w *watcher) snapshot() ([]*brainv1.WatchUnloadRecommendationsResponse, *brainv1.WatchUnloadRecommendationsResponse) {
	w.t.Helper()
	var recs []*brainv1.WatchUnloadRecommendationsResponse
	for {
		m := w.next()
		switch {
		case m.GetSnapshotEnd() != nil:
			return recs, m
		case m.GetRecommended() != nil:
			recs = append(recs, m)
		default:
			w.t.Fatalf("unexpected message in a snapshot: %v", m)
		}
	}
}

// describe renders an event for comparisons: "7 recommended gw-1/llama".
func describe(m *brainv1.WatchUnloadRecommendationsResponse) string {
	switch {
	case m.GetRecommended() != nil:
		r := m.GetRecommended()
		return fmt.Sprintf("%d recommended %s/%s", m.GetSequence(), r.GetGatewayId(), r.GetModelName())
	case m.GetWithdrawn() != nil:
		r := m.GetWithdrawn().GetRecommendation()
		return fmt.Sprintf("%d withdrawn %s/%s %s", m.GetSequence(), r.GetGatewayId(), r.GetModelName(), m.GetWithdrawn().GetCause())
	case m.GetSnapshotEnd() != nil:
		return fmt.Sprintf("%d snapshot_end %d", m.GetSequence(), m.GetSnapshotEnd().GetOpenRecommendations())
	case m.GetStreamReset() != nil:
		return fmt.Sprintf("%d reset", m.GetSequence())
	}
	return fmt.Sprintf("%d heartbeat", m.GetSequence())
}

func (w *watcher) expect(want ...string) {
	w.t.Helper()
	for _, d := range want {
		if got := describe(w.next()); got != d {
			w.t.Fatalf("got %q, want %q", got, d)
		}
	}
}

func TestWatchSnapshotThenLive(t *testing.T) {
	b := newBrain(t, server.Options{})
	b.load("gw-1", "llama", "GPU-a")
	b.load("gw-1", "bert", "GPU-b")
	b.clock.Advance(301 * time.Second)
	if res := b.evaluate(); res.Recommended != 2 || res.Open != 2 {
		t.Fatalf("first cycle: %+v, want 2 recommendations", res)
	}
	b.load("gw-1", "mistral", "GPU-a")

	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	recs, end := w.snapshot()
	if len(recs) != 2 || end.GetSnapshotEnd().GetOpenRecommendations() != 2 || end.GetSequence() != 2 {
		t.Fatalf("snapshot of %d, end %v; want 2 open recommendations and sequence 2", len(recs), end)
	}
	for i, m := range recs {
		if m.GetEpoch() != b.srv.Epoch() || m.GetSequence() != uint64(i+1) {
			t.Errorf("snapshot item %d: epoch %q sequence %d, want %q and %d (the event that opened it)", i, m.GetEpoch(), m.GetSequence(), b.srv.Epoch(), i+1)
		}
		r := m.GetRecommended()
		if r.GetRule() != rules.UnloadRuleIdle || !strings.Contains(r.GetReason(), "idle for 301 s") || r.GetIdleSeconds() != 301 || r.GetGpuUuid() == "" {
			t.Errorf("snapshot item %d: %v", i, r)
		}
	}

	b.clock.Advance(301 * time.Second)
	if res := b.evaluate(); res.Recommended != 1 || res.Open != 3 {
		t.Fatalf("second cycle: %+v, want mistral recommended", res)
	}
	w.expect("3 recommended gw-1/mistral")
}

func TestWatchWithdrawals(t *testing.T) {
	b := newBrain(t, server.Options{})
	for _, m := range []string{"llama", "bert", "mistral"} {
		b.load("gw-1", m, "GPU-a")
	}
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	w.snapshot()
	b.clock.Advance(301 * time.Second)
	b.evaluate()
	w.expect("1 recommended gw-1/llama", "2 recommended gw-1/bert", "3 recommended gw-1/mistral")

	b.request("gw-1", "llama", 30, 0) // traffic came back
	b.request("gw-1", "bert", 0, 2)   // requests in flight
	b.report("gw-1", "mistral", "GPU-a", metrics.StateUnloaded)
	if res := b.evaluate(); res.Withdrawn != 3 || res.Open != 0 {
		t.Fatalf("cycle: %+v, want 3 withdrawals", res)
	}
	got := map[string]*brainv1.UnloadWithdrawal{}
	for range 3 {
		m := w.next()
		got[m.GetWithdrawn().GetRecommendation().GetModelName()] = m.GetWithdrawn()
	}
	for model, cause := range map[string]brainv1.WithdrawalCause{
		"llama":   brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_TRAFFIC_RESUMED,
		"bert":    brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_TRAFFIC_RESUMED,
		"mistral": brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_MODEL_UNLOADED,
	} {
		if got[model].GetCause() != cause || got[model].GetReason() == "" || got[model].GetRecommendation().GetRule() != rules.UnloadRuleIdle {
			t.Errorf("withdrawal of %s: %v, want cause %v, a reason and the original recommendation", model, got[model], cause)
		}
	}
	if r := got["bert"].GetReason(); !strings.Contains(r, "2 requests in flight") {
		t.Errorf("bert's withdrawal reason %q does not say why", r)
	}
	// A later snapshot holds nothing.
	if recs, end := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{}).snapshot(); len(recs) != 0 || end.GetSequence() != 6 {
		t.Errorf("snapshot after withdrawals: %d recommendations, end at %d; want none at 6", len(recs), end.GetSequence())
	}
}

func TestWatchPinnedModelIsNeverRecommended(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: rules.DefaultEvictAfterIdle, MinQPS: rules.DefaultMinQPS, AlwaysLoaded: []string{"critical-model-v1"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrain(t, server.Options{UnloadPolicy: policy})
	b.load("gw-1", "critical-model-v1", "GPU-a")
	b.load("gw-1", "llama", "GPU-a")
	for range 360 { // an hour of 10 s cycles
		b.clock.Advance(10 * time.Second)
		b.evaluate()
	}
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	recs, _ := w.snapshot()
	if len(recs) != 1 || recs[0].GetRecommended().GetModelName() != "llama" {
		t.Fatalf("after an hour the open recommendations are %v, want only llama", recs)
	}
}

func TestWatchNeverRequestedModelIsRecommendedAfterTheThreshold(t *testing.T) {
	b := newBrain(t, server.Options{})
	b.clock.Advance(time.Hour) // the brain has been up for an hour when the model loads
	b.load("gw-1", "llama", "GPU-a")
	if res := b.evaluate(); res.Recommended != 0 {
		t.Fatalf("recommended at load: %+v", res)
	}
	b.clock.Advance(300 * time.Second)
	if res := b.evaluate(); res.Recommended != 0 {
		t.Fatalf("recommended 300 s after load: %+v", res)
	}
	b.clock.Advance(time.Second)
	if res := b.evaluate(); res.Recommended != 1 {
		t.Fatalf("not recommended 301 s after load: %+v", res)
	}
}

func TestWatchResumeSeesEveryEventOnceInOrder(t *testing.T) {
	b := newBrain(t, server.Options{})
	models := []string{"a", "b", "c", "d"}
	for _, m := range models {
		b.load("gw-1", m, "GPU-a")
	}
	all := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{}) // never disconnects
	all.snapshot()
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	w.snapshot()

	b.clock.Advance(301 * time.Second)
	b.evaluate() // 1-4: a, b, c, d recommended
	w.next()
	last := w.next() // the subscriber saw 1 and 2, then disconnects
	w.cancel()

	b.request("gw-1", "a", 10, 0)
	b.report("gw-1", "c", "GPU-a", metrics.StateUnloading)
	b.evaluate() // 5, 6: a and c withdrawn
	b.clock.Advance(301 * time.Second)
	b.evaluate() // 7: a recommended again

	var want []string
	for range 7 {
		want = append(want, describe(all.next()))
	}
	r := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: last.GetEpoch(), ResumeAfterSequence: last.GetSequence()})
	r.expect(want[2:]...)
	b.report("gw-1", "d", "GPU-a", metrics.StateFailed)
	b.evaluate()
	r.expect("8 withdrawn gw-1/d WITHDRAWAL_CAUSE_MODEL_UNLOADED")
}

func TestWatchResetsWhenItCannotResume(t *testing.T) {
	b := newBrain(t, server.Options{WatchWindow: 2})
	for _, m := range []string{"a", "b", "c"} {
		b.load("gw-1", m, "GPU-a")
	}
	b.clock.Advance(301 * time.Second)
	b.evaluate() // 1-3; the window keeps 2 and 3
	for _, tt := range []struct {
		name   string
		epoch  string
		after  uint64
		reason string
	}{
		{"unknown epoch (the brain restarted)", "0123456789abcdef", 3, "is not this brain's"},
		{"outside the retained window", b.srv.Epoch(), 0, "older than the retained window (events 2 to 3)"},
		{"ahead of the brain", b.srv.Epoch(), 9, "ahead of this brain's latest 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: tt.epoch, ResumeAfterSequence: tt.after})
			m := w.next()
			if m.GetStreamReset() == nil || !strings.Contains(m.GetStreamReset().GetReason(), tt.reason) || m.GetEpoch() != b.srv.Epoch() {
				t.Fatalf("first message %v, want a StreamReset saying %q", m, tt.reason)
			}
			w.expect("1 recommended gw-1/a", "2 recommended gw-1/b", "3 recommended gw-1/c", "3 snapshot_end 3")
		})
	}
	t.Run("inside the window replays", func(t *testing.T) {
		w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: 1})
		w.expect("2 recommended gw-1/b", "3 recommended gw-1/c")
	})
}

func TestWatchFilters(t *testing.T) {
	b := newBrain(t, server.Options{})
	b.load("gw-1", "llama", "GPU-a")
	b.load("gw-1", "bert", "GPU-b")
	b.load("gw-2", "llama", "GPU-c")
	b.clock.Advance(301 * time.Second)
	b.evaluate() // 1 gw-1/llama, 2 gw-2/llama, 3 gw-1/bert: the tracker's order (models as first reported, then gateways)
	for _, tt := range []struct {
		name string
		req  *brainv1.WatchUnloadRecommendationsRequest
		want []string
	}{
		{"gateway", &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-2"},
			[]string{"recommended gw-2/llama", "withdrawn gw-2/llama"}},
		{"model", &brainv1.WatchUnloadRecommendationsRequest{ModelNames: []string{"llama"}},
			[]string{"recommended gw-1/llama", "recommended gw-2/llama", "withdrawn gw-1/llama", "withdrawn gw-2/llama"}},
		{"gpu", &brainv1.WatchUnloadRecommendationsRequest{GpuUuids: []string{"GPU-b", "GPU-c"}},
			[]string{"recommended gw-2/llama", "recommended gw-1/bert", "withdrawn gw-1/bert", "withdrawn gw-2/llama"}},
		{"gateway and model", &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1", ModelNames: []string{"bert"}},
			[]string{"recommended gw-1/bert", "withdrawn gw-1/bert"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := b.watch(nil, tt.req)
			recs, end := w.snapshot()
			var got []string
			for _, m := range recs {
				got = append(got, describe(m))
			}
			n := len(got)
			if end.GetSnapshotEnd().GetOpenRecommendations() != int64(n) {
				t.Errorf("snapshot end counts %d, the snapshot held %d", end.GetSnapshotEnd().GetOpenRecommendations(), n)
			}
			// Everything goes away; the withdrawals pass the same filter.
			for _, p := range []struct{ gw, m string }{{"gw-1", "llama"}, {"gw-1", "bert"}, {"gw-2", "llama"}} {
				b.report(p.gw, p.m, "", metrics.StateUnloaded)
			}
			b.evaluate()
			for range n {
				got = append(got, describe(w.next()))
			}
			for i := range got {
				got[i] = got[i][strings.IndexByte(got[i], ' ')+1:] // drop the sequence
				got[i] = strings.TrimSuffix(got[i], " WITHDRAWAL_CAUSE_MODEL_UNLOADED")
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Reload for the next case.
			for _, p := range []struct{ gw, m, gpu string }{{"gw-1", "llama", "GPU-a"}, {"gw-1", "bert", "GPU-b"}, {"gw-2", "llama", "GPU-c"}} {
				b.load(p.gw, p.m, p.gpu)
			}
			b.clock.Advance(301 * time.Second)
			b.evaluate()
		})
	}
}

func TestWatchHeartbeatCarriesTheCurrentSequence(t *testing.T) {
	b := newBrain(t, server.Options{HeartbeatInterval: time.Millisecond})
	b.load("gw-1", "llama", "GPU-a")
	b.clock.Advance(301 * time.Second)
	b.evaluate()
	// Filtered out: the heartbeat still says the stream is complete up to sequence 1.
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-9"})
	w.snapshot()
	for {
		m, err := w.stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.GetHeartbeat() != nil {
			if m.GetSequence() != 1 || m.GetEpoch() != b.srv.Epoch() {
				t.Fatalf("heartbeat %v, want sequence 1 of epoch %s", m, b.srv.Epoch())
			}
			return
		}
	}
}

func TestWatchShutdownEndsStreamsWithUnavailable(t *testing.T) {
	b := newBrain(t, server.Options{})
	w1 := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	w2 := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"})
	w1.snapshot()
	w2.snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*watcher{w1, w2} {
		_, err := w.stream.Recv()
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "resume") {
			t.Errorf("stream ended with %v, want UNAVAILABLE saying how to resume", err)
		}
	}
}

func TestWatchSlowSubscriberIsCutOffOthersKeepReceiving(t *testing.T) {
	const models = 3000 // far more than the transport buffers of a stream (64 KiB window, 64 KiB quota)
	b := newBrain(t, server.Options{WatchQueueSize: 8, WatchMaxPending: 32})
	names := make([]string, models)
	for i := range names {
		names[i] = fmt.Sprintf("model-%04d", i)
		b.load("gw-1", names[i], "GPU-a")
	}
	fast := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	fast.snapshot()
	// A fixed window turns off BDP estimation, which would otherwise let the transport buffer more.
	slowConn := b.dial(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	slow := b.watch(slowConn, &brainv1.WatchUnloadRecommendationsRequest{})
	slow.snapshot() // subscribed; from here on it reads nothing

	drain := func(what string) {
		t.Helper()
		for i := range models {
			if m := fast.next(); m.GetRecommended() == nil && m.GetWithdrawn() == nil {
				t.Fatalf("%s: message %d is %v", what, i, m)
			}
		}
	}
	b.clock.Advance(301 * time.Second)
	b.evaluate() // every model recommended: the slow sender blocks in Send part-way
	drain("recommended")
	samples := make([]metrics.Sample, models)
	now := b.clock.Now()
	for i, n := range names {
		samples[i] = metrics.Sample{Model: n, Start: now.Add(-time.Second), End: now, Requests: 1}
	}
	if err := b.tracker.ReportTraffic("gw-1", samples); err != nil {
		t.Fatal(err)
	}
	b.evaluate() // every one withdrawn: queued for the slow subscriber, which is far behind now
	drain("withdrawn")
	b.clock.Advance(301 * time.Second)
	b.evaluate() // the slow subscriber still has them all pending: it is cut off
	drain("recommended again")

	var last uint64
	var err error
	for {
		var m *brainv1.WatchUnloadRecommendationsResponse
		if m, err = slow.stream.Recv(); err != nil {
			break
		}
		last = m.GetSequence()
	}
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), fmt.Sprintf("resume_after_sequence %d", last)) {
		t.Fatalf("slow stream ended with %v after sequence %d, want RESOURCE_EXHAUSTED saying to resume after it", err, last)
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if e, ok := d.(*errdetails.ErrorInfo); ok {
			info = e
		}
	}
	if info.GetMetadata()["resume_after_sequence"] != fmt.Sprint(last) || info.GetMetadata()["resume_epoch"] != b.srv.Epoch() {
		t.Errorf("ErrorInfo %v lacks the resume cursor (%s, %d)", info, b.srv.Epoch(), last)
	}

	// The fast one is still subscribed, and the slow one resumes where it was cut off.
	b.report("gw-1", names[0], "GPU-a", metrics.StateUnloaded)
	b.evaluate()
	fast.expect(fmt.Sprintf("%d withdrawn gw-1/%s WITHDRAWAL_CAUSE_MODEL_UNLOADED", 3*models+1, names[0]))
	r := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: last})
	if m := r.next(); m.GetStreamReset() != nil || m.GetSequence() != last+1 {
		t.Errorf("resume after %d starts with %q, want the next event", last, describe(m))
	}
}

func TestShouldUnload(t *testing.T) {
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: rules.DefaultEvictAfterIdle, MinQPS: rules.DefaultMinQPS, AlwaysLoaded: []string{"critical-model-v1"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrain(t, server.Options{UnloadPolicy: policy})
	ctx := context.Background()
	ask := func(model, gateway string) (*brainv1.ShouldUnloadResponse, error) {
		return b.client.ShouldUnload(ctx, &brainv1.ShouldUnloadRequest{ModelName: model, GatewayId: gateway})
	}
	if _, err := ask("ghost", ""); status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `"ghost"`) {
		t.Errorf("unknown model: %v, want NOT_FOUND naming it", err)
	}
	b.load("gw-1", "critical-model-v1", "GPU-a")
	b.load("gw-1", "llama", "GPU-a")
	b.load("gw-2", "llama", "GPU-b")
	if _, err := ask("llama", "gw-9"); status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `"gw-9"`) {
		t.Errorf("model on an unknown gateway: %v, want NOT_FOUND naming the gateway", err)
	}

	b.clock.Advance(300 * time.Second)
	if r, err := ask("llama", ""); err != nil || r.GetUnload() || r.GetRule() != rules.UnloadRuleRecentlyUsed {
		t.Errorf("300 s after load: %v %v, want kept as recently used (idle counts from the load)", r, err)
	}
	b.clock.Advance(time.Second)
	r, err := ask("llama", "")
	if err != nil || !r.GetUnload() || r.GetRule() != rules.UnloadRuleIdle || r.GetIdleSeconds() != 301 || !strings.Contains(r.GetReason(), "idle for 301 s") {
		t.Errorf("301 s after load: %v %v, want unload by idle", r, err)
	}
	b.clock.Advance(time.Hour)
	if r, err := ask("critical-model-v1", "gw-1"); err != nil || r.GetUnload() || r.GetRule() != rules.UnloadRulePinned || !strings.Contains(r.GetReason(), "always_loaded") {
		t.Errorf("always_loaded model idle for an hour: %v %v, want kept as pinned", r, err)
	}
	b.request("gw-2", "llama", 0, 4)
	if r, err := ask("llama", "gw-2"); err != nil || r.GetUnload() || r.GetRule() != rules.UnloadRuleInFlight || r.GetInFlight() != 4 {
		t.Errorf("llama on gw-2 with 4 in flight: %v %v, want kept", r, err)
	}
	if r, err := ask("llama", "gw-1"); err != nil || !r.GetUnload() {
		t.Errorf("llama on gw-1, idle and nothing in flight there: %v %v, want unload", r, err)
	}
}

// A subscriber that ends its stream leaves the hub: publishing to the others still works and the
// stream's own Recv sees the cancellation.
func TestWatchCancelledSubscriberLeaves(t *testing.T) {
	b := newBrain(t, server.Options{})
	w := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	w.snapshot()
	if n := b.metric("modelium_brain_watch_subscribers", ""); n != 1 {
		t.Fatalf("watch subscribers = %v, want 1", n)
	}
	w.cancel()
	if _, err := w.stream.Recv(); status.Code(err) != codes.Canceled && !errors.Is(err, io.EOF) {
		t.Errorf("Recv after cancel: %v", err)
	}
	// The server learns of the cancellation asynchronously; the hub must then drop the subscriber.
	deadline := time.Now().Add(5 * time.Second)
	for b.metric("modelium_brain_watch_subscribers", "") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled subscriber is still in the hub after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.load("gw-1", "llama", "GPU-a")
	b.clock.Advance(301 * time.Second)
	b.evaluate()
	other := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	other.expect("1 recommended gw-1/llama", "1 snapshot_end 1")
}

// metric returns the value of a gauge or counter (the one series whose labels include label).
func (b *brain) metric(name, label string) float64 {
	b.t.Helper()
	mfs, err := b.registry.Gather()
	if err != nil {
		b.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetValue() == label }) {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	b.t.Fatalf("no metric %s{%s}", name, label)
	return 0
}

func TestWatchMetrics(t *testing.T) {
	b := newBrain(t, server.Options{})
	b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{}).snapshot()
	b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"}).snapshot()
	if n := b.metric("modelium_brain_watch_subscribers", ""); n != 2 {
		t.Errorf("watch subscribers = %v, want 2", n)
	}
	b.load("gw-1", "llama", "GPU-a")
	b.load("gw-1", "bert", "GPU-a")
	b.clock.Advance(301 * time.Second)
	b.evaluate()
	b.report("gw-1", "bert", "GPU-a", metrics.StateUnloaded)
	b.evaluate()
	if r, w := b.metric("modelium_brain_recommendations_total", "recommended"), b.metric("modelium_brain_recommendations_total", "withdrawn"); r != 2 || w != 1 {
		t.Errorf("recommendations: %v recommended, %v withdrawn; want 2 and 1", r, w)
	}
}
