package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// The RPCs below answer UNIMPLEMENTED until their issue lands; each moves to its own file then.

// ChooseGPU is not implemented yet.
func (s *Server) ChooseGPU(context.Context, *brainv1.ChooseGPURequest) (*brainv1.ChooseGPUResponse, error) {
	return nil, unimplemented("ChooseGPU", 4)
}

// ListGPUs is not implemented yet.
func (s *Server) ListGPUs(context.Context, *brainv1.ListGPUsRequest) (*brainv1.ListGPUsResponse, error) {
	return nil, unimplemented("ListGPUs", 4)
}

// ReportModelState is not implemented yet.
func (s *Server) ReportModelState(context.Context, *brainv1.ReportModelStateRequest) (*brainv1.ReportModelStateResponse, error) {
	return nil, unimplemented("ReportModelState", 5)
}

// ReportTraffic is not implemented yet.
func (s *Server) ReportTraffic(context.Context, *brainv1.ReportTrafficRequest) (*brainv1.ReportTrafficResponse, error) {
	return nil, unimplemented("ReportTraffic", 5)
}

// ListModels is not implemented yet.
func (s *Server) ListModels(context.Context, *brainv1.ListModelsRequest) (*brainv1.ListModelsResponse, error) {
	return nil, unimplemented("ListModels", 5)
}

// unimplemented answers an RPC whose issue is not done yet.
func unimplemented(rpc string, issue int) error {
	return status.Errorf(codes.Unimplemented, "%s is not implemented in this version of the brain yet (tracked in issue #%d)", rpc, issue)
}
