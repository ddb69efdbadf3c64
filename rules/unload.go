package rules

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Defaults of a zero UnloadPolicy field (the original brain's modelium.yaml).
const (
	DefaultEvictAfterIdle = 300 * time.Second
	DefaultMinQPS         = 0.1
)

// Unload rule names: every [UnloadDecision] is made by one of them, in this order.
const (
	// UnloadRulePinned keeps a model named in always_loaded or with a keep-alive of forever.
	UnloadRulePinned = "pinned"
	// UnloadRuleInFlight keeps a model that has requests in flight.
	UnloadRuleInFlight = "in_flight"
	// UnloadRuleUnknown keeps a model whose idle time or QPS is NaN or negative: with no
	// usable measure of its use, it is not unloaded.
	UnloadRuleUnknown = "unknown"
	// UnloadRuleIdle unloads a model idle for longer than its threshold and below min_qps.
	UnloadRuleIdle = "idle"
	// UnloadRuleRecentlyUsed keeps a model idle for no longer than its threshold.
	UnloadRuleRecentlyUsed = "recently_used"
	// UnloadRuleBusy keeps a model idle past its threshold whose QPS still reaches min_qps.
	UnloadRuleBusy = "busy"
)

// UnloadRules lists every unload rule name, for metrics that declare their label values up front.
var UnloadRules = []string{UnloadRulePinned, UnloadRuleInFlight, UnloadRuleUnknown, UnloadRuleIdle, UnloadRuleRecentlyUsed, UnloadRuleBusy}

// KeepAlive overrides evict_after_idle for one model, like Ollama's keep_alive: Forever never
// unloads it (config -1); otherwise After is how long it may stay idle, 0 meaning as soon as it is
// idle at all. Its text form (the configuration's) is -1, or a duration: seconds as a number
// ("300") or Go's syntax ("5m").
type KeepAlive struct {
	Forever bool
	After   time.Duration
}

// ParseKeepAlive reads a keep-alive's text form: -1 (forever), 0 (as soon as idle), a number of
// seconds, or a Go duration.
func ParseKeepAlive(s string) (KeepAlive, error) {
	if s == "-1" || s == "-1s" {
		return KeepAlive{Forever: true}, nil
	}
	d, err := ParseSeconds(s)
	if err != nil {
		return KeepAlive{}, err
	}
	if d < 0 {
		return KeepAlive{}, fmt.Errorf("keep_alive %q is negative: use -1 for never, 0 for as soon as idle, or a duration", s)
	}
	return KeepAlive{After: d}, nil
}

// UnmarshalText reads the text form (see [ParseKeepAlive]).
func (k *KeepAlive) UnmarshalText(b []byte) error {
	v, err := ParseKeepAlive(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// MarshalText writes -1 for forever, else the Go duration.
func (k KeepAlive) MarshalText() ([]byte, error) {
	if k.Forever {
		return []byte("-1"), nil
	}
	return []byte(k.After.String()), nil
}

// MarshalYAML writes forever as the number -1 rather than the string "-1" (YAML encoders that look
// for this method need no import here).
func (k KeepAlive) MarshalYAML() (any, error) {
	if k.Forever {
		return -1, nil
	}
	return k.After.String(), nil
}

// MaxSeconds bounds a duration written as seconds: a float64 count beyond a century does not fit a
// time.Duration.
const MaxSeconds = 100 * 365 * 24 * 3600

// ParseSeconds reads a duration written as a number of seconds ("300", "0.5") or in Go's syntax
// ("5m", "1m30s"), the form of every duration in the brain's configuration.
func ParseSeconds(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || math.Abs(secs) > MaxSeconds {
			return 0, fmt.Errorf("%s seconds is out of range (at most a century)", s)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 30s, 5m, or seconds as a number)", s)
	}
	return d, nil
}

// UnloadPolicy decides whether a loaded model should be unloaded. Fill in the exported fields and
// compile them with [NewUnloadPolicy]; every value is taken as written (an EvictAfterIdle of 0
// unloads a model as soon as it is idle; a MinQPS of 0 never unloads, since no QPS is below 0).
// [DefaultUnloadPolicy] has the original brain's values.
type UnloadPolicy struct {
	// EvictAfterIdle is how long a model may stay idle before it is unloaded.
	EvictAfterIdle time.Duration
	// MinQPS: a model with at least this many requests per second is kept however long it was
	// idle.
	MinQPS float64
	// AlwaysLoaded names models that are never unloaded.
	AlwaysLoaded []string
	// KeepAlive overrides EvictAfterIdle per model name.
	KeepAlive map[string]KeepAlive

	// overrides merges AlwaysLoaded (as Forever) and KeepAlive: one map lookup per decision.
	overrides map[string]override
}

type override struct {
	threshold time.Duration
	pin       pinSource
	keepAlive bool // threshold comes from the model's keep-alive
}

type pinSource uint8

const (
	notPinned pinSource = iota
	pinnedAlwaysLoaded
	pinnedKeepAlive
)

// NewUnloadPolicy validates p, fills in its defaults and compiles its per-model overrides. The
// result is immutable and safe for concurrent use.
func NewUnloadPolicy(p UnloadPolicy) (*UnloadPolicy, error) {
	var errs []error
	switch {
	case p.EvictAfterIdle < 0:
		errs = append(errs, fmt.Errorf("evict_after_idle %s is negative", p.EvictAfterIdle))
	}
	switch {
	case p.MinQPS < 0 || math.IsNaN(p.MinQPS) || math.IsInf(p.MinQPS, 0):
		errs = append(errs, fmt.Errorf("min_qps %v must be a finite number that is not negative", p.MinQPS))
	}
	c := &UnloadPolicy{
		EvictAfterIdle: p.EvictAfterIdle,
		MinQPS:         p.MinQPS,
		AlwaysLoaded:   append([]string(nil), p.AlwaysLoaded...),
		KeepAlive:      make(map[string]KeepAlive, len(p.KeepAlive)),
		overrides:      make(map[string]override, len(p.AlwaysLoaded)+len(p.KeepAlive)),
	}
	for name, k := range p.KeepAlive {
		if name == "" {
			errs = append(errs, errors.New("keep_alive has an empty model name"))
			continue
		}
		if !k.Forever && k.After < 0 {
			errs = append(errs, fmt.Errorf("keep_alive of %q is %s: negative; use Forever for never", name, k.After))
			continue
		}
		c.KeepAlive[name] = k
		o := override{threshold: k.After, keepAlive: true}
		if k.Forever {
			o.pin = pinnedKeepAlive
		}
		c.overrides[name] = o
	}
	for i, name := range p.AlwaysLoaded {
		if name == "" {
			errs = append(errs, fmt.Errorf("always_loaded[%d] is empty", i))
			continue
		}
		// always_loaded wins over a keep-alive duration: a pinned model is never unloaded.
		c.overrides[name] = override{pin: pinnedAlwaysLoaded}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("unload policy: %w", err)
	}
	return c, nil
}

// DefaultUnloadPolicy is the original brain's: 300 s idle, 0.1 QPS, nothing pinned.
func DefaultUnloadPolicy() *UnloadPolicy {
	p, err := NewUnloadPolicy(UnloadPolicy{EvictAfterIdle: DefaultEvictAfterIdle, MinQPS: DefaultMinQPS})
	if err != nil {
		panic(err) // the defaults are valid
	}
	return p
}

// UnloadInput is what the policy knows of one loaded model now.
type UnloadInput struct {
	Model string
	// IdleSeconds counts from the later of the last request and the load (see package metrics).
	IdleSeconds float64
	// QPS is the model's recent requests per second.
	QPS float64
	// InFlight is the number of requests in flight.
	InFlight int64
}

// UnloadDecision is the answer of [UnloadPolicy.ShouldUnload]: whether to unload, the rule that
// decided, and what [UnloadDecision.Reason] needs to say why.
type UnloadDecision struct {
	Unload bool
	Rule   string
	UnloadInput
	// Threshold is the idle time after which the model is unloaded; FromKeepAlive says whether it
	// is the model's keep-alive rather than evict_after_idle.
	Threshold     time.Duration
	FromKeepAlive bool
	MinQPS        float64
	pin           pinSource
}

// ShouldUnload applies the policy to one model, in this order: pinned (always_loaded, or a
// keep-alive of forever) keeps it; requests in flight keep it; an idle time or QPS that is NaN
// or negative keeps it (unknown: a comparison with NaN must not fall through to unload); idle
// for longer than its threshold (its keep-alive, else evict_after_idle) with QPS below min_qps
// unloads it; otherwise it stays (recently used, or busy). It reads nothing but its arguments and allocates nothing.
func (p *UnloadPolicy) ShouldUnload(in UnloadInput) UnloadDecision {
	d := UnloadDecision{UnloadInput: in, Threshold: p.EvictAfterIdle, MinQPS: p.MinQPS}
	if o, ok := p.overrides[in.Model]; ok {
		d.Threshold, d.FromKeepAlive, d.pin = o.threshold, o.keepAlive, o.pin
	}
	d.Unload, d.Rule = decideUnload(in, d.Threshold, d.pin, p.MinQPS)
	return d
}

// Decide is ShouldUnload without the numbers: whether to unload and the rule that decided, by the
// same rules in the same order. It is an evaluation cycle's hot path (a cycle may ask 100,000
// times), so it builds no UnloadDecision.
func (p *UnloadPolicy) Decide(in UnloadInput) (unload bool, rule string) {
	threshold, pin := p.EvictAfterIdle, notPinned
	if o, ok := p.overrides[in.Model]; ok {
		threshold, pin = o.threshold, o.pin
	}
	return decideUnload(in, threshold, pin, p.MinQPS)
}

// decideUnload applies the rules in order (see ShouldUnload).
func decideUnload(in UnloadInput, threshold time.Duration, pin pinSource, minQPS float64) (bool, string) {
	switch {
	case pin != notPinned:
		return false, UnloadRulePinned
	case in.InFlight > 0:
		return false, UnloadRuleInFlight
	case !(in.IdleSeconds >= 0) || !(in.QPS >= 0):
		return false, UnloadRuleUnknown
	case in.IdleSeconds <= threshold.Seconds():
		return false, UnloadRuleRecentlyUsed
	case in.QPS >= minQPS:
		return false, UnloadRuleBusy
	}
	return true, UnloadRuleIdle
}

// Pinned reports whether the policy never unloads the model.
func (p *UnloadPolicy) Pinned(model string) bool {
	return p.overrides[model].pin != notPinned
}

// Reason says in one sentence why the decision was made, with the numbers, for example:
//
//	"llama" has been idle for 312 s, longer than the 300 s of evict_after_idle, and gets 0.00 QPS, below min_qps 0.1, so it should be unloaded
//
// It is formatted when called, not when the decision is made (the evaluation loop formats only
// the decisions it publishes), by appends rather than fmt: a cycle may format 100,000 of them.
func (d UnloadDecision) Reason() string {
	b := make([]byte, 0, 160)
	b = strconv.AppendQuote(b, d.Model)
	switch d.Rule {
	case UnloadRulePinned:
		if d.pin == pinnedAlwaysLoaded {
			b = append(b, " is in always_loaded"...)
		} else {
			b = append(b, " has a keep_alive of forever (-1)"...)
		}
		b = append(b, ", so it stays loaded although idle for "...)
		b = appendSecs(b, d.IdleSeconds)
	case UnloadRuleInFlight:
		b = append(b, " has "...)
		b = strconv.AppendInt(b, d.InFlight, 10)
		b = append(b, " requests in flight, so it stays loaded although idle for "...)
		b = appendSecs(b, d.IdleSeconds)
	case UnloadRuleUnknown:
		b = append(b, " has an idle time of "...)
		b = appendSecs(b, d.IdleSeconds)
		b = append(b, " and "...)
		b = strconv.AppendFloat(b, d.QPS, 'f', 2, 64)
		b = append(b, " QPS, not both usable (NaN or negative), so it stays loaded"...)
	case UnloadRuleRecentlyUsed:
		b = d.appendIdle(append(b, " has been idle for "...), ", not longer than the ")
		b = append(b, ", so it stays loaded"...)
	case UnloadRuleBusy:
		b = d.appendIdle(append(b, " has been idle for "...), ", longer than the ")
		b = d.appendQPS(append(b, ", but gets "...), ", at least min_qps ")
		b = append(b, ", so it stays loaded"...)
	case UnloadRuleIdle:
		b = d.appendIdle(append(b, " has been idle for "...), ", longer than the ")
		b = d.appendQPS(append(b, ", and gets "...), ", below min_qps ")
		b = append(b, ", so it should be unloaded"...)
	default:
		b = append(b, " has no decision"...)
	}
	return string(b)
}

// appendIdle appends "312 s<compared> 300 s of evict_after_idle".
func (d UnloadDecision) appendIdle(b []byte, compared string) []byte {
	b = appendSecs(b, d.IdleSeconds)
	b = append(b, compared...)
	b = appendSecs(b, d.Threshold.Seconds())
	if d.FromKeepAlive {
		return append(b, " of its keep_alive"...)
	}
	return append(b, " of evict_after_idle"...)
}

// appendQPS appends "0.00 QPS<compared>0.1".
func (d UnloadDecision) appendQPS(b []byte, compared string) []byte {
	b = strconv.AppendFloat(b, d.QPS, 'f', 2, 64)
	b = append(b, " QPS"...)
	b = append(b, compared...)
	return strconv.AppendFloat(b, d.MinQPS, 'g', -1, 64)
}

// appendSecs appends seconds with at most one decimal and the unit: "312 s", "300.4 s", "0.5 s".
func appendSecs(b []byte, s float64) []byte {
	b = strconv.AppendFloat(b, math.Round(s*10)/10, 'f', -1, 64)
	return append(b, " s"...)
}
