package recommend

import (
	"time"
)

// Kind is what a recommendation advises.
type Kind uint8

// Kinds of recommendation. The zero value is no kind.
const (
	// Unload advises a gateway to unload a LOADED model.
	Unload Kind = iota + 1
	// Load advises a gateway to load an UNLOADED model now (pre-warm), on the GPU and runtime it
	// last had, because its next request is expected soon.
	Load
)

// Kinds lists every kind, in wire order.
var Kinds = [...]Kind{Unload, Load}

func (k Kind) String() string {
	switch k {
	case Unload:
		return "unload"
	case Load:
		return "load"
	}
	return "none"
}

// Key identifies an open recommendation: at most one of each kind is open per model and gateway.
type Key struct {
	Kind           Kind
	Gateway, Model string
}

// Recommendation is one advice to one gateway. Once published it is never modified (the hub
// and every subscriber share it).
type Recommendation struct {
	Kind           Kind
	Model, Gateway string
	// GPUUUID, Runtime and MemoryBytes say where the model is (Unload) or was last loaded (Load).
	GPUUUID, Runtime string
	MemoryBytes      int64
	// Rule names the policy rule that decided; Reason says why in one sentence, with the numbers.
	Rule, Reason string
	// IdleSeconds and QPS are the pair's when recommended.
	IdleSeconds, QPS float64
	// NextRequest is the predicted time of the model's next request on the gateway (zero: no
	// prediction); Confidence is how sure the policy is of it, from 0 to 1 (0: not said).
	NextRequest time.Time
	Confidence  float64
	// Time is when the recommendation was made.
	Time time.Time
}

// Key is the recommendation's key.
func (r *Recommendation) Key() Key { return Key{Kind: r.Kind, Gateway: r.Gateway, Model: r.Model} }

// Cause says why a recommendation was withdrawn.
type Cause uint8

// Withdrawal causes. The zero value is no cause given (the engine then picks one).
const (
	CauseUnspecified Cause = iota
	// CauseTrafficResumed: the model got requests (or has requests in flight) again.
	CauseTrafficResumed
	// CauseModelUnloaded: an Unload recommendation's model is no longer LOADED on the gateway.
	CauseModelUnloaded
	// CausePinned: the model is pinned (always_loaded, or a keep-alive of forever).
	CausePinned
	// CausePolicyChanged: the policy no longer recommends it (it changed its mind or its config).
	CausePolicyChanged
	// CauseModelLoaded: a Load recommendation's model is no longer UNLOADED on the gateway (it is
	// loading or loaded, or failed to).
	CauseModelLoaded
)

func (c Cause) String() string {
	switch c {
	case CauseTrafficResumed:
		return "traffic_resumed"
	case CauseModelUnloaded:
		return "model_unloaded"
	case CausePinned:
		return "pinned"
	case CausePolicyChanged:
		return "policy_changed"
	case CauseModelLoaded:
		return "model_loaded"
	}
	return "unspecified"
}

// Event is one published change of the open set: a recommendation opened, or withdrawn. Events
// are numbered in one sequence space per engine; once published an event is never modified.
type Event struct {
	// Seq is the event's sequence: strictly increasing, starting at 1.
	Seq uint64
	// Time is when the event was published (the cycle's now, or the recommendation's time).
	Time time.Time
	// Rec is the recommendation opened, or the one withdrawn.
	Rec *Recommendation
	// Withdrawn says that the event withdraws Rec, because of Cause; Reason says why in one
	// sentence.
	Withdrawn bool
	Cause     Cause
	Reason    string
}

// Key is the key of the event's recommendation.
func (e *Event) Key() Key { return e.Rec.Key() }
