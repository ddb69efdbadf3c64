package recommend

import (
	"strconv"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
)

// Pair is what the engine knows of one model on one gateway when it asks the policy. The engine
// reuses one Pair for a whole cycle: a policy must not keep the pointer past the call.
type Pair struct {
	// Gateway is empty when ShouldUnload asks about the model across gateways (then IdleSeconds,
	// InFlight and LastRequest are the model's over all of them).
	Model, Gateway string
	// ID is the tracker's number for the pair ([metrics.PairID]; 0 when ShouldUnload asks across
	// gateways), for a policy that keeps per-pair state in a slice: it names the pair only while
	// the tracker holds it, so check the names too.
	ID metrics.PairID
	// State is metrics.StateLoaded (keep or unload?) or metrics.StateUnloaded (load now or not?).
	State metrics.State
	// GPUUUID, Runtime and MemoryBytes are where the model is (LOADED) or was last loaded
	// (UNLOADED).
	GPUUUID, Runtime string
	MemoryBytes      int64
	// IdleSeconds counts from the later of the last request, the last load and the brain's start
	// (see metrics.Tracker); QPS is the model's requests per second over the last minute on all
	// gateways; InFlight is this gateway's requests in flight (0 when UNLOADED).
	IdleSeconds, QPS float64
	InFlight         int64
	// LastRequest is the end of the gateway's latest sample with requests (zero: never).
	LastRequest time.Time
	// Now is the cycle's time (a virtual one in a replay): a policy reads no clock of its own.
	Now time.Time
}

// Decision is a policy's answer about one pair.
type Decision struct {
	// Act is true to recommend: unload a LOADED pair, load an UNLOADED one. While it stays true
	// cycle after cycle the recommendation stays open (one event); once false, it is withdrawn.
	Act bool
	// Rule names the rule that decided, for metrics and for the recommendation. Rules are a
	// small fixed set per policy (a metric label): never put numbers in a rule name.
	Rule string
	// NextRequest is the predicted time of the next request (zero: none); Confidence how sure
	// the policy is of it, from 0 to 1 (0: not said). Both are carried into the recommendation.
	NextRequest time.Time
	Confidence  float64
	// Cause is why an open recommendation of the pair is withdrawn when Act is false; zero lets
	// the engine choose (traffic resumed for an unload; traffic resumed or policy changed for a
	// load, by whether a request came since it was made).
	Cause Cause
	// Detail is the policy's own, for its Reason (for example a packed reason code); the engine
	// only carries it.
	Detail uint64
}

// Policy decides, pair by pair, what the engine recommends. The engine calls Decide for every
// LOADED (model, gateway) pair at every cycle, and for every UNLOADED pair with history (it was
// LOADED there once, or got requests there); it calls Reason only for the decisions it publishes
// (a recommendation opened, or withdrawn), so that a steady cycle formats nothing.
//
// A policy may have a method Name() string, the name the configuration selects it by
// (orchestration.policies.keep_alive_policy), which GetPolicy shows (see [PolicyName]).
//
// A policy that never recommends a load may also have a method NeverLoads() bool that returns
// true: the cycle then skips listing the UNLOADED pairs (while no Load recommendation is open),
// which spares a pass over the tracker.
//
// Decide must be fast and allocate nothing (a cycle may ask 100,000 pairs; a replay runs millions
// of cycles), read no clock (use Pair.Now) and be safe for concurrent use: the evaluation cycle and
// ShouldUnload call it from different goroutines. A policy that keeps per-model state guards it
// itself. Pinned models (always_loaded, keep-alive forever), per-model keep_alive and requests in
// flight must win over any prediction.
type Policy interface {
	// Decide answers for one pair: for a LOADED one, unload (Act) or keep; for an UNLOADED one,
	// load now (Act) or not.
	Decide(p *Pair) Decision
	// Reason says in one sentence why d was decided for p, with the numbers. p and d are those
	// of the Decide call.
	Reason(p *Pair, d Decision) string
}

// FixedPolicyName is the fixed policy's name (keep_alive_policy: fixed).
const FixedPolicyName = "fixed"

// PolicyName is p's Name(), or "" when it has none.
func PolicyName(p Policy) string {
	if n, ok := p.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// RuleNeverLoads is the fixed policy's rule for an UNLOADED pair: it loads nothing ahead of a
// request.
const RuleNeverLoads = "never_loads"

// FixedPolicy is the seed's policy: rules.UnloadPolicy's idle timer for LOADED pairs, and no
// pre-loading.
type FixedPolicy struct {
	Unload *rules.UnloadPolicy
}

// NewFixedPolicy wraps p (nil: rules.DefaultUnloadPolicy()).
func NewFixedPolicy(p *rules.UnloadPolicy) *FixedPolicy {
	if p == nil {
		p = rules.DefaultUnloadPolicy()
	}
	return &FixedPolicy{Unload: p}
}

func (f *FixedPolicy) input(p *Pair) rules.UnloadInput {
	return rules.UnloadInput{Model: p.Model, IdleSeconds: p.IdleSeconds, QPS: p.QPS, InFlight: p.InFlight}
}

// Name is FixedPolicyName.
func (f *FixedPolicy) Name() string { return FixedPolicyName }

// NeverLoads is true: the fixed policy loads a model only when a request comes.
func (f *FixedPolicy) NeverLoads() bool { return true }

// Decide applies the unload policy to a LOADED pair; an UNLOADED one is never loaded.
func (f *FixedPolicy) Decide(p *Pair) Decision {
	if p.State != metrics.StateLoaded {
		return Decision{Rule: RuleNeverLoads}
	}
	unload, rule := f.Unload.Decide(f.input(p))
	if rule == rules.UnloadRulePinned {
		return Decision{Rule: rule, Cause: CausePinned}
	}
	return Decision{Act: unload, Rule: rule}
}

// Reason is the unload policy's sentence (rules.UnloadDecision.Reason).
func (f *FixedPolicy) Reason(p *Pair, d Decision) string {
	if p.State != metrics.StateLoaded {
		return strconv.Quote(p.Model) + " is not loaded, and the fixed policy loads a model only when a request comes"
	}
	return f.Unload.ShouldUnload(f.input(p)).Reason()
}
