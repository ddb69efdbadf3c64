package server

import (
	"context"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/hfconfig"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
)

// ChooseRuntime picks the runtime by the first matching rule of the table. A config.json in the
// request is analysed first, and fills the fields of the description that the request left empty.
func (s *Server) ChooseRuntime(_ context.Context, req *brainv1.ChooseRuntimeRequest) (*brainv1.ChooseRuntimeResponse, error) {
	spec := req.GetModel()
	model := rules.Model{
		Name:         spec.GetName(),
		Architecture: spec.GetArchitecture(),
		ModelType:    spec.GetModelType(),
		Format:       spec.GetFormat(),
		Task:         spec.GetTask(),
	}
	var analysis *brainv1.ModelAnalysis
	if len(spec.GetConfigJson()) > 0 {
		a, err := hfconfig.Analyze(spec.GetConfigJson(), spec.GetSafetensorsIndexJson(), hfconfig.AnalyzeOptions{})
		if err != nil {
			return nil, s.toStatus(inField("model", err))
		}
		if model.Architecture == "" {
			model.Architecture = a.Architecture
		}
		if model.ModelType == "" {
			model.ModelType = a.ModelType
		}
		analysis = analysisProto(a)
	}
	d := s.rules.Choose(model, s.enabled)
	s.recorder.Decision(metrics.DecisionRuntime, d.Rule)
	return &brainv1.ChooseRuntimeResponse{Runtime: d.Runtime, Rule: d.Rule, Reason: d.Reason(), Analysis: analysis}, nil
}

// AnalyzeModel reads a config.json (and optionally a shard index) into an analysis.
func (s *Server) AnalyzeModel(_ context.Context, req *brainv1.AnalyzeModelRequest) (*brainv1.AnalyzeModelResponse, error) {
	a, err := hfconfig.Analyze(req.GetConfigJson(), req.GetSafetensorsIndexJson(), hfconfig.AnalyzeOptions{
		ContextLength: req.GetContextLength(),
		Sequences:     req.GetSequences(),
	})
	if err != nil {
		return nil, s.toStatus(inField("", err))
	}
	need := s.gpus.GPUsNeeded(a.Memory.TotalBytes)
	return &brainv1.AnalyzeModelResponse{Analysis: analysisProto(a), GpuNeed: &brainv1.GPUNeed{
		GpuCount:      int32(need.Count),
		GpuTotalBytes: need.GPUTotalBytes,
		BytesPerGpu:   need.PerGPUBytes,
		HeadroomBytes: need.HeadroomBytes,
		Reason:        need.Reason,
	}}, nil
}

func analysisProto(a hfconfig.Analysis) *brainv1.ModelAnalysis {
	return &brainv1.ModelAnalysis{
		Architecture:          a.Architecture,
		ModelType:             a.ModelType,
		Dtype:                 a.DType,
		BytesPerParameter:     a.BytesPerParameter,
		NumLayers:             a.NumLayers,
		HiddenSize:            a.HiddenSize,
		NumAttentionHeads:     a.NumAttentionHeads,
		NumKeyValueHeads:      a.NumKeyValueHeads,
		HeadDim:               a.HeadDim,
		VocabSize:             a.VocabSize,
		TieWordEmbeddings:     a.TieWordEmbeddings,
		NumExperts:            a.NumExperts,
		NumExpertsPerToken:    a.NumExpertsPerToken,
		NumSharedExperts:      a.NumSharedExperts,
		MaxPositionEmbeddings: a.MaxPositionEmbeddings,
		ParameterCount:        a.ParameterCount,
		ParameterCountSource:  paramSourceProto(a.ParameterSource),
		Memory: &brainv1.MemoryEstimate{
			WeightsBytes:  a.Memory.WeightsBytes,
			KvCacheBytes:  a.Memory.KVCacheBytes,
			OverheadBytes: a.Memory.OverheadBytes,
			TotalBytes:    a.Memory.TotalBytes,
			ContextLength: a.Memory.ContextLength,
			Sequences:     a.Memory.Sequences,
		},
		Partial:       a.Partial,
		MissingFields: a.MissingFields,
		IsLlm:         a.IsLLM,
	}
}

func paramSourceProto(p hfconfig.ParamSource) brainv1.ParameterCountSource {
	switch p {
	case hfconfig.ParamSourceConfig:
		return brainv1.ParameterCountSource_PARAMETER_COUNT_SOURCE_ESTIMATED
	case hfconfig.ParamSourceShardIndex:
		return brainv1.ParameterCountSource_PARAMETER_COUNT_SOURCE_SAFETENSORS_INDEX
	default:
		return brainv1.ParameterCountSource_PARAMETER_COUNT_SOURCE_UNSPECIFIED
	}
}
