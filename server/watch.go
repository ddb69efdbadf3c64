package server

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// WatchUnloadRecommendations streams unload recommendations. Until the unload policy lands
// (issue #6) there are never any: a subscriber gets an empty snapshot, its end marker, and
// heartbeats; the stream ends with UNAVAILABLE when the brain shuts down.
func (s *Server) WatchUnloadRecommendations(req *brainv1.WatchUnloadRecommendationsRequest, stream brainv1.BrainService_WatchUnloadRecommendationsServer) error {
	ctx := stream.Context()
	var seq uint64
	send := func(m *brainv1.WatchUnloadRecommendationsResponse) error {
		m.Epoch, m.Sequence, m.Time = s.epoch, seq, timestamppb.New(s.now())
		return stream.Send(m)
	}
	if req.GetResumeEpoch() != "" && req.GetResumeEpoch() != s.epoch {
		if err := send(&brainv1.WatchUnloadRecommendationsResponse{Event: &brainv1.WatchUnloadRecommendationsResponse_StreamReset{
			StreamReset: &brainv1.StreamReset{Reason: "epoch " + req.GetResumeEpoch() + " is not this brain's (it restarted): a fresh snapshot follows"},
		}}); err != nil {
			return err
		}
	}
	if err := send(&brainv1.WatchUnloadRecommendationsResponse{Event: &brainv1.WatchUnloadRecommendationsResponse_SnapshotEnd{SnapshotEnd: &brainv1.SnapshotEnd{}}}); err != nil {
		return err
	}
	tick := time.NewTicker(s.opts.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stopping:
			return errShuttingDown
		case <-tick.C:
			if err := send(&brainv1.WatchUnloadRecommendationsResponse{Event: &brainv1.WatchUnloadRecommendationsResponse_Heartbeat{Heartbeat: &brainv1.Heartbeat{}}}); err != nil {
				return err
			}
		}
	}
}
