package predict

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
)

// Rule names of the predictive policy's own decisions. Pinned models, per-model keep_alive,
// requests in flight and models with little history are decided by the fixed policy's rules
// ([rules.UnloadRules]).
const (
	// RuleExpectedSoon keeps a loaded model: a request is likely enough in the next minute (or
	// the one after: unloading and reloading would cost more than the idle minute).
	RuleExpectedSoon = "expected_soon"
	// RulePredictedIdle unloads a loaded model: no request is likely enough in the next minutes.
	RulePredictedIdle = "predicted_idle"
	// RulePrewarm loads an unloaded model now: a request is likely enough in the next minute,
	// and a model loaded only in its request's minute would be a cold start.
	RulePrewarm = "prewarm"
	// RuleNotExpected leaves an unloaded model unloaded: no request is likely enough in the next
	// minute, or its history is too short to say.
	RuleNotExpected = "not_expected"
)

// Rules lists the predictive policy's own rule names, for metrics that declare their label
// values up front.
var Rules = []string{RuleExpectedSoon, RulePredictedIdle, RulePrewarm, RuleNotExpected}

// Key names a history: a model on a gateway. Each gateway's traffic is its own rhythm, and a
// pre-warm is a load on one gateway.
type Key struct {
	Gateway, Model string
}

// Policy is the predictive keep-alive and pre-warming policy: one [History] per model and
// gateway, and the knobs. It is safe for concurrent use: observations and decisions may come from the evaluation
// cycle and from RPCs at once.
type Policy struct {
	cfg Config

	mu     sync.RWMutex
	models histories
	// slots[id] remembers the history of the tracker's pair id (see [metrics.PairID]), so that a
	// cycle finds a pair's history by index rather than by two lookups by name (the map lookups
	// were a third of a 100,000-model cycle). A slot is trusted only for the key it was made
	// for and while no history has left since (models.gen); the slice grows under mu's write lock,
	// and its slots are filled under the read lock, atomically.
	slots []atomic.Pointer[slot]
}

// slot is what slots remembers for one pair ID.
type slot struct {
	key Key
	h   *History
	gen uint64
}

// histories maps gateway, then model, to a history: two string-keyed maps take the runtime's fast
// string path, where one map keyed by a struct of two strings hashes and compares generically
// (a third of a 100,000-model cycle).
type histories struct {
	byGateway map[string]map[string]*History
	n         int
	gen       uint64 // counts the histories that left (or were replaced): older slots are stale
}

func (hs *histories) get(k Key) *History { return hs.byGateway[k.Gateway][k.Model] }

func (hs *histories) put(k Key, h *History) {
	if hs.byGateway == nil {
		hs.byGateway = make(map[string]map[string]*History)
	}
	m := hs.byGateway[k.Gateway]
	if m == nil {
		m = make(map[string]*History)
		hs.byGateway[k.Gateway] = m
	}
	if _, ok := m[k.Model]; !ok {
		hs.n++
	}
	m[k.Model] = h
}

func (hs *histories) del(k Key) {
	m := hs.byGateway[k.Gateway]
	if _, ok := m[k.Model]; !ok {
		return
	}
	delete(m, k.Model)
	hs.n--
	hs.gen++
	if len(m) == 0 {
		delete(hs.byGateway, k.Gateway)
	}
}

func (hs *histories) delGateway(gateway string) int {
	n := len(hs.byGateway[gateway])
	if n == 0 {
		return 0
	}
	delete(hs.byGateway, gateway)
	hs.n -= n
	hs.gen++
	return n
}

// New returns a policy with no history. Zero fields of cfg take their defaults.
func New(cfg Config) (*Policy, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Policy{cfg: c}, nil
}

// Config returns the knobs in use, defaults filled in.
func (p *Policy) Config() Config { return p.cfg }

// Len returns the number of (gateway, model) pairs with a history.
func (p *Policy) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.models.n
}

// Minute is the Unix minute of t: the unit of a history (with the default [Config.Step]).
func Minute(t time.Time) int64 { return stepOf(t, DefaultStep) }

// stepOf is the number of whole steps from the Unix epoch to t (a Unix minute with the default
// step).
func stepOf(t time.Time, step time.Duration) int64 {
	s, n := t.Unix(), int64(step/time.Second)
	if s < 0 && s%n != 0 {
		return s/n - 1
	}
	return s / n
}

// Observe records what the brain knows of a model's traffic on a gateway: the time of its latest
// request there (the tracker's LastRequest; zero, like any time before the Unix epoch, means none: a state file holds no earlier minute).
// The minute of that request is a busy minute. Calling it every cycle with an unchanged time is cheap and changes nothing.
// A gateway or model name over 4,096 bytes is not tracked (the server refuses such names long
// before): the state file holds no longer one, and one such history would make it unreadable.
func (p *Policy) Observe(k Key, lastRequest time.Time) {
	if lastRequest.Unix() < 0 || len(k.Gateway) > maxNameLen || len(k.Model) > maxNameLen {
		return // a name the state file cannot hold would make the whole file unreadable
	}
	m := stepOf(lastRequest, p.cfg.Step)
	p.mu.RLock()
	h := p.models.get(k)
	seen := h != nil && h.last != 0 && m < h.last
	p.mu.RUnlock()
	if seen {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	h = p.models.get(k)
	if h == nil {
		h = new(History)
		p.models.put(k, h)
	}
	h.Observe(m)
}

// Forget drops a history (for example when the model is removed from the gateway).
func (p *Policy) Forget(k Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.models.del(k)
}

// ForgetGateway drops every history of gateway and returns how many there were: the brain has
// forgotten the gateway (server.gateway_ttl), so its models' rhythms would never be asked for
// again, yet would stay in memory and in the state file for good. A cycle that listed the
// gateway's pairs before the tracker forgot them may still observe one of them afterwards and
// begin its history again; that history holds one busy minute and goes the same way if the
// gateway comes back and is forgotten again.
func (p *Policy) ForgetGateway(gateway string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.models.delGateway(gateway)
}

// Decision is the answer of [Policy.ShouldUnload] or [Policy.ShouldLoad]: what to do, the rule
// that decided and the numbers [Decision.Reason] needs.
type Decision struct {
	// Unload (for a loaded model) or Load (for an unloaded one) is the action; neither means
	// leave it as it is.
	Unload, Load bool
	Rule         string
	Model        string
	// Fixed is the fixed policy's decision, set when it decided (pinned, keep_alive, in flight,
	// unknown use, or a history too short: Rule is then Fixed.Rule).
	Fixed   rules.UnloadDecision
	byFixed bool
	// Now is the minute decided for; Expected the minute whose request the decision expects (0:
	// none within the horizon) and Chance its probability; Threshold is MinProbability.
	Now, Expected     int64
	Chance, Threshold float64
	// Gaps is the number of gaps the history holds; MinHistory the number needed to predict.
	Gaps, MinHistory int
	// Step is the length of a minute of Now and Expected ([Config.Step]; 0: a minute).
	Step time.Duration
}

// ByFixed reports whether the fixed policy decided.
func (d Decision) ByFixed() bool { return d.byFixed }

// ExpectedTime returns the start of the minute whose request is expected, or the zero time.
func (d Decision) ExpectedTime() time.Time {
	if d.Expected == 0 {
		return time.Time{}
	}
	return time.Unix(d.Expected*int64(d.step()/time.Second), 0).UTC()
}

func (d Decision) step() time.Duration {
	if d.Step == 0 {
		return DefaultStep
	}
	return d.Step
}

// Input is what a cycle knows of one model on one gateway: the fixed policy's input (name, idle
// time, QPS, requests in flight), whether it is loaded there, and its latest request there (zero:
// none).
type Input struct {
	Gateway string
	// ID is the tracker's number for the pair (0: none), which lets the policy find the pair's
	// history by index (see [metrics.PairID]).
	ID metrics.PairID
	rules.UnloadInput
	Loaded      bool
	LastRequest time.Time
}

// Decide observes in.LastRequest (as [Policy.Observe]) and decides for the model, with one map
// lookup when the observation is not new: [Policy.ShouldUnload] for a loaded model,
// [Policy.ShouldLoad] for one that is not. A cycle calls it once per model.
func (p *Policy) Decide(fixed *rules.UnloadPolicy, in Input, now time.Time) Decision {
	d := Decision{Model: in.Model, Now: stepOf(now, p.cfg.Step), Threshold: p.cfg.MinProbability, MinHistory: p.cfg.MinHistory, Step: p.cfg.Step}
	var fd rules.UnloadDecision
	if in.Loaded {
		fd = fixed.ShouldUnload(in.UnloadInput)
		switch {
		case fd.Rule == rules.UnloadRulePinned, fd.Rule == rules.UnloadRuleInFlight, fd.Rule == rules.UnloadRuleUnknown, fd.FromKeepAlive:
			p.Observe(Key{in.Gateway, in.Model}, in.LastRequest)
			return d.byFixedPolicy(fd)
		}
	}
	k := Key{in.Gateway, in.Model}
	p.mu.RLock()
	if in.ID != 0 && int(in.ID) >= len(p.slots) {
		p.mu.RUnlock()
		p.growSlots(in.ID)
		p.mu.RLock()
	}
	h := p.history(k, in.ID)
	if !in.LastRequest.IsZero() && (h == nil || h.last == 0 || stepOf(in.LastRequest, p.cfg.Step) >= h.last) {
		p.mu.RUnlock()
		p.Observe(k, in.LastRequest)
		p.mu.RLock()
		h = p.history(k, in.ID)
	}
	d = p.decide(d, h, in.Loaded)
	p.mu.RUnlock()
	if in.Loaded && d.Gaps < p.cfg.MinHistory {
		return d.byFixedPolicy(fd)
	}
	return d
}

// history returns k's history (nil: none), through the slot of the pair ID id when it still
// holds k's, and remembers it there otherwise. The caller holds the read lock.
func (p *Policy) history(k Key, id metrics.PairID) *History {
	if id == 0 || int(id) >= len(p.slots) {
		return p.models.get(k)
	}
	s := &p.slots[id]
	if v := s.Load(); v != nil && v.gen == p.models.gen && v.key == k {
		return v.h
	}
	h := p.models.get(k)
	if h != nil {
		s.Store(&slot{key: k, h: h, gen: p.models.gen})
	}
	return h
}

// growSlots makes room for the pair ID id: to twice the slots or id, whichever is more, so that
// a growing tracker costs a few copies.
func (p *Policy) growSlots(id metrics.PairID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if int(id) < len(p.slots) {
		return
	}
	grown := make([]atomic.Pointer[slot], max(2*len(p.slots), int(id)+1))
	for i := range p.slots {
		grown[i].Store(p.slots[i].Load())
	}
	p.slots = grown
}

// decide applies the history to a model, under the read lock.
func (p *Policy) decide(d Decision, h *History, loaded bool) Decision {
	if !loaded {
		d.Rule = RuleNotExpected
	}
	if h == nil {
		return d
	}
	d.Gaps = int(h.gaps)
	if d.Gaps < p.cfg.MinHistory {
		return d
	}
	want, exp, chance := h.Want(d.Now, loaded, &p.cfg)
	switch {
	case loaded && want:
		d.Rule, d.Expected, d.Chance = RuleExpectedSoon, exp, chance
		return d
	case loaded:
		d.Rule, d.Unload = RulePredictedIdle, true
	case want && exp > d.Now:
		d.Rule, d.Load, d.Expected, d.Chance = RulePrewarm, true, exp, chance
		return d
	case want: // busy this minute: the request loads it, no pre-warm
		return d
	}
	d.Expected, d.Chance, _ = h.NextLikely(d.Now+1, &p.cfg)
	return d
}

// ShouldUnload decides for a LOADED model: the fixed policy first for what always wins over a
// prediction (pinned, a per-model keep_alive, requests in flight, an unusable idle time or QPS),
// and while the model has fewer than MinHistory gaps; otherwise keep it when a request is likely
// enough in the next minute or the one after ([RuleExpectedSoon]), else unload it
// ([RulePredictedIdle]). It observes nothing and allocates nothing.
func (p *Policy) ShouldUnload(fixed *rules.UnloadPolicy, gateway string, in rules.UnloadInput, now time.Time) Decision {
	return p.Decide(fixed, Input{Gateway: gateway, UnloadInput: in, Loaded: true}, now)
}

func (d Decision) byFixedPolicy(fd rules.UnloadDecision) Decision {
	d.Fixed, d.byFixed, d.Rule, d.Unload = fd, true, fd.Rule, fd.Unload
	return d
}

// ShouldLoad decides for a model that is not loaded: load it now ([RulePrewarm]) when it has at
// least MinHistory gaps and a request is at least MinProbability likely in the next minute;
// otherwise leave it ([RuleNotExpected]). It observes nothing and allocates nothing.
func (p *Policy) ShouldLoad(gateway, model string, now time.Time) Decision {
	return p.Decide(nil, Input{Gateway: gateway, UnloadInput: rules.UnloadInput{Model: model}}, now)
}

// Reason says in one sentence why the decision was made, with the numbers, for example:
//
//	"fn" last had a request 14 min ago; the next one is expected in minute 2026-11-29T12:41Z with probability 0.82 (at least 0.1, from 37 gaps), so it should be loaded now
//
// It is formatted when called, by appends: a cycle may format many.
func (d Decision) Reason() string {
	if d.byFixed {
		r := d.Fixed.Reason()
		if d.Gaps < d.MinHistory && d.Fixed.Rule != rules.UnloadRulePinned && d.Fixed.Rule != rules.UnloadRuleInFlight && d.Fixed.Rule != rules.UnloadRuleUnknown && !d.Fixed.FromKeepAlive {
			b := []byte(r)
			b = append(b, " (the fixed keep-alive decides: "...)
			b = strconv.AppendInt(b, int64(d.Gaps), 10)
			b = append(b, " gaps observed, fewer than min_history "...)
			b = strconv.AppendInt(b, int64(d.MinHistory), 10)
			return string(append(b, ')'))
		}
		return r
	}
	b := make([]byte, 0, 200)
	b = strconv.AppendQuote(b, d.Model)
	if d.Rule == RuleNotExpected && d.Gaps < d.MinHistory {
		b = append(b, " has "...)
		b = strconv.AppendInt(b, int64(d.Gaps), 10)
		b = append(b, " gaps observed, fewer than min_history "...)
		b = strconv.AppendInt(b, int64(d.MinHistory), 10)
		return string(append(b, ", so it is not pre-warmed"...))
	}
	switch d.Rule {
	case RuleExpectedSoon, RulePrewarm:
		b = append(b, ": a request is expected in minute "...)
		b = d.appendMinute(b, d.Expected)
		b = append(b, " with probability "...)
		b = strconv.AppendFloat(b, math.Round(d.Chance*100)/100, 'f', -1, 64)
		b = d.appendBasis(b, ", at least ")
		if d.Rule == RulePrewarm {
			b = append(b, ", so it should be loaded now (pre-warm)"...)
		} else {
			b = append(b, ", so it stays loaded"...)
		}
	case RulePredictedIdle, RuleNotExpected:
		b = append(b, ": no request is expected in minute "...)
		b = d.appendMinute(b, d.Now+1)
		b = d.appendBasis(b, " with probability at least ")
		if d.Expected != 0 {
			b = append(b, "; the next likely one is in minute "...)
			b = d.appendMinute(b, d.Expected)
			b = append(b, " (probability "...)
			b = strconv.AppendFloat(b, math.Round(d.Chance*100)/100, 'f', -1, 64)
			b = append(b, ')')
		} else {
			b = append(b, "; none is likely in the next "...)
			b = strconv.AppendInt(b, Horizon, 10)
			if d.step() == DefaultStep {
				b = append(b, " min"...)
			} else {
				b = append(b, " steps of "...)
				b = append(b, d.step().String()...)
			}
		}
		if d.Rule == RulePredictedIdle {
			b = append(b, ", so it should be unloaded"...)
		} else {
			b = append(b, ", so it stays unloaded"...)
		}
	default:
		b = append(b, " has no decision"...)
	}
	return string(b)
}

// appendBasis appends "<compared>0.1 (from 37 gaps)".
func (d Decision) appendBasis(b []byte, compared string) []byte {
	b = append(b, compared...)
	b = strconv.AppendFloat(b, d.Threshold, 'g', -1, 64)
	b = append(b, " (from "...)
	b = strconv.AppendInt(b, int64(d.Gaps), 10)
	return append(b, " gaps)"...)
}

// appendMinute appends the start of minute m as RFC 3339 to the minute: "2026-11-29T12:41Z"
// (to the second with a demo step shorter than a minute).
func (d Decision) appendMinute(b []byte, m int64) []byte {
	step := d.step()
	layout := "2006-01-02T15:04Z07:00"
	if step%time.Minute != 0 {
		layout = "2006-01-02T15:04:05Z07:00"
	}
	return time.Unix(m*int64(step/time.Second), 0).UTC().AppendFormat(b, layout)
}
