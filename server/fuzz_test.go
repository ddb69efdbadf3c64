package server

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// The fuzz targets feed arbitrary bytes, decoded as each RPC's request, to the request validation
// and then to the handler, as the server would: nothing may panic, a rejection is
// INVALID_ARGUMENT with field violations, and no input reaches INTERNAL or UNKNOWN. Seeds are in
// testdata/fuzz/<target>; `go test -fuzz=FuzzSyncGateway ./server/` explores from them.

// fuzzServer is one brain for every input of a target (its tracker's caps bound what they add).
func fuzzServer(f *testing.F) *Server {
	s := New(Options{Logger: slog.New(slog.DiscardHandler), DecisionInterval: -1})
	f.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// fuzzRequest decodes data as a new M and runs the validation and, if it passes, handle.
func fuzzRequest[M proto.Message](f *testing.F, newMsg func() M, handle func(*Server, M) error) {
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req := newMsg()
		if proto.Unmarshal(data, req) != nil {
			return // the codec answers undecodable bytes before validation
		}
		if err := validateWire(req); err != nil {
			checkRejection(t, err)
			return
		}
		if handle == nil {
			return
		}
		if err := handle(s, req); err != nil {
			switch c := status.Code(err); c {
			case codes.Internal, codes.Unknown:
				t.Fatalf("%T answered %v: %v", req, c, err)
			case codes.InvalidArgument:
				checkRejection(t, err)
			}
		}
	})
}

func checkRejection(t *testing.T, err error) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("validation answered %v, want INVALID_ARGUMENT: %v", st.Code(), err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return
		}
	}
	t.Fatalf("INVALID_ARGUMENT without field violations: %v", err)
}

var bg = context.Background()

func FuzzChooseRuntime(f *testing.F) {
	fuzzRequest(f, func() *brainv1.ChooseRuntimeRequest { return &brainv1.ChooseRuntimeRequest{} },
		func(s *Server, r *brainv1.ChooseRuntimeRequest) error { _, err := s.ChooseRuntime(bg, r); return err })
}

func FuzzAnalyzeModel(f *testing.F) {
	fuzzRequest(f, func() *brainv1.AnalyzeModelRequest { return &brainv1.AnalyzeModelRequest{} },
		func(s *Server, r *brainv1.AnalyzeModelRequest) error { _, err := s.AnalyzeModel(bg, r); return err })
}

func FuzzChooseGPU(f *testing.F) {
	fuzzRequest(f, func() *brainv1.ChooseGPURequest { return &brainv1.ChooseGPURequest{} },
		func(s *Server, r *brainv1.ChooseGPURequest) error { _, err := s.ChooseGPU(bg, r); return err })
}

func FuzzShouldUnload(f *testing.F) {
	fuzzRequest(f, func() *brainv1.ShouldUnloadRequest { return &brainv1.ShouldUnloadRequest{} },
		func(s *Server, r *brainv1.ShouldUnloadRequest) error { _, err := s.ShouldUnload(bg, r); return err })
}

func FuzzReportModelState(f *testing.F) {
	fuzzRequest(f, func() *brainv1.ReportModelStateRequest { return &brainv1.ReportModelStateRequest{} },
		func(s *Server, r *brainv1.ReportModelStateRequest) error {
			_, err := s.ReportModelState(bg, r)
			return err
		})
}

func FuzzReportTraffic(f *testing.F) {
	fuzzRequest(f, func() *brainv1.ReportTrafficRequest { return &brainv1.ReportTrafficRequest{} },
		func(s *Server, r *brainv1.ReportTrafficRequest) error { _, err := s.ReportTraffic(bg, r); return err })
}

func FuzzSyncGateway(f *testing.F) {
	fuzzRequest(f, func() *brainv1.SyncGatewayRequest { return &brainv1.SyncGatewayRequest{} },
		func(s *Server, r *brainv1.SyncGatewayRequest) error { _, err := s.SyncGateway(bg, r); return err })
}

// The watch is a stream: its request is validated here, and the stream itself by watch_test.go.
func FuzzWatchUnloadRecommendations(f *testing.F) {
	fuzzRequest[*brainv1.WatchUnloadRecommendationsRequest](f, func() *brainv1.WatchUnloadRecommendationsRequest {
		return &brainv1.WatchUnloadRecommendationsRequest{}
	}, nil)
}

func FuzzWatchRecommendations(f *testing.F) {
	fuzzRequest[*brainv1.WatchRecommendationsRequest](f, func() *brainv1.WatchRecommendationsRequest {
		return &brainv1.WatchRecommendationsRequest{}
	}, nil)
}

func FuzzListModels(f *testing.F) {
	fuzzRequest(f, func() *brainv1.ListModelsRequest { return &brainv1.ListModelsRequest{} },
		func(s *Server, r *brainv1.ListModelsRequest) error { _, err := s.ListModels(bg, r); return err })
}

// ListGPUs and GetPolicy take empty requests: there is nothing to validate.
