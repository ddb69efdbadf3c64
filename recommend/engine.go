package recommend

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelium/brain/metrics"
)

// Sink receives the events the engine publishes, in sequence order, at most one call at a time.
// It must not keep evs (the slice is reused), only the events in it, and must not wait for
// anyone: the engine holds its lock while it calls Publish. [Hub] is one.
type Sink interface {
	Publish(evs []*Event)
}

// Config configures an Engine.
type Config struct {
	// Tracker is what gateways reported; required.
	Tracker *metrics.Tracker
	// Policy decides (nil: NewFixedPolicy(nil), the seed's 300 s idle timer).
	Policy Policy
	// Sink receives every published event (nil: none; Evaluate's result still has them).
	Sink Sink
	// Recorder counts decisions and events for Prometheus (nil: nothing).
	Recorder *metrics.Recorder
}

// Engine holds the open recommendations and publishes their changes. It is safe for concurrent
// use: cycles, outside publications and ShouldUnload may come from different goroutines, and
// cycles never overlap.
type Engine struct {
	tracker  *metrics.Tracker
	policy   Policy
	sink     Sink
	recorder *metrics.Recorder

	mu       sync.Mutex
	seq      uint64 // last published sequence
	cycle    uint64
	pair     Pair
	loaded   []metrics.LoadedModel // reused between cycles: a steady cycle allocates nothing
	unloaded []metrics.UnloadedModel
	events   []*Event
	open     map[Key]*open
	openLoad int  // open Load recommendations
	noLoads  bool // the policy never loads (NeverLoads)
	// byID[kindIndex(k)][id] is the open recommendation of kind k of the pair the tracker numbers
	// id, so that a cycle finds a pair's recommendation by index: with every pair's open, the
	// lookups in open by names were most of a 100,000-pair cycle. It only caches open: an entry
	// is trusted only when its names are the pair's (the tracker gives a forgotten pair's number
	// to another), a withdrawal clears its entry, and a miss looks in open.
	byID [2][]*open
}

// open is an open recommendation and the event that opened it, in one allocation: a cycle may
// open 100,000.
type open struct {
	ev       Event
	rec      Recommendation
	cycle    uint64         // the last cycle that still recommended it (or found its pair in place)
	external bool           // published by Recommend, not by a cycle
	id       metrics.PairID // the pair number it is cached under in byID (0: none)
}

// New returns an engine with nothing open.
func New(c Config) *Engine {
	if c.Policy == nil {
		c.Policy = NewFixedPolicy(nil)
	}
	nl, ok := c.Policy.(interface{ NeverLoads() bool })
	return &Engine{tracker: c.Tracker, policy: c.Policy, sink: c.Sink, recorder: c.Recorder, open: make(map[Key]*open),
		noLoads: ok && nl.NeverLoads()}
}

// Policy is the engine's policy.
func (e *Engine) Policy() Policy { return e.policy }

// Result says what one evaluation cycle did.
type Result struct {
	// Loaded and Unloaded are the numbers of pairs the policy was asked about.
	Loaded, Unloaded int
	// Recommended and Withdrawn count the events published; Open is the number of open
	// recommendations after the cycle.
	Recommended, Withdrawn, Open int
	// Events are the events published, in sequence order. The slice is reused by the next cycle
	// (copy it to keep it); the events themselves are never modified.
	Events []*Event
}

// Evaluate runs one cycle as of now: it asks the policy about every LOADED pair and every
// UNLOADED pair with history, opens the recommendations it newly makes, withdraws the open ones it
// no longer makes, and withdraws those whose pair is no longer in the state they were made for
// (an Unload whose model is no longer LOADED; a Load whose model is no longer UNLOADED, usually
// because it got loaded). Recommendations published by [Engine.Recommend] are withdrawn by a cycle
// only for that last reason. The events go to the sink and are returned. A steady cycle (nothing
// changes) allocates nothing.
func (e *Engine) Evaluate(now time.Time) Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cycle++
	e.loaded = e.tracker.AppendLoaded(e.loaded[:0], now)
	e.unloaded = e.unloaded[:0]
	if !e.noLoads || e.openLoad > 0 { // a policy that never loads is not asked about UNLOADED pairs
		e.unloaded = e.tracker.AppendUnloaded(e.unloaded, now)
	}
	clear(e.events)
	e.events = e.events[:0]
	res := Result{Loaded: len(e.loaded), Unloaded: len(e.unloaded)}
	kept := 0 // open recommendations this cycle still makes
	p := &e.pair
	for i := range e.loaded {
		lm := &e.loaded[i]
		*p = Pair{
			Model: lm.Model, Gateway: lm.Gateway, ID: lm.ID, State: metrics.StateLoaded,
			GPUUUID: lm.GPUUUID, Runtime: lm.Runtime, MemoryBytes: lm.MemoryBytes,
			IdleSeconds: lm.IdleSeconds, QPS: lm.QPS, InFlight: lm.InFlight,
			LastRequest: lm.LastRequest, Now: now,
		}
		e.decide(Unload, p, &res, &kept)
	}
	for i := range e.unloaded {
		um := &e.unloaded[i]
		*p = Pair{
			Model: um.Model, Gateway: um.Gateway, ID: um.ID, State: metrics.StateUnloaded,
			GPUUUID: um.GPUUUID, Runtime: um.Runtime, MemoryBytes: um.MemoryBytes,
			IdleSeconds: um.IdleSeconds, QPS: um.QPS, LastRequest: um.LastRequest, Now: now,
		}
		e.decide(Load, p, &res, &kept)
	}
	*p = Pair{}
	if len(e.open) > kept+res.Recommended { // some open ones' pairs are no longer in their state
		var gone []Key
		for key, o := range e.open {
			if o.cycle != e.cycle {
				gone = append(gone, key)
			}
		}
		// In a stable order, so that a stream reads the same whatever the map's order.
		slices.SortFunc(gone, func(a, b Key) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), strings.Compare(a.Gateway, b.Gateway), strings.Compare(a.Model, b.Model))
		})
		for _, key := range gone {
			if key.Kind == Unload {
				e.withdraw(key, now, CauseModelUnloaded, goneReason(key, "LOADED"))
			} else {
				e.withdraw(key, now, CauseModelLoaded, goneReason(key, "UNLOADED"))
			}
			res.Withdrawn++
		}
	}
	res.Open = len(e.open)
	e.publish()
	res.Events = e.events
	return res
}

func goneReason(key Key, state string) string {
	return strconv.Quote(key.Model) + " is no longer " + state + " on gateway " + strconv.Quote(key.Gateway)
}

// decide asks the policy about one pair and opens, keeps or withdraws its recommendation of kind
// k. The caller holds e.mu.
func (e *Engine) decide(k Kind, p *Pair, res *Result, kept *int) {
	d := e.policy.Decide(p)
	key := Key{Kind: k, Gateway: p.Gateway, Model: p.Model}
	o := e.lookup(key, p.ID)
	switch {
	case o != nil && (d.Act || o.external):
		o.cycle = e.cycle
		*kept++
	case d.Act:
		o = &open{cycle: e.cycle}
		r := &o.rec
		r.Kind, r.Model, r.Gateway, r.GPUUUID, r.Runtime, r.MemoryBytes = k, p.Model, p.Gateway, p.GPUUUID, p.Runtime, p.MemoryBytes
		r.Rule, r.Reason, r.IdleSeconds, r.QPS = d.Rule, e.policy.Reason(p, d), p.IdleSeconds, p.QPS
		r.NextRequest, r.Confidence, r.Time = d.NextRequest, d.Confidence, p.Now
		o.ev.Rec, o.ev.Time = r, p.Now
		e.opened(key, o)
		e.index(k, p.ID, o)
		e.events = append(e.events, &o.ev)
		res.Recommended++
	case o != nil:
		cause := d.Cause
		if cause == CauseUnspecified {
			cause = CauseTrafficResumed
			if k == Load && !p.LastRequest.After(o.rec.Time) {
				cause = CausePolicyChanged
			}
		}
		e.withdraw(key, p.Now, cause, e.policy.Reason(p, d))
		res.Withdrawn++
	}
}

// kindIndex is k's index in byID.
func kindIndex(k Kind) int {
	if k == Load {
		return 1
	}
	return 0
}

// lookup returns the open recommendation of key (nil: none), whose pair the tracker numbers id
// (0: none): through byID when it holds key's, else from open, and then caches it under id. The
// caller holds e.mu.
func (e *Engine) lookup(key Key, id metrics.PairID) *open {
	if len(e.open) == 0 {
		return nil
	}
	if ids := e.byID[kindIndex(key.Kind)]; id != 0 && int(id) < len(ids) {
		if o := ids[id]; o != nil && o.rec.Model == key.Model && o.rec.Gateway == key.Gateway {
			return o
		}
	}
	o := e.open[key]
	if o != nil {
		e.index(key.Kind, id, o)
	}
	return o
}

// index caches o under the pair number id in byID (growing it to twice its length or to id,
// whichever is more), and no longer under the number it had. The caller holds e.mu.
func (e *Engine) index(k Kind, id metrics.PairID, o *open) {
	if id == 0 || o.id == id {
		return
	}
	ids := &e.byID[kindIndex(k)]
	e.unindex(k, o)
	if int(id) >= len(*ids) {
		*ids = append(*ids, make([]*open, max(len(*ids), int(id)+1-len(*ids)))...)
	}
	(*ids)[id] = o
	o.id = id
}

// unindex drops o from byID. The caller holds e.mu.
func (e *Engine) unindex(k Kind, o *open) {
	if ids := e.byID[kindIndex(k)]; o.id != 0 && int(o.id) < len(ids) && ids[o.id] == o {
		ids[o.id] = nil
	}
	o.id = 0
}

// opened adds an open recommendation. The caller holds e.mu.
func (e *Engine) opened(key Key, o *open) {
	e.open[key] = o
	if key.Kind == Load {
		e.openLoad++
	}
}

// withdraw closes the open recommendation of key and queues its withdrawal. The caller holds e.mu.
func (e *Engine) withdraw(key Key, now time.Time, cause Cause, reason string) {
	o := e.open[key]
	delete(e.open, key)
	e.unindex(key.Kind, o)
	if key.Kind == Load {
		e.openLoad--
	}
	e.events = append(e.events, &Event{Time: now, Rec: &o.rec, Withdrawn: true, Cause: cause, Reason: reason})
}

// publish numbers the queued events, hands them to the sink and counts them. The caller holds e.mu.
func (e *Engine) publish() {
	if len(e.events) == 0 {
		return
	}
	for _, ev := range e.events {
		e.seq++
		ev.Seq = e.seq
		if ev.Withdrawn {
			e.recorder.Recommendation(metrics.Withdrawn)
		} else {
			e.recorder.Recommendation(metrics.Recommended)
		}
	}
	if e.sink != nil {
		e.sink.Publish(e.events)
	}
}

// Recommend publishes a recommendation made outside the evaluation cycle (for example an eviction
// that makes room for another model), in the engine's sequence space. rec.Kind, Model, Gateway and
// Rule are required; a zero rec.Time is now. An open recommendation of the same key is withdrawn
// first (CausePolicyChanged), in the same publication. Until [Engine.Withdraw] closes it, a cycle
// keeps it open whatever the policy says, and withdraws it only when its pair is no longer in the
// state it was made for. It returns the events published (valid until the next call).
func (e *Engine) Recommend(rec Recommendation, now time.Time) ([]*Event, error) {
	if rec.Kind != Unload && rec.Kind != Load {
		return nil, fmt.Errorf("recommend: kind %d is neither Unload nor Load", rec.Kind)
	}
	if rec.Model == "" || rec.Gateway == "" || rec.Rule == "" {
		return nil, fmt.Errorf("recommend: a recommendation needs a model, a gateway and a rule (got %q, %q, %q)", rec.Model, rec.Gateway, rec.Rule)
	}
	if rec.Time.IsZero() {
		rec.Time = now
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.events)
	e.events = e.events[:0]
	key := rec.Key()
	if _, ok := e.open[key]; ok {
		e.withdraw(key, now, CausePolicyChanged, "replaced by a newer recommendation of rule "+strconv.Quote(rec.Rule))
	}
	o := &open{rec: rec, external: true}
	o.ev.Rec, o.ev.Time = &o.rec, now
	e.opened(key, o)
	e.events = append(e.events, &o.ev)
	e.publish()
	return e.events, nil
}

// Withdraw withdraws the open recommendation of key (made by a cycle or by Recommend), with a
// cause and a one-sentence reason. It returns the event published, or nil when nothing was open.
func (e *Engine) Withdraw(key Key, cause Cause, reason string, now time.Time) *Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.open[key]; !ok {
		return nil
	}
	clear(e.events)
	e.events = e.events[:0]
	e.withdraw(key, now, cause, reason)
	e.publish()
	return e.events[0]
}

// Open returns the open recommendations, sorted by key.
func (e *Engine) Open() []Recommendation {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Recommendation, 0, len(e.open))
	for _, o := range e.open {
		out = append(out, o.rec)
	}
	slices.SortFunc(out, func(a, b Recommendation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), strings.Compare(a.Gateway, b.Gateway), strings.Compare(a.Model, b.Model))
	})
	return out
}

// Sequence is the last published sequence (0: none yet).
func (e *Engine) Sequence() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seq
}
