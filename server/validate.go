package server

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/internal/validate"
	"github.com/modelium/brain/recommend"
)

// Limits on request sizes (DESIGN.md, "Errors and bad input"), owned by internal/validate.
const (
	MaxNameBytes       = validate.MaxNameBytes
	MaxConfigJSONBytes = validate.MaxConfigJSONBytes
	MaxSamplesPerBatch = validate.MaxSamplesPerBatch
	MaxFilterEntries   = validate.MaxFilterEntries
)

// violations collects the field violations of one request.
type violations []*errdetails.BadRequest_FieldViolation

func (v *violations) add(field, format string, args ...any) {
	*v = append(*v, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// name checks a name field by the API's one name rule (validate.NameProblem).
func (v *violations) name(field, value string, required bool) {
	if p := validate.NameProblem(value, required); p != "" {
		v.add(field, "%s", p)
	}
}

// domain adds the field violations of a domain package's check of the same request.
func (v *violations) domain(err error) {
	var e *validate.Error
	if errors.As(err, &e) {
		for _, fv := range e.Violations {
			v.add(fv.Field, "%s", fv.Description)
		}
	}
}

func (v *violations) maxBytes(field string, b []byte, limit int) {
	if len(b) > limit {
		v.add(field, "is %d bytes; at most %d bytes (1 MiB) are allowed", len(b), limit)
	}
}

func (v *violations) nonNegative(field string, n int64) {
	if n < 0 {
		v.add(field, "is %d; must not be negative", n)
	}
}

func (v *violations) names(field string, values []string) {
	if len(values) > MaxFilterEntries {
		v.add(field, "has %d entries; at most %d are allowed", len(values), MaxFilterEntries)
		return
	}
	for i, s := range values {
		v.name(fmt.Sprintf("%s[%d]", field, i), s, true)
	}
}

// err is nil when there is no violation, else INVALID_ARGUMENT with google.rpc.BadRequest details.
func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	msg := fmt.Sprintf("invalid request: %s: %s", v[0].Field, v[0].Description)
	if len(v) > 1 {
		msg += fmt.Sprintf(" (and %d more field violations)", len(v)-1)
	}
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(&errdetails.BadRequest{FieldViolations: v})
	if err != nil {
		return status.Error(codes.InvalidArgument, msg)
	}
	return st.Err()
}

// validateWire checks the wire form of a request before any handler runs: bytes that decode,
// timestamps and durations that are present and valid, enum values in range, byte and list
// limits, names where no domain package reads them. What a value means (a positive byte count, a
// sample's interval, a report's names and counts, a time in the future) is checked once, by the
// domain package that owns it (gpu, metrics), and mapped to the same field violations.
func validateWire(req any) error {
	var v violations
	switch r := req.(type) {
	case *brainv1.ChooseRuntimeRequest:
		m := r.GetModel()
		if m.GetName() == "" && m.GetArchitecture() == "" && m.GetModelType() == "" && len(m.GetConfigJson()) == 0 {
			v.add("model", "needs at least one of name, architecture, model_type or config_json")
		}
		v.modelSpec(m)
	case *brainv1.AnalyzeModelRequest:
		if len(r.GetConfigJson()) == 0 {
			v.add("config_json", "required")
		}
		v.maxBytes("config_json", r.GetConfigJson(), MaxConfigJSONBytes)
		v.maxBytes("safetensors_index_json", r.GetSafetensorsIndexJson(), MaxConfigJSONBytes)
		v.nonNegative("context_length", r.GetContextLength())
		v.nonNegative("sequences", r.GetSequences())
	case *brainv1.ChooseGPURequest:
		v.name("model_name", r.GetModelName(), true)
		v.name("gateway_id", r.GetGatewayId(), false)
		if _, ok := brainv1.PlacementStrategy_name[int32(r.GetStrategy())]; !ok {
			v.add("strategy", "%d is not a known PlacementStrategy", r.GetStrategy())
		}
		v.names("exclude_gpu_uuids", r.GetExcludeGpuUuids())
		if ttl := r.GetReservationTtl(); ttl != nil {
			if err := ttl.CheckValid(); err != nil {
				v.add("reservation_ttl", "is not a valid duration")
			}
		}
		v.domain(gpu.CheckRequest(gpuRequest(r)))
	case *brainv1.PlanPlacementRequest:
		// The models' names, sizes and GPU counts are the planner's (gpu.CheckPlan).
		v.domain(gpu.CheckPlan(planModels(r)))
	case *brainv1.ShouldUnloadRequest:
		v.name("model_name", r.GetModelName(), true)
		v.name("gateway_id", r.GetGatewayId(), false)
	case *brainv1.ReportModelStateRequest:
		// Names, the state (its values are metrics.State's), memory and the time's meaning are the
		// tracker's (metrics.Tracker.ReportState).
		v.name("reservation_id", r.GetReservationId(), false)
		if r.GetObservedTime() != nil {
			v.timestamp("observed_time", r.GetObservedTime())
		}
	case *brainv1.ReportTrafficRequest:
		// The batch size, names, counts and intervals are the tracker's (metrics.Tracker.ReportTraffic);
		// past the batch limit the tracker refuses the batch, so its timestamps are not worth checking.
		if len(r.GetSamples()) > MaxSamplesPerBatch {
			break
		}
		for i, s := range r.GetSamples() {
			v.trafficSample(fmt.Sprintf("samples[%d]", i), s)
		}
	case *brainv1.SyncGatewayRequest:
		// The gateway, the count, names, states (metrics.State's values), memory and duplicates are
		// the tracker's (metrics.Tracker.SyncGateway).
	case *brainv1.WatchUnloadRecommendationsRequest:
		v.name("gateway_id", r.GetGatewayId(), false)
		v.names("model_names", r.GetModelNames())
		v.names("gpu_uuids", r.GetGpuUuids())
		v.name("resume_epoch", r.GetResumeEpoch(), false)
	case *brainv1.WatchRecommendationsRequest:
		v.name("gateway_id", r.GetGatewayId(), false)
		v.names("model_names", r.GetModelNames())
		v.names("gpu_uuids", r.GetGpuUuids())
		v.name("resume_epoch", r.GetResumeEpoch(), false)
		var seen [len(recommend.Kinds) + 1]bool
		for i, k := range r.GetKinds() {
			switch k {
			case brainv1.RecommendationKind_RECOMMENDATION_KIND_UNLOAD, brainv1.RecommendationKind_RECOMMENDATION_KIND_LOAD:
				if seen[k] {
					v.add(fmt.Sprintf("kinds[%d]", i), "%s is listed twice", k)
				}
				seen[k] = true
			default:
				v.add(fmt.Sprintf("kinds[%d]", i), "must be RECOMMENDATION_KIND_UNLOAD or RECOMMENDATION_KIND_LOAD (empty kinds means all)")
			}
		}
	case *brainv1.ListModelsRequest:
		v.name("gateway_id", r.GetGatewayId(), false)
	}
	return v.err()
}

// modelSpec checks ChooseRuntime's model. Its field paths are constants: concatenating them
// allocated ten strings on every call of the hottest RPC, for violations that almost never happen.
func (v *violations) modelSpec(m *brainv1.ModelSpec) {
	v.name("model.name", m.GetName(), false)
	v.name("model.architecture", m.GetArchitecture(), false)
	v.name("model.model_type", m.GetModelType(), false)
	v.name("model.format", m.GetFormat(), false)
	v.name("model.task", m.GetTask(), false)
	v.name("model.dtype", m.GetDtype(), false)
	v.nonNegative("model.parameter_count", m.GetParameterCount())
	v.nonNegative("model.size_bytes", m.GetSizeBytes())
	v.maxBytes("model.config_json", m.GetConfigJson(), MaxConfigJSONBytes)
	v.maxBytes("model.safetensors_index_json", m.GetSafetensorsIndexJson(), MaxConfigJSONBytes)
}

// trafficSample checks what only the wire form can get wrong (a missing or malformed
// timestamp); the tracker checks the meaning of a sample (names, counts, intervals, the future).
func (v *violations) trafficSample(field string, s *brainv1.TrafficSample) {
	v.timestamp(field+".start_time", s.GetStartTime())
	v.timestamp(field+".end_time", s.GetEndTime())
}

func (v *violations) timestamp(field string, ts *timestamppb.Timestamp) {
	switch {
	case ts == nil:
		v.add(field, "required")
	case ts.CheckValid() != nil:
		v.add(field, "is not a valid timestamp")
	}
}

// requestValidator runs first for every request: a request whose bytes did not decode, or that
// breaks a field rule, gets INVALID_ARGUMENT before any handler sees it.
type requestValidator struct{ codec lenientCodec }

func (rv requestValidator) check(req any) error {
	if err := rv.codec.decodeError(req); err != nil {
		name := "the request message"
		if m, ok := req.(proto.Message); ok {
			name = string(m.ProtoReflect().Descriptor().FullName())
		}
		return status.Errorf(codes.InvalidArgument, "invalid request: its bytes do not decode as %s: %v", name, err)
	}
	return validateWire(req)
}

func (rv requestValidator) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := rv.check(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// stream validates every message the client sends (for server streams, the only one).
func (rv requestValidator) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &validatingStream{ServerStream: ss, rv: rv})
}

type validatingStream struct {
	grpc.ServerStream
	rv requestValidator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.rv.check(m)
}
