package replay

import (
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/rules"
)

// PredictiveCycle returns the evaluation cycle of the predictive policy (package predict) over a
// tracker: each cycle it feeds every model's last request to the policy and asks it, for each
// model on the replay's gateway, whether to unload it (LOADED) or pre-warm it (not loaded).
//
// STAND-IN like BrainCycle: the daemon's cycle moves to package recommend, which will drive the
// same policy; until then this applies predict.Policy.Decide to the tracker's view directly.
func PredictiveCycle(pol *predict.Policy) NewCycleFunc {
	return func(t *metrics.Tracker, p *rules.UnloadPolicy) Cycle {
		return &predictiveCycle{tracker: t, fixed: p, policy: pol, open: make(map[string]Kind)}
	}
}

type predictiveCycle struct {
	tracker *metrics.Tracker
	fixed   *rules.UnloadPolicy
	policy  *predict.Policy
	open    map[string]Kind // model -> the open recommendation's kind
}

func (c *predictiveCycle) Evaluate(now time.Time, dst []Recommendation) []Recommendation {
	for _, v := range c.tracker.Models(Gateway) {
		in := predict.Input{Gateway: Gateway, UnloadInput: rules.UnloadInput{Model: v.Name, QPS: v.QPS1m}, }
		for _, pl := range v.Placements {
			if pl.Gateway == Gateway {
				in.Loaded = pl.State == metrics.StateLoaded
				in.IdleSeconds, in.InFlight, in.LastRequest = pl.IdleSeconds, pl.InFlight, pl.LastRequest
			}
		}
		d := c.policy.Decide(c.fixed, in, now)
		var kind Kind
		switch {
		case d.Unload:
			kind = Unload
		case d.Load:
			kind = Load
		}
		if kind != 0 && c.open[v.Name] != kind {
			dst = append(dst, Recommendation{Kind: kind, Model: v.Name, Gateway: Gateway})
		}
		if kind == 0 {
			delete(c.open, v.Name)
		} else {
			c.open[v.Name] = kind
		}
	}
	return dst
}
