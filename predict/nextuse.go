package predict

import (
	"time"

	"github.com/modelium/brain/gpu"
)

// NextUse estimates when the model of k is next requested after now, from its history's plan:
// the expected wait, in whole minutes (Config.Step), for the first minute after now's minute with
// a request, taking plan[a-1] as the chance of a request in minute last+a given none before it
// (the plan's own reading); a model still quiet at the end of the horizon is taken to be back
// after as long again as it has been quiet, recency's guess where the plan has nothing more to say
// (on rows 1-500 of the Azure sample this beat "back one horizon later" under every memory cap
// tried). ok is false while the history has fewer than MinHistory gaps (the policy itself defers
// to the fixed keep-alive then): the caller falls back on recency. The eviction planner reads it
// through a gpu.NextUseEstimator to choose victims: the model expected back last goes first.
func (p *Policy) NextUse(k Key, now time.Time) (next time.Time, ok bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	h := p.models.get(k)
	if h == nil || int(h.gaps) < p.cfg.MinHistory {
		return time.Time{}, false
	}
	step := p.cfg.Step
	n := stepOf(now, step)
	last := h.last - 1
	survive, wait := 1.0, 0.0
	// Minutes n+1 ... last+Horizon; a model busy this minute (n <= last) starts at last+1.
	for a := max(n+1-last, 1); a <= Horizon; a++ {
		q := decodeChance(h.plan[a-1])
		wait += survive * q * float64(last+a-n)
		survive *= 1 - q
		if survive < 1e-6 {
			survive = 0
			break
		}
	}
	if survive > 0 {
		wait += survive * float64(max(n-last, 1))
	}
	return time.Unix(n*int64(step/time.Second), 0).Add(time.Duration(wait * float64(step))), true
}

// Victims is the brain's victim estimate for eviction plans (gpu's planner, behind ChooseGPU's
// allow_eviction and the replay under a memory cap): the policy's expected next request where the
// model's history has a plan, else recency's wait (lastRequest) on the same scale, confidence 1 for
// both, so that a model seen once does not outrank a predicted one by the recency estimate's doubt;
// the wait then weighed by the model's size over reference (gpu.SizeWeighted: of two models
// expected back equally late, the larger goes first).
func (p *Policy) Victims(now time.Time, lastRequest func(model, gateway string) time.Time, bytes func(model, gateway string) int64, reference int64) gpu.NextUseEstimator {
	recency := gpu.LastRequestEstimator{Now: now, LastRequest: lastRequest}
	return gpu.SizeWeighted{Est: victimEstimate{p: p, now: now, recency: recency}, Now: now, Bytes: bytes, Reference: reference}
}

type victimEstimate struct {
	p       *Policy
	now     time.Time
	recency gpu.LastRequestEstimator
}

func (v victimEstimate) NextUse(model, gateway string) (time.Time, float64) {
	if next, ok := v.p.NextUse(Key{Gateway: gateway, Model: model}, v.now); ok {
		return next, 1
	}
	next, _ := v.recency.NextUse(model, gateway)
	return next, 1
}

// Victims is the policy's victim estimate (Policy.Victims), for the server's eviction plans.
func (e *EnginePolicy) Victims(now time.Time, lastRequest func(model, gateway string) time.Time, bytes func(model, gateway string) int64, reference int64) gpu.NextUseEstimator {
	return e.Policy.Victims(now, lastRequest, bytes, reference)
}

// ForgetGateways drops the histories of gateways the brain has forgotten (the server calls it when
// server.gateway_ttl expires them).
func (e *EnginePolicy) ForgetGateways(gateways []string) {
	for _, g := range gateways {
		e.Policy.ForgetGateway(g)
	}
}
