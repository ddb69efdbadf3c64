package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/server"
)

// prewarm is a test policy: the fixed policy for LOADED pairs, and a load recommendation (rule
// "test_prewarm", next request one minute ahead, confidence 0.9) for every UNLOADED pair whose
// model is in its set. (The predictive policy is another package's.)
type prewarm struct {
	fixed *recommend.FixedPolicy
	mu    sync.Mutex
	load  map[string]bool
}

func newPrewarm(models ...string) *prewarm {
	p := &prewarm{fixed: recommend.NewFixedPolicy(nil), load: map[string]bool{}}
	p.set(true, models...)
	return p
}

func (p *prewarm) set(load bool, models ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range models {
		p.load[m] = load
	}
}

func (p *prewarm) Decide(pair *recommend.Pair) recommend.Decision {
	if pair.State == metrics.StateLoaded {
		return p.fixed.Decide(pair)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return recommend.Decision{Act: p.load[pair.Model], Rule: "test_prewarm", NextRequest: pair.Now.Add(time.Minute), Confidence: 0.9}
}

func (p *prewarm) Reason(pair *recommend.Pair, d recommend.Decision) string {
	if pair.State == metrics.StateLoaded {
		return p.fixed.Reason(pair, d)
	}
	return fmt.Sprintf("%q is expected again at %s (confidence %.1f)", pair.Model, d.NextRequest.Format(time.RFC3339), d.Confidence)
}

// unloaded reports a model LOADED on gpu, then UNLOADED (an UNLOADED report names no GPU).
func (b *brain) unloaded(gateway, model, gpu string) {
	b.t.Helper()
	b.load(gateway, model, gpu)
	b.report(gateway, model, "", metrics.StateUnloaded)
}

// allWatcher reads one WatchRecommendations stream.
type allWatcher struct {
	t      testing.TB
	stream brainv1.BrainService_WatchRecommendationsClient
	cancel context.CancelFunc
}

func (b *brain) watchAll(client brainv1.BrainServiceClient, req *brainv1.WatchRecommendationsRequest) *allWatcher {
	b.t.Helper()
	if client == nil {
		client = b.client
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	b.t.Cleanup(cancel)
	stream, err := client.WatchRecommendations(ctx, req)
	if err != nil {
		b.t.Fatal(err)
	}
	return &allWatcher{t: b.t, stream: stream, cancel: cancel}
}

func (w *allWatcher) next() *brainv1.WatchRecommendationsResponse {
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

// snapshot reads up to and including SnapshotEnd and describes what it read.
func (w *allWatcher) snapshot() []string {
	w.t.Helper()
	var got []string
	for {
		m := w.next()
		got = append(got, describeAll(m))
		if m.GetSnapshotEnd() != nil {
			return got
		}
	}
}

func (w *allWatcher) expect(want ...string) {
	w.t.Helper()
	for _, d := range want {
		if got := describeAll(w.next()); got != d {
			w.t.Fatalf("got %q, want %q", got, d)
		}
	}
}

// describeAll renders a message: "7 load recommended gw-1/llama", "8 unload withdrawn gw-1/llama
// WITHDRAWAL_CAUSE_MODEL_UNLOADED".
func describeAll(m *brainv1.WatchRecommendationsResponse) string {
	rec := func(r *brainv1.Recommendation) string {
		if u := r.GetUnload(); u != nil {
			return fmt.Sprintf("unload %%s %s/%s", u.GetGatewayId(), u.GetModelName())
		}
		l := r.GetLoad()
		return fmt.Sprintf("load %%s %s/%s", l.GetGatewayId(), l.GetModelName())
	}
	switch {
	case m.GetRecommended() != nil:
		return fmt.Sprintf("%d ", m.GetSequence()) + fmt.Sprintf(rec(m.GetRecommended()), "recommended")
	case m.GetWithdrawn() != nil:
		return fmt.Sprintf("%d ", m.GetSequence()) + fmt.Sprintf(rec(m.GetWithdrawn().GetRecommendation()), "withdrawn") + " " + m.GetWithdrawn().GetCause().String()
	case m.GetSnapshotEnd() != nil:
		return fmt.Sprintf("%d snapshot_end %d", m.GetSequence(), m.GetSnapshotEnd().GetOpenRecommendations())
	case m.GetStreamReset() != nil:
		return fmt.Sprintf("%d reset", m.GetSequence())
	}
	return fmt.Sprintf("%d heartbeat", m.GetSequence())
}

// Both streams read one sequence space: the unload view skips the load events, and nothing else.
func TestWatchRecommendationsCarriesLoadsAndUnloadsInOneSequence(t *testing.T) {
	b := newBrain(t, server.Options{Policy: newPrewarm("periodic")})
	b.load("gw-1", "idle", "GPU-a")
	b.unloaded("gw-1", "periodic", "GPU-b")
	all := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{})
	if got := all.snapshot(); fmt.Sprint(got) != "[0 snapshot_end 0]" {
		t.Fatalf("first snapshot %v, want empty", got)
	}
	unload := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{})
	unload.snapshot()

	b.clock.Advance(301 * time.Second)
	now := b.clock.Now()
	b.evaluate()
	all.expect("1 unload recommended gw-1/idle")
	m := all.next()
	if describeAll(m) != "2 load recommended gw-1/periodic" {
		t.Fatalf("got %q, want periodic's load", describeAll(m))
	}
	l := m.GetRecommended().GetLoad()
	if l.GetGpuUuid() != "GPU-b" || l.GetRuntime() != "vllm" || l.GetRule() != "test_prewarm" || l.GetConfidence() != 0.9 ||
		!l.GetExpectedNextRequestTime().AsTime().Equal(now.Add(time.Minute)) || !l.GetRecommendedTime().AsTime().Equal(now) ||
		l.GetMemoryBytes() != 1<<30 || !strings.Contains(l.GetReason(), "expected again at") || m.GetEpoch() != b.srv.Epoch() {
		t.Errorf("load recommendation %v: want the last GPU and runtime, the prediction, the rule and the reason", l)
	}
	unload.expect("1 recommended gw-1/idle")

	b.report("gw-1", "periodic", "GPU-b", metrics.StateLoading) // the gateway acts on it
	b.evaluate()
	all.expect("3 load withdrawn gw-1/periodic WITHDRAWAL_CAUSE_MODEL_LOADED")
	b.request("gw-1", "idle", 1, 0)
	b.evaluate()
	all.expect("4 unload withdrawn gw-1/idle WITHDRAWAL_CAUSE_TRAFFIC_RESUMED")
	unload.expect("4 withdrawn gw-1/idle WITHDRAWAL_CAUSE_TRAFFIC_RESUMED") // 2 and 3 are loads: not in this view

	// A cursor of one stream resumes the other exactly.
	r := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: 1})
	r.expect("2 load recommended gw-1/periodic", "3 load withdrawn gw-1/periodic WITHDRAWAL_CAUSE_MODEL_LOADED", "4 unload withdrawn gw-1/idle WITHDRAWAL_CAUSE_TRAFFIC_RESUMED")
	u := b.watch(nil, &brainv1.WatchUnloadRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: 2})
	u.expect("4 withdrawn gw-1/idle WITHDRAWAL_CAUSE_TRAFFIC_RESUMED")
}

func TestWatchRecommendationsKinds(t *testing.T) {
	b := newBrain(t, server.Options{Policy: newPrewarm("periodic")})
	b.load("gw-1", "idle", "GPU-a")
	b.unloaded("gw-1", "periodic", "GPU-b")
	b.clock.Advance(301 * time.Second)
	b.evaluate() // 1 unload idle, 2 load periodic
	const (
		unload = brainv1.RecommendationKind_RECOMMENDATION_KIND_UNLOAD
		load   = brainv1.RecommendationKind_RECOMMENDATION_KIND_LOAD
	)
	for _, c := range []struct {
		name  string
		kinds []brainv1.RecommendationKind
		want  string
	}{
		{"none: every kind", nil, "[1 unload recommended gw-1/idle 2 load recommended gw-1/periodic 2 snapshot_end 2]"},
		{"both", []brainv1.RecommendationKind{load, unload}, "[1 unload recommended gw-1/idle 2 load recommended gw-1/periodic 2 snapshot_end 2]"},
		{"loads only", []brainv1.RecommendationKind{load}, "[2 load recommended gw-1/periodic 2 snapshot_end 1]"},
		{"unloads only", []brainv1.RecommendationKind{unload}, "[1 unload recommended gw-1/idle 2 snapshot_end 1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fmt.Sprint(b.watchAll(nil, &brainv1.WatchRecommendationsRequest{Kinds: c.kinds}).snapshot()); got != c.want {
				t.Errorf("snapshot %s, want %s", got, c.want)
			}
		})
	}
	for _, c := range []struct {
		name  string
		kinds []brainv1.RecommendationKind
		field string
	}{
		{"unspecified", []brainv1.RecommendationKind{brainv1.RecommendationKind_RECOMMENDATION_KIND_UNSPECIFIED}, "kinds[0]"},
		{"unknown value", []brainv1.RecommendationKind{load, 7}, "kinds[1]"},
		{"twice", []brainv1.RecommendationKind{load, unload, load}, "kinds[2]"},
	} {
		t.Run("invalid: "+c.name, func(t *testing.T) {
			_, err := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{Kinds: c.kinds}).stream.Recv()
			st := status.Convert(err)
			var field string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
					field = br.GetFieldViolations()[0].GetField()
				}
			}
			if st.Code() != codes.InvalidArgument || field != c.field {
				t.Errorf("kinds %v: %v (field %q), want INVALID_ARGUMENT on %s", c.kinds, err, field, c.field)
			}
		})
	}
}

func TestWatchRecommendationsResetsOnAnotherEpochAndOutsideTheWindow(t *testing.T) {
	b := newBrain(t, server.Options{Policy: newPrewarm("p1", "p2", "p3"), WatchWindow: 2})
	for _, m := range []string{"p1", "p2", "p3"} {
		b.unloaded("gw-1", m, "GPU-a")
	}
	b.evaluate() // 1-3: loads; the window keeps 2 and 3
	for _, c := range []struct{ name, epoch, reason string }{
		{"another epoch (the brain restarted)", "0123456789abcdef", "is not this brain's"},
		{"outside the window", b.srv.Epoch(), "older than the retained window (events 2 to 3)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{ResumeEpoch: c.epoch, ResumeAfterSequence: 0})
			m := w.next()
			if m.GetStreamReset() == nil || !strings.Contains(m.GetStreamReset().GetReason(), c.reason) || m.GetEpoch() != b.srv.Epoch() {
				t.Fatalf("first message %v, want a StreamReset saying %q", m, c.reason)
			}
			w.expect("1 load recommended gw-1/p1", "2 load recommended gw-1/p2", "3 load recommended gw-1/p3", "3 snapshot_end 3")
		})
	}
}

// A slow WatchRecommendations subscriber is cut off with the cursor to resume from, and resumes
// exactly there; a fast one on the old stream keeps receiving its view.
func TestWatchRecommendationsSlowSubscriberIsCutOffAndResumes(t *testing.T) {
	const models = 3000 // far more than the transport buffers of a stream (64 KiB window, 64 KiB quota)
	p := newPrewarm()
	b := newBrain(t, server.Options{Policy: p, WatchQueueSize: 8, WatchMaxPending: 32})
	names := make([]string, models)
	for i := range names {
		names[i] = fmt.Sprintf("model-%04d", i)
		b.unloaded("gw-1", names[i], "GPU-a")
	}
	fast := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{Kinds: []brainv1.RecommendationKind{brainv1.RecommendationKind_RECOMMENDATION_KIND_LOAD}})
	fast.snapshot()
	slowConn := b.dial(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	slow := b.watchAll(slowConn, &brainv1.WatchRecommendationsRequest{})
	slow.snapshot() // subscribed; from here on it reads nothing

	drain := func(what string) {
		t.Helper()
		for i := range models {
			if m := fast.next(); m.GetRecommended().GetLoad() == nil && m.GetWithdrawn().GetRecommendation().GetLoad() == nil {
				t.Fatalf("%s: message %d is %v", what, i, m)
			}
		}
	}
	p.set(true, names...)
	b.evaluate() // every model to be loaded: the slow sender blocks in Send part-way
	drain("recommended")
	p.set(false, names...)
	b.evaluate() // every one withdrawn: queued for the slow subscriber, which is far behind now
	drain("withdrawn")
	p.set(true, names...)
	b.evaluate() // the slow subscriber still has them all pending: it is cut off
	drain("recommended again")

	var last uint64
	var err error
	for {
		var m *brainv1.WatchRecommendationsResponse
		if m, err = slow.stream.Recv(); err != nil {
			break
		}
		last = m.GetSequence()
	}
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), fmt.Sprintf("resume_after_sequence %d", last)) {
		t.Fatalf("slow stream ended with %v after sequence %d, want RESOURCE_EXHAUSTED saying to resume after it", err, last)
	}
	b.report("gw-1", names[0], "GPU-a", metrics.StateLoading)
	b.evaluate()
	fast.expect(fmt.Sprintf("%d load withdrawn gw-1/%s WITHDRAWAL_CAUSE_MODEL_LOADED", 3*models+1, names[0]))
	r := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{ResumeEpoch: b.srv.Epoch(), ResumeAfterSequence: last})
	if m := r.next(); m.GetStreamReset() != nil || m.GetSequence() != last+1 {
		t.Errorf("resume after %d starts with %q, want the next event", last, describeAll(m))
	}
}

func TestWatchRecommendationsHeartbeatAndShutdown(t *testing.T) {
	b := newBrain(t, server.Options{HeartbeatInterval: time.Millisecond, Policy: newPrewarm("p")})
	b.unloaded("gw-1", "p", "GPU-a")
	b.evaluate()
	w := b.watchAll(nil, &brainv1.WatchRecommendationsRequest{Kinds: []brainv1.RecommendationKind{brainv1.RecommendationKind_RECOMMENDATION_KIND_UNLOAD}})
	w.snapshot()
	for {
		m, err := w.stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.GetHeartbeat() != nil {
			if m.GetSequence() != 1 || m.GetEpoch() != b.srv.Epoch() {
				t.Fatalf("heartbeat %v, want sequence 1 (the load, filtered out) of epoch %s", m, b.srv.Epoch())
			}
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := w.stream.Recv(); err != nil {
			if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "resume") {
				t.Errorf("stream ended with %v, want UNAVAILABLE saying how to resume", err)
			}
			break
		}
	}
}
