package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
)

// ReportModelState records a lifecycle change of a model on a gateway. A transition that makes
// no sense is recorded anyway, logged and counted; a LOADED or FAILED report releases the GPU
// reservation the load used.
func (s *Server) ReportModelState(ctx context.Context, req *brainv1.ReportModelStateRequest) (*brainv1.ReportModelStateResponse, error) {
	var at time.Time
	if req.GetObservedTime() != nil {
		at = req.GetObservedTime().AsTime()
	}
	res, err := s.tracker.ReportState(metrics.StateReport{
		Gateway:     req.GetGatewayId(),
		Model:       req.GetModelName(),
		Runtime:     req.GetRuntime(),
		GPUUUID:     req.GetGpuUuid(),
		State:       metrics.State(req.GetState()),
		MemoryBytes: req.GetMemoryBytes(),
		Time:        at,
	})
	if err != nil {
		return nil, s.toStatus(err)
	}
	if res.Unexpected {
		s.log.WarnContext(ctx, "unexpected model state transition (recorded anyway)",
			"gateway_id", req.GetGatewayId(), "model", req.GetModelName(), "from", res.Previous.String(), "to", metrics.State(req.GetState()).String())
	}
	s.releaseReservation(req)
	return &brainv1.ReportModelStateResponse{
		PreviousState:        brainv1.ModelState(res.Previous),
		UnexpectedTransition: res.Unexpected,
	}, nil
}

// ReportTraffic records a batch of traffic samples, all or nothing.
func (s *Server) ReportTraffic(_ context.Context, req *brainv1.ReportTrafficRequest) (*brainv1.ReportTrafficResponse, error) {
	samples := make([]metrics.Sample, len(req.GetSamples()))
	for i, p := range req.GetSamples() {
		samples[i] = metrics.Sample{
			Model:    p.GetModelName(),
			Start:    p.GetStartTime().AsTime(),
			End:      p.GetEndTime().AsTime(),
			Requests: p.GetRequests(),
			Errors:   p.GetErrors(),
			InFlight: p.GetInFlight(),
		}
	}
	if err := s.tracker.ReportTraffic(req.GetGatewayId(), samples); err != nil {
		return nil, s.toStatus(err)
	}
	return &brainv1.ReportTrafficResponse{AcceptedSamples: int64(len(samples))}, nil
}

// ListModels shows every tracked model, sorted by name.
func (s *Server) ListModels(_ context.Context, req *brainv1.ListModelsRequest) (*brainv1.ListModelsResponse, error) {
	views := s.tracker.Models(req.GetGatewayId())
	resp := &brainv1.ListModelsResponse{Models: make([]*brainv1.ModelStatus, 0, len(views))}
	for _, v := range views {
		resp.Models = append(resp.Models, modelStatusProto(v))
	}
	return resp, nil
}

func modelStatusProto(v metrics.ModelView) *brainv1.ModelStatus {
	m := &brainv1.ModelStatus{
		ModelName:          v.Name,
		QpsLastMinute:      v.QPS1m,
		QpsLastFiveMinutes: v.QPS5m,
		IdleSeconds:        v.IdleSeconds,
		InFlight:           v.InFlight,
		LastRequestTime:    optionalTime(v.LastRequest),
		RequestsTotal:      v.RequestsTotal,
		ErrorsTotal:        v.ErrorsTotal,
	}
	for _, p := range v.Placements {
		m.Placements = append(m.Placements, &brainv1.ModelPlacement{
			GatewayId:   p.Gateway,
			State:       brainv1.ModelState(p.State),
			Runtime:     p.Runtime,
			GpuUuid:     p.GPUUUID,
			MemoryBytes: p.MemoryBytes,
			StateTime:   optionalTime(p.StateTime),
			LoadedTime:  optionalTime(p.LoadedTime),
		})
	}
	return m
}

// optionalTime leaves a zero time unset on the wire.
func optionalTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
