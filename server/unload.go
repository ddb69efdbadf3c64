package server

import (
	"context"
	"fmt"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// ShouldUnload answers the recommendation engine's policy for one model now (see
// recommend.Engine.ShouldUnload): across gateways, or on one gateway when gateway_id is set.
func (s *Server) ShouldUnload(_ context.Context, req *brainv1.ShouldUnloadRequest) (*brainv1.ShouldUnloadResponse, error) {
	a, err := s.engine.ShouldUnload(req.GetModelName(), req.GetGatewayId(), s.now())
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &brainv1.ShouldUnloadResponse{
		Unload:      a.Unload,
		Rule:        a.Rule,
		Reason:      a.Reason,
		IdleSeconds: a.IdleSeconds,
		Qps:         a.QPS,
		InFlight:    a.InFlight,
	}, nil
}

// EvaluationResult says what one evaluation cycle did (recommend.Result).
type EvaluationResult = recommend.Result

// Evaluate runs one evaluation cycle of the recommendation engine as of now (see
// recommend.Engine.Evaluate), after withdrawing the make_room recommendations of ended
// reservations. The evaluation loop calls it every decision interval; tests call it
// with a fake clock's time. Cycles never overlap.
func (s *Server) Evaluate(now time.Time) EvaluationResult {
	// Reservations that lapsed since the last cycle give their make_room victims back first.
	s.withdrawMakeRoom(now)
	return s.engine.Evaluate(now)
}

// Engine is the recommendation engine, for in-process callers that publish recommendations of
// their own (recommend.Engine.Recommend).
func (s *Server) Engine() *recommend.Engine { return s.engine }

// runEvaluations evaluates every interval until the server shuts down.
func (s *Server) runEvaluations(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-tick.C:
			s.evaluateCycle()
		}
	}
}

// evaluateCycle runs one background evaluation. A panic in it is logged and the next cycle runs:
// like a panic in a handler, it never kills the brain.
func (s *Server) evaluateCycle() {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in the recommendation evaluation cycle; the next cycle runs as usual", "panic", fmt.Sprint(p))
		}
	}()
	res := s.Evaluate(s.now())
	if res.Recommended+res.Withdrawn > 0 {
		s.log.Debug("recommendation evaluation", "loaded", res.Loaded, "unloaded", res.Unloaded, "recommended", res.Recommended, "withdrawn", res.Withdrawn, "open", res.Open)
	}
}

// Defaults of the recommendation options.
const (
	DefaultDecisionInterval = 10 * time.Second
	DefaultWatchWindow      = 10_000
	DefaultWatchQueueSize   = 1_024
	DefaultWatchMaxPending  = 100_000
)

// startRecommendations builds the policy, the hub and the engine from s.opts, and starts the
// evaluation loop unless the decision interval is negative.
func (s *Server) startRecommendations() {
	o := &s.opts
	s.unload = o.UnloadPolicy
	if s.unload == nil {
		s.unload = rules.DefaultUnloadPolicy()
	}
	policy := o.Policy
	if policy == nil {
		policy = recommend.NewFixedPolicy(s.unload)
	}
	orDefault := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}

	s.hub = recommend.NewHub(recommend.HubConfig[*wire]{
		Epoch:      s.epoch,
		Window:     orDefault(o.WatchWindow, DefaultWatchWindow),
		QueueSize:  orDefault(o.WatchQueueSize, DefaultWatchQueueSize),
		MaxPending: orDefault(o.WatchMaxPending, DefaultWatchMaxPending),
		Encode:     newWire(s.epoch),
		Recorder:   s.recorder,
	})
	s.engine = recommend.New(recommend.Config{Tracker: s.tracker, Policy: policy, Sink: s.hub, Recorder: s.recorder})
	switch {
	case o.DecisionInterval == 0:
		go s.runEvaluations(DefaultDecisionInterval)
	case o.DecisionInterval > 0:
		go s.runEvaluations(o.DecisionInterval)
	}
}
