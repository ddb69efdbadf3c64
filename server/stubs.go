package server

import (
	"context"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// The RPCs below answer UNIMPLEMENTED until their issue lands; each moves to its own file then.

// ChooseRuntime is not implemented yet.
func (s *Server) ChooseRuntime(context.Context, *brainv1.ChooseRuntimeRequest) (*brainv1.ChooseRuntimeResponse, error) {
	return nil, unimplemented("ChooseRuntime", 3)
}

// AnalyzeModel is not implemented yet.
func (s *Server) AnalyzeModel(context.Context, *brainv1.AnalyzeModelRequest) (*brainv1.AnalyzeModelResponse, error) {
	return nil, unimplemented("AnalyzeModel", 3)
}

// GetPolicy is not implemented yet.
func (s *Server) GetPolicy(context.Context, *brainv1.GetPolicyRequest) (*brainv1.GetPolicyResponse, error) {
	return nil, unimplemented("GetPolicy", 3)
}

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

// ShouldUnload is not implemented yet.
func (s *Server) ShouldUnload(context.Context, *brainv1.ShouldUnloadRequest) (*brainv1.ShouldUnloadResponse, error) {
	return nil, unimplemented("ShouldUnload", 6)
}
