package server

import (
	"context"
	"maps"
	"slices"

	"google.golang.org/protobuf/types/known/durationpb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// GetPolicy shows the effective configuration of every decision.
func (s *Server) GetPolicy(context.Context, *brainv1.GetPolicyRequest) (*brainv1.GetPolicyResponse, error) {
	resp := &brainv1.GetPolicyResponse{}
	for _, r := range s.rules.Rules() {
		resp.RuntimeRules = append(resp.RuntimeRules, &brainv1.RuntimeRule{
			Name:        r.Name,
			Runtime:     r.Runtime,
			Description: r.Description,
			Match: &brainv1.RuleMatch{
				Architectures: r.Match.Architectures,
				ModelTypes:    r.Match.ModelTypes,
				Names:         r.Match.Names,
				Formats:       r.Match.Formats,
				Tasks:         r.Match.Tasks,
				Any:           r.Match.Any,
			},
		})
	}
	for _, rt := range []string{rules.RuntimeVLLM, rules.RuntimeRay, rules.RuntimeTriton} {
		if s.enabled.Has(rt) {
			resp.EnabledRuntimes = append(resp.EnabledRuntimes, rt)
		}
	}
	strategy, ttl := s.opts.Placement.Strategy, s.opts.Placement.ReservationTTL
	if strategy == nil {
		strategy = gpu.DefaultStrategy
	}
	if ttl <= 0 {
		ttl = gpu.DefaultReservationTTL
	}
	resp.Gpu = &brainv1.GPUPolicy{
		Backend:        s.gpus.Status(s.now()).Snapshot.Backend,
		Strategy:       strategy.Name(),
		HeadroomBytes:  s.opts.Placement.HeadroomBytes,
		ReservationTtl: durationpb.New(ttl),
	}
	u, interval := s.unload, s.opts.DecisionInterval
	if interval == 0 {
		interval = DefaultDecisionInterval
	}
	resp.Unload = &brainv1.UnloadPolicy{
		EvictAfterIdle:   durationpb.New(u.EvictAfterIdle),
		MinQps:           u.MinQPS,
		AlwaysLoaded:     u.AlwaysLoaded,
		DecisionInterval: durationpb.New(max(interval, 0)),
	}
	resp.KeepAlivePolicy = recommend.FixedPolicyName // Options.Policy's default
	if s.opts.Policy != nil {
		resp.KeepAlivePolicy = recommend.PolicyName(s.opts.Policy)
	}
	for _, model := range slices.Sorted(maps.Keys(u.KeepAlive)) {
		k := u.KeepAlive[model]
		ka := &brainv1.KeepAlive{ModelName: model, Forever: k.Forever}
		if !k.Forever {
			ka.IdleTimeout = durationpb.New(k.After)
		}
		resp.Unload.KeepAlive = append(resp.Unload.KeepAlive, ka)
	}
	return resp, nil
}
