package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
)

// blockingStream is a WatchUnloadRecommendations stream whose Send of an event blocks until the
// test releases it, as a Send blocked on flow control by a client that stopped reading does.
type blockingStream struct {
	grpc.ServerStream // nil: only Send and Context are called
	ctx               context.Context
	entered           chan uint64
	release           chan struct{}
	inSend            atomic.Bool
}

func (s *blockingStream) Context() context.Context { return s.ctx }

func (s *blockingStream) Send(m *brainv1.WatchUnloadRecommendationsResponse) error {
	if m.GetRecommended() == nil && m.GetWithdrawn() == nil {
		return nil
	}
	s.inSend.Store(true)
	defer s.inSend.Store(false)
	s.entered <- m.GetSequence()
	<-s.release
	return nil
}

// The handler never returns while its Send is in progress (grpc-go does not allow a Send
// concurrent with the end of the call), neither when the brain shuts down nor when the subscriber
// is cut off for being slow: it returns once the Send does, with the status of why it ended.
func TestWatchHandlerNeverReturnsDuringASend(t *testing.T) {
	for _, c := range []struct {
		name string
		end  func(s *Server, tracker *metrics.Tracker, now time.Time) // ends the stream while Send is blocked
		code codes.Code
	}{
		{"shutdown", func(s *Server, _ *metrics.Tracker, _ time.Time) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		}, codes.Unavailable},
		{"cut off", func(s *Server, tracker *metrics.Tracker, now time.Time) {
			for i := range 4 { // traffic withdraws the pending recommendations: more than 1 pending
				if err := tracker.ReportTraffic("gw", []metrics.Sample{{Model: fmt.Sprint("m", i), Start: now.Add(-time.Second), End: now, Requests: 1}}); err != nil {
					t.Error(err)
				}
			}
			s.Evaluate(now) // 4 withdrawals pending behind the blocked Send
			// The next publication finds more than 1 pending: cut off.
			if _, err := s.Engine().Recommend(recommend.Recommendation{Kind: recommend.Unload, Model: "m0", Gateway: "gw", Rule: "make_room"}, now); err != nil {
				t.Error(err)
			}
		}, codes.ResourceExhausted},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			tracker := metrics.NewTracker(metrics.Config{Now: clock})
			s := New(Options{Logger: slog.New(slog.DiscardHandler), Clock: clock, Tracker: tracker, DecisionInterval: -1,
				WatchQueueSize: 1, WatchMaxPending: 1, HeartbeatInterval: time.Hour})
			t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
			for i := range 4 {
				if _, err := tracker.ReportState(metrics.StateReport{Gateway: "gw", Model: fmt.Sprint("m", i), State: metrics.StateLoaded}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream := &blockingStream{ctx: ctx, entered: make(chan uint64, 16), release: make(chan struct{}, 16)}
			done := make(chan error, 1)
			go func() {
				err := s.WatchUnloadRecommendations(&brainv1.WatchUnloadRecommendationsRequest{}, stream)
				if stream.inSend.Load() {
					t.Error("the handler returned while its Send was in progress")
				}
				done <- err
			}()
			mu.Lock()
			now = now.Add(301 * time.Second)
			mu.Unlock()
			s.Evaluate(clock()) // 1-4 recommended: the sender blocks in the Send of 1
			if seq := <-stream.entered; seq != 1 {
				t.Fatalf("first Send of sequence %d, want 1", seq)
			}
			c.end(s, tracker, clock())
			var err error
			select { // give a wrong handler the chance to return early (never a failure for a right one)
			case err = <-done:
				stream.release <- struct{}{}
			case <-time.After(50 * time.Millisecond):
				stream.release <- struct{}{}
				select {
				case err = <-done:
				case seq := <-stream.entered:
					t.Fatalf("sent sequence %d after the stream ended", seq)
				}
			}
			if status.Code(err) != c.code {
				t.Errorf("the handler returned %v, want %v", err, c.code)
			}
		})
	}
}
