package predict

import (
	"math"
	"strconv"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// EnginePolicy is the predictive policy as the recommendation engine asks it (recommend.Policy):
// one Decide per (model, gateway) pair and cycle, LOADED pairs for keep or unload, UNLOADED ones
// with history for pre-warm or not. Fixed decides what always wins over a prediction (pinned,
// per-model keep_alive, requests in flight) and models with little history.
type EnginePolicy struct {
	Policy *Policy
	Fixed  *rules.UnloadPolicy
}

var _ recommend.Policy = (*EnginePolicy)(nil)

// PolicyName is the predictive policy's name (keep_alive_policy: predictive).
const PolicyName = "predictive"

// Name is PolicyName.
func (e *EnginePolicy) Name() string { return PolicyName }

// NewEnginePolicy wraps p for the engine, with fixed (nil: rules.DefaultUnloadPolicy()).
func NewEnginePolicy(p *Policy, fixed *rules.UnloadPolicy) *EnginePolicy {
	if fixed == nil {
		fixed = rules.DefaultUnloadPolicy()
	}
	return &EnginePolicy{Policy: p, Fixed: fixed}
}

func input(p *recommend.Pair) Input {
	return Input{
		Gateway:     p.Gateway,
		ID:          p.ID,
		UnloadInput: rules.UnloadInput{Model: p.Model, IdleSeconds: p.IdleSeconds, QPS: p.QPS, InFlight: p.InFlight},
		Loaded:      p.State == metrics.StateLoaded,
		LastRequest: p.LastRequest,
	}
}

// Decide observes the pair's last request and decides: Act is unload for a LOADED pair, load
// (pre-warm) for an UNLOADED one. NextRequest and Confidence are the expected request's minute
// and probability. It allocates nothing.
func (e *EnginePolicy) Decide(p *recommend.Pair) recommend.Decision {
	d := e.Policy.Decide(e.Fixed, input(p), p.Now)
	out := recommend.Decision{Act: d.Unload || d.Load, Rule: d.Rule, Detail: d.pack()}
	if d.Expected != 0 {
		out.NextRequest, out.Confidence = d.ExpectedTime(), d.Chance
	}
	if d.Rule == rules.UnloadRulePinned {
		out.Cause = recommend.CausePinned
	}
	return out
}

// Reason is the decision's sentence, rebuilt from the pair and the decision's Detail (the
// history may have moved on since Decide: the sentence is the decision's own).
func (e *EnginePolicy) Reason(p *recommend.Pair, rd recommend.Decision) string {
	d := unpack(rd.Detail)
	if d.byFixed {
		if p.State != metrics.StateLoaded {
			return strconv.Quote(p.Model) + " is not loaded and has too little history to pre-warm"
		}
		d.Fixed = e.Fixed.ShouldUnload(input(p).UnloadInput)
	}
	cfg := e.Policy.Config()
	d.Model, d.Rule, d.Now, d.Step = p.Model, rd.Rule, stepOf(p.Now, cfg.Step), cfg.Step
	d.Threshold, d.MinHistory = cfg.MinProbability, cfg.MinHistory
	if d.Expected != 0 {
		d.Expected += d.Now
	}
	return d.Reason()
}

// pack keeps what Reason needs beside the pair in 64 bits: the chance (8 bits), the expected
// minute's offset from now plus one (16 bits; 0: none), the gaps (32 bits) and whether the fixed
// policy decided.
func (d Decision) pack() uint64 {
	var off uint64
	if d.Expected != 0 {
		off = uint64(min(max(d.Expected-d.Now+1, 1), math.MaxUint16))
	}
	v := uint64(encodeChance(d.Chance)) | off<<8 | uint64(min(uint64(d.Gaps), math.MaxUint32))<<24
	if d.byFixed {
		v |= 1 << 56
	}
	return v
}

func unpack(v uint64) Decision {
	d := Decision{Chance: decodeChance(uint8(v & 0xff)), Gaps: int(v >> 24 & math.MaxUint32), byFixed: v>>56&1 == 1}
	if off := int64(v >> 8 & 0xffff); off != 0 {
		d.Expected = off - 1 // relative to Now until Reason adds it
	}
	return d
}
