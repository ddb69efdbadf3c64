package server

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// WatchUnloadRecommendations streams unload recommendations (see hub.go for the guarantees): a
// snapshot of the open ones and a SnapshotEnd, or the replay of a resume, then live events and
// heartbeats. The stream ends with RESOURCE_EXHAUSTED when the subscriber falls too far behind and
// with UNAVAILABLE when the brain shuts down.
//
// The handler only waits; a sender goroutine of its own does every Send, so that a subscriber that
// stopped reading (its Send blocked on flow control) can still be cut off or shut down.
func (s *Server) WatchUnloadRecommendations(req *brainv1.WatchUnloadRecommendationsRequest, stream brainv1.BrainService_WatchUnloadRecommendationsServer) error {
	f := newFilter(req.GetGatewayId(), req.GetModelNames(), req.GetGpuUuids())
	if req.GetGatewayId() == "" { // a named gateway was authorized by the interceptor
		scope, err := s.watchScope(stream.Context())
		if err != nil {
			return err
		}
		f.allowed = scope
	}
	sub, _ := s.hub.subscribe(f, req.GetResumeEpoch(), req.GetResumeAfterSequence())
	defer s.hub.unsubscribe(sub)
	s.markSyncRequired(req.GetGatewayId(), sub.initial)
	s.watchStarted(req.GetGatewayId())
	defer s.watchEnded(req.GetGatewayId())

	sent := make(chan error, 1)
	go func() { sent <- s.sendRecommendations(stream, sub) }()
	select {
	case err := <-sent:
		return s.toStatus(err)
	case <-stream.Context().Done():
		return s.toStatus(stream.Context().Err())
	case <-s.stopping:
		return errShuttingDown
	case <-sub.cut:
		return s.toStatus(sub.err())
	}
}

// sendRecommendations is a subscriber's sender: the initial messages, then whatever the hub
// queued, and a heartbeat on every tick once the queue is sent. It returns when a Send fails or
// the stream is done.
func (s *Server) sendRecommendations(stream brainv1.BrainService_WatchUnloadRecommendationsServer, sub *subscriber) error {
	for _, m := range sub.initial {
		if err := stream.Send(m); err != nil {
			return err
		}
		if sub.replaying {
			sub.delivered.Store(m.GetSequence())
		}
	}
	sub.delivered.Store(sub.initialThrough)
	sub.initial = nil

	tick := time.NewTicker(s.opts.HeartbeatInterval)
	defer tick.Stop()
	var batch []*event
	for {
		heartbeat := false
		select {
		case <-sub.done:
			return nil
		case <-sub.wake:
		case <-tick.C:
			heartbeat = true
		}
		var through uint64
		batch, through = sub.take(batch)
		for _, ev := range batch {
			if ev == nil {
				continue
			}
			if err := stream.Send(ev.msg); err != nil {
				return err
			}
			sub.delivered.Store(ev.seq)
		}
		sub.delivered.Store(through)
		if heartbeat {
			hb := &brainv1.WatchUnloadRecommendationsResponse{
				Epoch: s.epoch, Sequence: through, Time: timestamppb.New(s.now()),
				Event: &brainv1.WatchUnloadRecommendationsResponse_Heartbeat{Heartbeat: &brainv1.Heartbeat{}},
			}
			if err := stream.Send(hb); err != nil {
				return err
			}
		}
	}
}
