package recommend

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelium/brain/metrics"
)

// RuleNotLoaded is the rule of a ShouldUnload answer about a model that is not LOADED (on the
// gateway asked about, or on any gateway): there is nothing to unload, whatever its idle time.
const RuleNotLoaded = "not_loaded"

// UnknownModelError is ShouldUnload's answer about a model the tracker does not know (at all, or
// on the gateway asked about when Gateway is set).
type UnknownModelError struct {
	Model, Gateway string
}

func (e *UnknownModelError) Error() string {
	if e.Gateway != "" {
		return fmt.Sprintf("model %q is unknown on gateway %q: that gateway has reported neither its state nor its traffic", e.Model, e.Gateway)
	}
	return fmt.Sprintf("model %q is unknown to the brain: no gateway has reported its state or traffic", e.Model)
}

// UnloadAnswer is ShouldUnload's answer: the policy's decision about the model now, and the
// numbers it judged.
type UnloadAnswer struct {
	Unload       bool
	Rule, Reason string
	IdleSeconds  float64
	QPS          float64
	InFlight     int64
	// NextRequest and Confidence are the policy's prediction, if it made one.
	NextRequest time.Time
	Confidence  float64
}

// ShouldUnload answers the engine's policy for one model as of now, from what the tracker knows of
// it: across gateways (idle since the last request on any, QPS and in-flight summed), or on one
// gateway when gateway is set. Like a cycle, it judges only LOADED placements: a model still
// loading, or already unloaded or failed, is kept (rule not_loaded). It fails only with an
// *UnknownModelError.
func (e *Engine) ShouldUnload(model, gateway string, now time.Time) (UnloadAnswer, error) {
	v, ok := e.tracker.Model(model)
	if !ok {
		return UnloadAnswer{}, &UnknownModelError{Model: model}
	}
	p := Pair{Model: v.Name, State: metrics.StateLoaded, IdleSeconds: v.IdleSeconds, QPS: v.QPS1m,
		InFlight: v.InFlight, LastRequest: v.LastRequest, Now: now}
	placements := v.Placements
	if gateway != "" {
		i := slices.IndexFunc(v.Placements, func(p metrics.Placement) bool { return p.Gateway == gateway })
		if i < 0 {
			return UnloadAnswer{}, &UnknownModelError{Model: v.Name, Gateway: gateway}
		}
		pl := &v.Placements[i]
		p.Gateway, p.IdleSeconds, p.InFlight, p.LastRequest = gateway, pl.IdleSeconds, pl.InFlight, pl.LastRequest
		placements = v.Placements[i : i+1]
	}
	i := slices.IndexFunc(placements, func(p metrics.Placement) bool { return p.State == metrics.StateLoaded })
	if i < 0 {
		e.recorder.Decision(metrics.DecisionUnload, RuleNotLoaded)
		return UnloadAnswer{
			Rule:        RuleNotLoaded,
			Reason:      notLoadedReason(v.Name, gateway, placements),
			IdleSeconds: p.IdleSeconds,
			QPS:         p.QPS,
			InFlight:    p.InFlight,
		}, nil
	}
	p.GPUUUID, p.Runtime, p.MemoryBytes = placements[i].GPUUUID, placements[i].Runtime, placements[i].MemoryBytes
	d := e.policy.Decide(&p)
	e.recorder.Decision(metrics.DecisionUnload, d.Rule)
	return UnloadAnswer{
		Unload:      d.Act,
		Rule:        d.Rule,
		Reason:      e.policy.Reason(&p, d),
		IdleSeconds: p.IdleSeconds,
		QPS:         p.QPS,
		InFlight:    p.InFlight,
		NextRequest: d.NextRequest,
		Confidence:  d.Confidence,
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
