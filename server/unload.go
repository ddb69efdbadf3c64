package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
)

// RuleNotLoaded is the rule of a ShouldUnload answer about a model that is not LOADED (on the
// gateway asked about, or on any gateway): there is nothing to unload, whatever its idle time.
const RuleNotLoaded = "not_loaded"

// ShouldUnload answers the unload policy for one model now, from what the tracker knows of it:
// across gateways, or on one gateway when gateway_id is set. Like the evaluation loop, it judges
// only LOADED placements: a model still loading, or already unloaded or failed, is kept.
func (s *Server) ShouldUnload(_ context.Context, req *brainv1.ShouldUnloadRequest) (*brainv1.ShouldUnloadResponse, error) {
	v, ok := s.tracker.Model(req.GetModelName())
	if !ok {
		return nil, notFound(req.GetModelName())
	}
	in := rules.UnloadInput{Model: v.Name, IdleSeconds: v.IdleSeconds, QPS: v.QPS1m, InFlight: v.InFlight}
	placements := v.Placements
	if gw := req.GetGatewayId(); gw != "" {
		i := slices.IndexFunc(v.Placements, func(p metrics.Placement) bool { return p.Gateway == gw })
		if i < 0 {
			return nil, notFoundOnGateway(v.Name, gw)
		}
		in.IdleSeconds, in.InFlight = v.Placements[i].IdleSeconds, v.Placements[i].InFlight
		placements = v.Placements[i : i+1]
	}
	if !slices.ContainsFunc(placements, func(p metrics.Placement) bool { return p.State == metrics.StateLoaded }) {
		s.recorder.Decision(metrics.DecisionUnload, RuleNotLoaded)
		return &brainv1.ShouldUnloadResponse{
			Rule:        RuleNotLoaded,
			Reason:      notLoadedReason(v.Name, req.GetGatewayId(), placements),
			IdleSeconds: in.IdleSeconds,
			Qps:         in.QPS,
			InFlight:    in.InFlight,
		}, nil
	}
	d := s.unload.ShouldUnload(in)
	s.recorder.Decision(metrics.DecisionUnload, d.Rule)
	return &brainv1.ShouldUnloadResponse{
		Unload:      d.Unload,
		Rule:        d.Rule,
		Reason:      d.Reason(),
		IdleSeconds: d.IdleSeconds,
		Qps:         d.QPS,
		InFlight:    d.InFlight,
	}, nil
}

func notLoadedReason(model, gateway string, placements []metrics.Placement) string {
	states := make([]string, len(placements))
	for i, p := range placements {
		states[i] = p.State.String()
	}
	where := "on any gateway"
	if gateway != "" {
		where = fmt.Sprintf("on gateway %q", gateway)
	}
	return fmt.Sprintf("%q is not loaded %s (state %s), so there is nothing to unload", model, where, strings.Join(states, ", "))
}

// EvaluationResult says what one evaluation cycle did.
type EvaluationResult struct {
	// Loaded is the number of LOADED (model, gateway) pairs evaluated.
	Loaded int
	// Recommended and Withdrawn count the events published; Open is the number of open
	// recommendations after the cycle.
	Recommended, Withdrawn, Open int
}

// Evaluate runs one evaluation cycle as of now: it applies the unload policy to every LOADED
// (model, gateway) pair, recommends unloading the ones it newly says to unload, and withdraws open
// recommendations whose model got traffic again, became pinned or is no longer LOADED. The
// evaluation loop calls it every decision interval; tests call it with a fake clock's time.
// Cycles never overlap.
func (s *Server) Evaluate(now time.Time) EvaluationResult {
	return s.evaluator.evaluate(now)
}

// evaluator keeps the open recommendations between cycles. Its state is touched only by
// evaluate, one cycle at a time.
type evaluator struct {
	policy   *rules.UnloadPolicy
	tracker  *metrics.Tracker
	hub      *hub
	recorder *metrics.Recorder

	mu     sync.Mutex
	cycle  uint64
	loaded []metrics.LoadedModel // reused between cycles: a steady cycle allocates nothing
	events []*event
	open   map[recKey]*openRecommendation
}

// openRecommendation is an open recommendation and the event that opened it, in one allocation:
// a cycle may open 100,000.
type openRecommendation struct {
	ev    event
	msg   brainv1.WatchUnloadRecommendationsResponse
	oneof brainv1.WatchUnloadRecommendationsResponse_Recommended
	rec   brainv1.UnloadRecommendation
	cycle uint64 // the last cycle that still recommended it
}

// withdrawal is a withdrawn event, in one allocation.
type withdrawal struct {
	ev    event
	msg   brainv1.WatchUnloadRecommendationsResponse
	oneof brainv1.WatchUnloadRecommendationsResponse_Withdrawn
	wd    brainv1.UnloadWithdrawal
}

func newEvaluator(p *rules.UnloadPolicy, t *metrics.Tracker, h *hub, r *metrics.Recorder) *evaluator {
	return &evaluator{policy: p, tracker: t, hub: h, recorder: r, open: make(map[recKey]*openRecommendation)}
}

func (e *evaluator) evaluate(now time.Time) EvaluationResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cycle++
	e.loaded = e.tracker.AppendLoaded(e.loaded[:0], now)
	clear(e.events)
	e.events = e.events[:0]
	res := EvaluationResult{Loaded: len(e.loaded)}
	var ts *timestamppb.Timestamp // made once, for the cycle's first recommendation
	kept := 0                     // open recommendations this cycle still makes
	for i := range e.loaded {
		lm := &e.loaded[i]
		d := e.policy.ShouldUnload(rules.UnloadInput{Model: lm.Model, IdleSeconds: lm.IdleSeconds, QPS: lm.QPS, InFlight: lm.InFlight})
		var o *openRecommendation
		key := recKey{gateway: lm.Gateway, model: lm.Model}
		if len(e.open) > 0 {
			o = e.open[key]
		}
		switch {
		case d.Unload && o != nil:
			o.cycle = e.cycle
			kept++
		case d.Unload:
			if ts == nil {
				ts = timestamppb.New(now)
			}
			o = newRecommendation(key, lm, d, ts)
			o.cycle = e.cycle
			e.open[key] = o
			e.events = append(e.events, &o.ev)
			res.Recommended++
		case o != nil:
			cause := brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_TRAFFIC_RESUMED
			if d.Rule == rules.UnloadRulePinned {
				cause = brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_PINNED
			}
			e.withdraw(key, o, cause, d.Reason())
			res.Withdrawn++
		}
	}
	if len(e.open) > kept+res.Recommended { // some open ones are no longer LOADED
		var gone []recKey
		for key, o := range e.open {
			if o.cycle != e.cycle {
				gone = append(gone, key)
			}
		}
		// In a stable order, so that a stream reads the same whatever the map's order.
		slices.SortFunc(gone, func(a, b recKey) int {
			return cmp.Or(strings.Compare(a.gateway, b.gateway), strings.Compare(a.model, b.model))
		})
		for _, key := range gone {
			e.withdraw(key, e.open[key], brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_MODEL_UNLOADED,
				fmt.Sprintf("%q is no longer LOADED on gateway %q", key.model, key.gateway))
			res.Withdrawn++
		}
	}
	res.Open = len(e.open)
	e.hub.publish(e.events)
	for range res.Recommended {
		e.recorder.Recommendation(metrics.Recommended)
	}
	for range res.Withdrawn {
		e.recorder.Recommendation(metrics.Withdrawn)
	}
	return res
}

// withdraw closes an open recommendation and queues its withdrawal.
func (e *evaluator) withdraw(key recKey, o *openRecommendation, cause brainv1.WithdrawalCause, reason string) {
	delete(e.open, key)
	w := &withdrawal{ev: event{key: key, gpu: o.ev.gpu, withdrawn: true}}
	w.wd.Recommendation, w.wd.Cause, w.wd.Reason = &o.rec, cause, reason
	w.oneof.Withdrawn = &w.wd
	w.msg.Event = &w.oneof
	w.ev.msg = &w.msg
	e.events = append(e.events, &w.ev)
}

func newRecommendation(key recKey, lm *metrics.LoadedModel, d rules.UnloadDecision, at *timestamppb.Timestamp) *openRecommendation {
	o := &openRecommendation{ev: event{key: key, gpu: lm.GPUUUID}}
	r := &o.rec
	r.ModelName, r.GatewayId, r.GpuUuid, r.Runtime = lm.Model, lm.Gateway, lm.GPUUUID, lm.Runtime
	r.Rule, r.Reason, r.IdleSeconds, r.Qps = d.Rule, d.Reason(), d.IdleSeconds, d.QPS
	r.MemoryBytes, r.RecommendedTime = lm.MemoryBytes, at
	o.oneof.Recommended = r
	o.msg.Event = &o.oneof
	o.ev.msg = &o.msg
	return o
}

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
			s.log.Error("panic in the unload evaluation cycle; the next cycle runs as usual", "panic", fmt.Sprint(p))
		}
	}()
	res := s.Evaluate(s.now())
	if res.Recommended+res.Withdrawn > 0 {
		s.log.Debug("unload evaluation", "loaded", res.Loaded, "recommended", res.Recommended, "withdrawn", res.Withdrawn, "open", res.Open)
	}
}

// Defaults of the recommendation options.
const (
	DefaultDecisionInterval = 10 * time.Second
	DefaultWatchWindow      = 10_000
	DefaultWatchQueueSize   = 1_024
	DefaultWatchMaxPending  = 100_000
)

// startRecommendations builds the unload policy, the hub and the evaluator from s.opts, and starts
// the evaluation loop unless the decision interval is negative.
func (s *Server) startRecommendations() {
	o := &s.opts
	s.unload = o.UnloadPolicy
	if s.unload == nil {
		s.unload = rules.DefaultUnloadPolicy()
	}
	orDefault := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	s.hub = newHub(hubConfig{
		epoch:      s.epoch,
		now:        s.now,
		recorder:   s.recorder,
		window:     orDefault(o.WatchWindow, DefaultWatchWindow),
		queueSize:  orDefault(o.WatchQueueSize, DefaultWatchQueueSize),
		maxPending: orDefault(o.WatchMaxPending, DefaultWatchMaxPending),
	})
	s.evaluator = newEvaluator(s.unload, s.tracker, s.hub, s.recorder)
	switch {
	case o.DecisionInterval == 0:
		go s.runEvaluations(DefaultDecisionInterval)
	case o.DecisionInterval > 0:
		go s.runEvaluations(o.DecisionInterval)
	}
}
