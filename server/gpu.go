package server

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
)

// ChooseGPU picks the GPU a model should be loaded on, from the inventory snapshot (never the
// hardware) minus outstanding reservations, and reserves the memory when asked.
func (s *Server) ChooseGPU(_ context.Context, req *brainv1.ChooseGPURequest) (*brainv1.ChooseGPUResponse, error) {
	greq := gpuRequest(req)
	greq.Now = s.now()
	if greq.AllowEviction {
		greq.Residents = s.residents(greq.Now)
		greq.NextUse = s.victimEstimate(greq.Now, greq.Residents)
		if greq.Reserve {
			s.makeRoom.Lock()
			defer s.makeRoom.Unlock()
			s.withdrawMakeRoomLocked(greq.Now)
		}
	}
	p, err := s.gpus.Choose(greq)
	if err != nil {
		return nil, s.toStatus(err)
	}
	if p.ReservationID != "" && len(p.Evictions) > 0 {
		s.publishMakeRoomLocked(p, greq.Now)
	}
	s.recorder.Decision(metrics.DecisionGPU, p.Strategy)
	resp := &brainv1.ChooseGPUResponse{
		Gpu:            gpuProto(gpu.DeviceStatus{Device: p.Device, ReservedBytes: p.Device.FreeBytes - p.AvailableBytes, AvailableBytes: p.AvailableBytes}),
		FreeBytesAfter: p.FreeAfterBytes,
		ReservationId:  p.ReservationID,
		Strategy:       p.Strategy,
		Reason:         p.Reason(),
	}
	if p.ReservationID != "" {
		resp.ReservationExpiresAt = timestamppb.New(p.ExpiresAt)
	}
	resp.Gpus = make([]*brainv1.GPU, 0, len(p.GPUs)+1)
	for _, g := range p.All() {
		resp.Gpus = append(resp.Gpus, gpuProto(gpu.DeviceStatus{Device: g.Device, ReservedBytes: g.Device.FreeBytes - g.AvailableBytes, AvailableBytes: g.AvailableBytes}))
	}
	for _, e := range p.Evictions {
		resp.Evictions = append(resp.Evictions, &brainv1.Eviction{
			ModelName: e.Model, GatewayId: e.Gateway, GpuUuid: e.UUID, MemoryBytes: e.MemoryBytes, Reason: e.Reason,
		})
	}
	return resp, nil
}

// victimsEstimator is a policy that estimates, for eviction plans, when each loaded model is wanted
// next (predict.EnginePolicy: its history's plan, recency where it has none, weighed by size).
type victimsEstimator interface {
	Victims(now time.Time, lastRequest func(model, gateway string) time.Time, bytes func(model, gateway string) int64, reference int64) gpu.NextUseEstimator
}

// victimEstimate is the next-use estimate an eviction plan ranks victims by: Options.NextUse when
// set, else the keep-alive policy's own when it has one, else nil (the planner's recency).
func (s *Server) victimEstimate(now time.Time, residents map[string][]gpu.Resident) gpu.NextUseEstimator {
	if s.opts.NextUse != nil {
		return s.opts.NextUse
	}
	v, ok := s.opts.Policy.(victimsEstimator)
	if !ok {
		return nil
	}
	byKey := map[[2]string]gpu.Resident{}
	var total, n int64
	for _, rs := range residents {
		for _, r := range rs {
			byKey[[2]string{r.Model, r.Gateway}] = r
			total += r.MemoryBytes / 1024 // in KiB: a sum of many large models stays far from overflow
			n++
		}
	}
	reference := int64(1)
	if n > 0 && total > 0 {
		reference = max(total/n*1024, 1)
	}
	lastRequest := func(model, gateway string) time.Time { return byKey[[2]string{model, gateway}].LastRequest }
	bytes := func(model, gateway string) int64 { return max(byKey[[2]string{model, gateway}].MemoryBytes, 1) }
	return v.Victims(now, lastRequest, bytes, reference)
}

// residents lists, per GPU, the models the gateways reported on it (loaded, loading or
// unloading), with what eviction must respect: the unload policy's pins, requests in flight, the
// allocator's reservations for a load in progress.
func (s *Server) residents(now time.Time) map[string][]gpu.Resident {
	reserved := map[[2]string]int64{}
	for _, r := range s.gpus.Reservations(now) {
		reserved[[2]string{r.Model, r.Gateway}] += r.Bytes
	}
	out := map[string][]gpu.Resident{}
	for _, m := range s.tracker.Models("") {
		pinned := s.unload.Pinned(m.Name)
		for _, p := range m.Placements {
			var state gpu.ResidentState
			switch p.State {
			case metrics.StateLoaded:
				state = gpu.ResidentLoaded
			case metrics.StateLoading:
				state = gpu.ResidentLoading
			case metrics.StateUnloading:
				state = gpu.ResidentOther
			default:
				continue
			}
			if p.GPUUUID == "" {
				continue
			}
			out[p.GPUUUID] = append(out[p.GPUUUID], gpu.Resident{
				Model: m.Name, Gateway: p.Gateway, MemoryBytes: p.MemoryBytes, State: state, Pinned: pinned,
				InFlight: p.InFlight, ReservedBytes: reserved[[2]string{m.Name, p.Gateway}], LastRequest: p.LastRequest,
			})
		}
	}
	return out
}

// publishMakeRoomLocked publishes the victims of a reserved eviction plan as unload
// recommendations of rule make_room, each to the gateway that holds it, on both streams. An
// unreserved plan is advice and publishes nothing: nothing holds its room. The caller holds
// s.makeRoom.
func (s *Server) publishMakeRoomLocked(p gpu.Placement, now time.Time) {
	for _, e := range p.Evictions {
		rec := recommend.Recommendation{
			Kind: recommend.Unload, Model: e.Model, Gateway: e.Gateway, GPUUUID: e.UUID, MemoryBytes: e.MemoryBytes,
			Rule: gpu.RuleMakeRoom, Reason: e.Reason, NextRequest: e.NextUse, Confidence: e.Confidence, Time: now,
		}
		if !e.LastRequest.IsZero() {
			rec.IdleSeconds = max(now.Sub(e.LastRequest).Seconds(), 0)
		}
		if _, err := s.engine.Recommend(rec, now); err != nil {
			s.log.Error("publish a make_room recommendation", "model", e.Model, "gateway", e.Gateway, "err", err)
		}
	}
}

// withdrawMakeRoom withdraws the make_room recommendations of reservations that ended (released,
// or lapsed: the placement was abandoned), unless a live reservation counts on the victim again.
func (s *Server) withdrawMakeRoom(now time.Time) {
	s.makeRoom.Lock()
	defer s.makeRoom.Unlock()
	s.withdrawMakeRoomLocked(now)
}

func (s *Server) withdrawMakeRoomLocked(now time.Time) {
	for _, r := range s.gpus.TakeEnded(now) {
		why := "was released"
		if r.Lapsed {
			why = "lapsed without a LOADED or FAILED report"
		}
		for _, v := range r.Victims {
			if s.gpus.Claimed(v.Model, v.Gateway, v.UUID) {
				continue
			}
			s.engine.Withdraw(recommend.Key{Kind: recommend.Unload, Gateway: v.Gateway, Model: v.Model}, recommend.CausePolicyChanged,
				fmt.Sprintf("the room for %s is no longer needed: its reservation %s %s", r.Model, r.ID, why), now)
		}
	}
}

// PlanPlacement packs the request's models onto the inventory's GPUs (First-Fit Decreasing).
func (s *Server) PlanPlacement(_ context.Context, req *brainv1.PlanPlacementRequest) (*brainv1.PlanPlacementResponse, error) {
	plan, err := s.gpus.PlanPlacement(planModels(req), req.GetAllowMoving(), s.now())
	if err != nil {
		return nil, s.toStatus(err)
	}
	resp := &brainv1.PlanPlacementResponse{
		GpusUsed:       int32(plan.GPUsUsed),
		LowerBoundGpus: int32(plan.LowerBoundGPUs),
		Heuristic:      plan.Heuristic,
		Reason:         plan.Reason(),
	}
	for _, a := range plan.Assignments {
		resp.Assignments = append(resp.Assignments, &brainv1.PlacementAssignment{ModelName: a.Model, GpuUuids: a.UUIDs, BytesPerGpu: a.PerGPUBytes})
	}
	for _, u := range plan.Unplaced {
		resp.Unplaced = append(resp.Unplaced, &brainv1.UnplacedModel{ModelName: u.Model, Reason: u.Reason})
	}
	return resp, nil
}

// gpuRequest translates a ChooseGPU request into the allocator's terms.
func gpuRequest(req *brainv1.ChooseGPURequest) gpu.Request {
	greq := gpu.Request{
		Model:         req.GetModelName(),
		Gateway:       req.GetGatewayId(),
		RequiredBytes: req.GetRequiredBytes(),
		Exclude:       req.GetExcludeGpuUuids(),
		Reserve:       req.GetReserve(),
		GPUCount:      int(req.GetGpuCount()),
		AllowEviction: req.GetAllowEviction(),
	}
	switch req.GetStrategy() {
	case brainv1.PlacementStrategy_PLACEMENT_STRATEGY_MOST_FREE:
		greq.Strategy = gpu.MostFree{}
	case brainv1.PlacementStrategy_PLACEMENT_STRATEGY_BEST_FIT:
		greq.Strategy = gpu.BestFit{}
	}
	if ttl := req.GetReservationTtl(); ttl != nil {
		greq.TTL = ttl.AsDuration()
	}
	return greq
}

// planModels translates a PlanPlacement request's models.
func planModels(req *brainv1.PlanPlacementRequest) []gpu.PlanModel {
	models := make([]gpu.PlanModel, len(req.GetModels()))
	for i, m := range req.GetModels() {
		models[i] = gpu.PlanModel{Name: m.GetModelName(), RequiredBytes: m.GetRequiredBytes(), GPUCount: int(m.GetGpuCount())}
	}
	return models
}

// ListGPUs shows the inventory snapshot that placement reads, with reservations.
func (s *Server) ListGPUs(context.Context, *brainv1.ListGPUsRequest) (*brainv1.ListGPUsResponse, error) {
	st := s.gpus.Status(s.now())
	resp := &brainv1.ListGPUsResponse{
		Backend:      st.Snapshot.Backend,
		SnapshotTime: optionalTime(st.Snapshot.Time),
		Stale:        st.Snapshot.Stale,
	}
	if st.Snapshot.Err != nil {
		resp.Error = st.Snapshot.Err.Error()
	}
	for _, d := range st.Devices {
		resp.Gpus = append(resp.Gpus, gpuProto(d))
	}
	return resp, nil
}

func gpuProto(d gpu.DeviceStatus) *brainv1.GPU {
	return &brainv1.GPU{
		Index:              int32(d.Index),
		Uuid:               d.UUID,
		Name:               d.Name,
		TotalBytes:         d.TotalBytes,
		FreeBytes:          d.FreeBytes,
		UsedBytes:          d.UsedBytes,
		ReservedBytes:      d.ReservedBytes,
		UtilizationPercent: int32(d.UtilizationPercent),
		MigEnabled:         d.MIGEnabled,
	}
}

// releaseReservation ends the reservation a load used once the gateway reports it LOADED or
// FAILED: from then on NVML's free memory shows the model (or the memory came back).
func (s *Server) releaseReservation(req *brainv1.ReportModelStateRequest) {
	switch req.GetState() {
	case brainv1.ModelState_MODEL_STATE_LOADED, brainv1.ModelState_MODEL_STATE_FAILED:
		if id := req.GetReservationId(); id != "" {
			s.gpus.Release(id)
		}
		s.gpus.ReleaseModel(req.GetModelName(), req.GetGatewayId())
	}
	switch req.GetState() {
	case brainv1.ModelState_MODEL_STATE_UNLOADED, brainv1.ModelState_MODEL_STATE_FAILED:
		// A victim an eviction plan counted on is gone: its bytes show in free memory from now.
		s.gpus.VictimGone(req.GetModelName(), req.GetGatewayId(), req.GetGpuUuid())
	}
	s.withdrawMakeRoom(s.now())
}

// placementStatus maps a placement failure: nothing fits -> RESOURCE_EXHAUSTED with every GPU
// and why it was refused; an unusable inventory -> UNAVAILABLE.
func placementStatus(nofit *gpu.NoFitError) error {
	need := nofit.RequiredBytes + nofit.HeadroomBytes
	if need < nofit.RequiredBytes {
		need = math.MaxInt64 // both are >= 0: saturate rather than wrap to a negative need
	}
	detail := &brainv1.PlacementFailure{RequiredBytes: need}
	for _, r := range nofit.Refusals {
		detail.Refusals = append(detail.Refusals, &brainv1.GPURefusal{Index: int32(r.Index), Uuid: r.UUID, Reason: r.Reason, AvailableBytes: r.AvailableBytes})
	}
	st, err := status.New(codes.ResourceExhausted, nofit.Error()).WithDetails(detail)
	if err != nil {
		return status.Error(codes.ResourceExhausted, nofit.Error())
	}
	return st.Err()
}
