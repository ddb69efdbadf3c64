package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/recommend"
)

// WatchUnloadRecommendations streams unload recommendations: the unload-only view of
// WatchRecommendations, in the same sequence space, with the same guarantees (see
// recommend.Hub): a snapshot of the open ones and a SnapshotEnd, or the replay of a resume, then
// live events and heartbeats. The stream ends with RESOURCE_EXHAUSTED when the subscriber falls too
// far behind and with UNAVAILABLE when the brain shuts down.
func (s *Server) WatchUnloadRecommendations(req *brainv1.WatchUnloadRecommendationsRequest, stream brainv1.BrainService_WatchUnloadRecommendationsServer) error {
	f := recommend.NewFilter(req.GetGatewayId(), req.GetModelNames(), req.GetGpuUuids(), []recommend.Kind{recommend.Unload})
	return s.watch(stream.Context(), req.GetGatewayId(), f, req.GetResumeEpoch(), req.GetResumeAfterSequence(), func(o recommend.Out[*wire]) error {
		if o.Kind == recommend.OutEvent {
			return stream.Send(o.Msg.unloadMessage())
		}
		m := &brainv1.WatchUnloadRecommendationsResponse{Epoch: s.epoch, Sequence: o.Seq, Time: timestamppb.New(s.now())}
		switch o.Kind {
		case recommend.OutReset:
			m.Event = &brainv1.WatchUnloadRecommendationsResponse_StreamReset{StreamReset: &brainv1.StreamReset{Reason: o.Reason}}
		case recommend.OutSnapshotEnd:
			m.Event = &brainv1.WatchUnloadRecommendationsResponse_SnapshotEnd{SnapshotEnd: s.snapshotEnd(req.GetGatewayId(), o.Open)}
		default:
			m.Event = &brainv1.WatchUnloadRecommendationsResponse_Heartbeat{Heartbeat: &brainv1.Heartbeat{}}
		}
		return stream.Send(m)
	})
}

// WatchRecommendations streams recommendations of the kinds asked for (every kind when none is),
// with the guarantees of WatchUnloadRecommendations, in the same sequence space.
func (s *Server) WatchRecommendations(req *brainv1.WatchRecommendationsRequest, stream brainv1.BrainService_WatchRecommendationsServer) error {
	var kinds []recommend.Kind
	for _, k := range req.GetKinds() {
		switch k {
		case brainv1.RecommendationKind_RECOMMENDATION_KIND_UNLOAD:
			kinds = append(kinds, recommend.Unload)
		case brainv1.RecommendationKind_RECOMMENDATION_KIND_LOAD:
			kinds = append(kinds, recommend.Load)
		}
	}
	f := recommend.NewFilter(req.GetGatewayId(), req.GetModelNames(), req.GetGpuUuids(), kinds)
	return s.watch(stream.Context(), req.GetGatewayId(), f, req.GetResumeEpoch(), req.GetResumeAfterSequence(), func(o recommend.Out[*wire]) error {
		if o.Kind == recommend.OutEvent {
			return stream.Send(o.Msg.allMessage())
		}
		m := &brainv1.WatchRecommendationsResponse{Epoch: s.epoch, Sequence: o.Seq, Time: timestamppb.New(s.now())}
		switch o.Kind {
		case recommend.OutReset:
			m.Event = &brainv1.WatchRecommendationsResponse_StreamReset{StreamReset: &brainv1.StreamReset{Reason: o.Reason}}
		case recommend.OutSnapshotEnd:
			m.Event = &brainv1.WatchRecommendationsResponse_SnapshotEnd{SnapshotEnd: s.snapshotEnd(req.GetGatewayId(), o.Open)}
		default:
			m.Event = &brainv1.WatchRecommendationsResponse_Heartbeat{Heartbeat: &brainv1.Heartbeat{}}
		}
		return stream.Send(m)
	})
}

// watch subscribes to the hub and sends until the stream ends.
//
// Every Send happens on the handler's own goroutine, inside Subscriber.Run, so the handler never
// returns while a Send is in progress: grpc-go does not allow a Send concurrent with the end of
// the call. The hub never waits for the stream: a subscriber that stops reading is cut off there
// (its queue dropped) as soon as it falls too far behind; if its Send is blocked on flow control
// at that moment, the handler returns RESOURCE_EXHAUSTED once the client reads again or goes away.
// At shutdown, a stream whose Send is blocked likewise ends when the shutdown deadline closes the
// connections.
//
// A watch that names a gateway keeps it from expiring (server.gateway_ttl) while it is open; one
// that names none sees, under authorization, only the caller's gateways (a named one was
// authorized by the interceptor).
func (s *Server) watch(ctx context.Context, gateway string, f recommend.Filter, resumeEpoch string, after uint64, send func(recommend.Out[*wire]) error) error {
	if gateway == "" {
		scope, err := s.watchScope(ctx)
		if err != nil {
			return err
		}
		f.Allowed = scope
	}
	s.watchStarted(gateway)
	defer s.watchEnded(gateway)
	sub, _ := s.hub.Subscribe(f, resumeEpoch, after)
	defer s.hub.Unsubscribe(sub)
	tick := time.NewTicker(s.opts.HeartbeatInterval)
	defer tick.Stop()
	return s.toStatus(sub.Run(ctx, tick.C, send))
}
