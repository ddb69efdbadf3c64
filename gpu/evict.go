package gpu

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultEvictionHorizon is the time scale of an eviction's cost: a victim expected back within
// it is likely to cost a cold start. It matches the unload policy's default idle time (5 min).
const DefaultEvictionHorizon = 5 * time.Minute

// ResidentState is a resident model's lifecycle state, as far as eviction cares.
type ResidentState int

const (
	// ResidentLoaded is a loaded model, the only kind that may be a victim.
	ResidentLoaded ResidentState = iota
	// ResidentLoading is a model being loaded: its memory is not yet its own to give back.
	ResidentLoading
	// ResidentOther is any other state (unloading, failed): not a victim.
	ResidentOther
)

// Resident is a model on a GPU as its gateway reported it.
//
// The fields the planner reads for every resident come first, together (64 bytes); the names last.
type Resident struct {
	State ResidentState
	// Pinned models (always_loaded, keep-alive forever) are never victims.
	Pinned bool
	// InFlight requests make it busy: never a victim.
	InFlight int64
	// ReservedBytes is memory a reservation holds for it (a load in progress): never a victim.
	ReservedBytes int64
	// MemoryBytes is the memory_bytes its gateway reported: what unloading it is counted to free.
	MemoryBytes int64
	// LastRequest is its latest request on this gateway (zero: never), for recency.
	LastRequest    time.Time
	Model, Gateway string
}

// evictable reports whether the resident's own state lets it be a victim: LOADED, not pinned,
// without requests in flight or a reservation, with reported bytes to free. Whether a live
// reservation already counts on it is the allocator's to say (claimedLocked).
func (r *Resident) evictable() bool {
	return r.State == ResidentLoaded && !r.Pinned && r.InFlight <= 0 && r.ReservedBytes <= 0 && r.MemoryBytes > 0
}

// NextUseEstimator estimates when a model is next requested on a gateway, and how sure it is
// (confidence in [0, 1]). The predictive keep-alive policy implements it; LastRequestEstimator is
// the recency default.
type NextUseEstimator interface {
	NextUse(model, gateway string) (next time.Time, confidence float64)
}

// LastRequestEstimator is the LRU estimate: a model idle for d is expected back in d (the longer
// unused, the later wanted), with confidence RecencyConfidence. LastRequest looks up a model's
// latest request on a gateway (zero: never, which counts as an hour idle).
type LastRequestEstimator struct {
	Now         time.Time
	LastRequest func(model, gateway string) time.Time
}

// RecencyConfidence is the confidence of a recency estimate: a guess, weaker than a prediction.
const RecencyConfidence = 0.5

// NextUse implements NextUseEstimator.
func (e LastRequestEstimator) NextUse(model, gateway string) (time.Time, float64) {
	return recencyNextUse(e.Now, e.LastRequest(model, gateway)), RecencyConfidence
}

// recencyNextUse is now + the time since last (neverRequestedWait when there was no request).
func recencyNextUse(now, last time.Time) time.Time {
	if last.IsZero() {
		return now.Add(neverRequestedWait)
	}
	return now.Add(max(now.Sub(last), 0))
}

// neverRequestedWait is the recency estimate's wait for a model never requested: an hour.
const neverRequestedWait = 12 * DefaultEvictionHorizon

var _ NextUseEstimator = LastRequestEstimator{}

// ColdStartCost is the expected cold starts of unloading a model expected back in wait with
// confidence c: c × H/(H + wait) + (1 − c) × ½, where H is DefaultEvictionHorizon. A model wanted
// now costs about one; one wanted in H costs half; a far one costs little, unless the estimate is
// unsure, when the cost leans to an even chance.
func ColdStartCost(wait time.Duration, confidence float64) float64 {
	c := min(max(confidence, 0), 1)
	h := float64(DefaultEvictionHorizon)
	return c*h/(h+float64(max(wait, 0))) + (1-c)*0.5
}

// Eviction is a loaded model to unload before a placement.
type Eviction struct {
	Model, Gateway string
	UUID           string
	Index          int
	// MemoryBytes is the victim's reported memory_bytes: what its unload is counted to free.
	MemoryBytes int64
	// NextUse and Confidence are the estimate the choice used; ColdStartCost its cost.
	NextUse       time.Time
	Confidence    float64
	ColdStartCost float64
	LastRequest   time.Time
	// Reason says in one sentence why this model, for which model, and what the bytes count.
	Reason string
}

// victimKey names a victim across reservations.
type victimKey struct{ model, gateway, uuid string }

// evictCand is one eligible resident of a GPU, in the planner's scratch.
type evictCand struct {
	// cost is ColdStartCost, or with the recency default the negated idle time (a rank).
	cost float64
	// last is the resident's LastRequest in Unix nanoseconds (math.MinInt64: never), the first
	// tie-break, held here so that ranking does not go back to the resident.
	last   int64
	bytes  int64
	res    int32 // index in the GPU's residents
	chosen bool
}

// zeroTimeNanos is the zero time's UnixNano (out of range: a wrapped value), which every
// LastRequest never requested has; a time that has other nanoseconds is not the zero time.
var zeroTimeNanos = time.Time{}.UnixNano()

// lastNanos is a LastRequest as evictCand.last orders it: never requested is the oldest.
func lastNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// gpuPlan is the cheapest eviction plan found on one GPU.
type gpuPlan struct {
	dev       int // index in the snapshot
	available int64
	cost      float64
	newest    int64 // the latest LastRequest among its victims
	excess    int64 // bytes freed beyond the need
	victims   []evictCand
}

// evictScratch is reused across plans (under the allocator's lock) so that a plan allocates
// little beyond its answer.
type evictScratch struct {
	top   topCands
	cands []evictCand
	plans []gpuPlan
	pool  []evictCand
	// whyNot[i] says why device i has no plan (set only for those).
	whyNot []string
	// claimed[k] says whether a live reservation counts on resident k of the GPU being scanned.
	claimed []bool
	// reasons is the buffer the victims' reasons are built in, before their one string.
	reasons []byte
}

// blocked counts why residents of a GPU could not be victims.
type blocked struct{ pinned, busy, loading, reserved, claimed int }

func (b blocked) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+what)
		}
	}
	add(b.pinned, "pinned")
	add(b.busy, "with requests in flight")
	add(b.loading, "not LOADED")
	add(b.reserved, "holding a reservation")
	add(b.claimed, "already promised to another placement")
	if len(parts) == 0 {
		return "none blocked"
	}
	return strings.Join(parts, ", ")
}

// evictLocked plans evictions for req (nothing fitted as things stand): on each GPU, the
// eligible residents are taken cheapest first (ColdStartCost of their next use, then the oldest
// last request, then the larger) until the bytes they free, with what is available, cover the
// model's share plus headroom; victims that turn out unneeded are then dropped, the dearest
// first, which also trims the bytes freed beyond the need. The GPUCount cheapest GPUs win (ties:
// older newest victim, fewer excess bytes, lower index); a GPU that fits already costs 0. With
// Reserve, the bytes are reserved and the victims claimed in the same step.
func (a *Allocator) evictLocked(snap Snapshot, req *Request, now time.Time) (Placement, error) {
	count := max(req.GPUCount, 1)
	per := PerGPUBytes(req.RequiredBytes, count)
	sc := &a.scratch
	sc.plans = sc.plans[:0]
	sc.pool = sc.pool[:0]
	whyNot := sc.whyNot[:0]
	for range snap.Devices {
		whyNot = append(whyNot, "")
	}
	sc.whyNot = whyNot
	for i := range snap.Devices {
		if p, ok := a.planGPULocked(snap, i, req, per, now, &whyNot[i]); ok {
			sc.plans = append(sc.plans, p)
		}
	}
	if len(sc.plans) < count {
		return Placement{}, a.noEvictionLocked(snap, req, whyNot, len(sc.plans))
	}
	var chosen []gpuPlan
	if count == 1 {
		best := 0
		for k := 1; k < len(sc.plans); k++ {
			if comparePlans(&sc.plans[k], &sc.plans[best]) < 0 {
				best = k
			}
		}
		chosen = sc.plans[best : best+1]
	} else {
		slices.SortStableFunc(sc.plans, func(x, y gpuPlan) int { return comparePlans(&x, &y) })
		chosen = sc.plans[:count]
		slices.SortFunc(chosen, func(x, y gpuPlan) int { return cmp.Compare(x.dev, y.dev) })
	}
	p := a.evictionPlacement(snap, req, chosen, per, len(sc.plans), now)
	if req.Reserve {
		placed := p.All()
		r := a.reserveManyLocked(placed, per, req, now, p.Evictions)
		p.ReservationID, p.ExpiresAt = r.ID, r.ExpiresAt
	}
	return p, nil
}

// planGPULocked makes the cheapest plan on snapshot device i for per bytes (a GPU that fits as is
// has a plan of no victims), or says in *whyNot why there is none.
func (a *Allocator) planGPULocked(snap Snapshot, i int, req *Request, per int64, now time.Time, whyNot *string) (gpuPlan, bool) {
	d := &snap.Devices[i]
	one := Request{RequiredBytes: per, Exclude: req.Exclude}
	v, available := a.assessLocked(d, &one)
	switch v {
	case fits:
		return gpuPlan{dev: i, available: available}, true
	case excluded:
		*whyNot = "is excluded by the request"
		return gpuPlan{}, false
	case migEnabled:
		*whyNot = "has MIG enabled; placement on MIG instances is not supported"
		return gpuPlan{}, false
	}
	sc := &a.scratch
	need := per + a.headroom - available
	residents := req.Residents[d.UUID]
	// Most plans take a few victims: the cheapest topN, found in one pass, then hold the greedy
	// choice exactly, and only a plan that needs more gathers every candidate.
	top := &sc.top
	eligible := a.topLocked(top, residents, d.UUID, now, req.NextUse, need)
	cands := top.c[:top.n]
	if eligible < need {
		*whyNot = fmt.Sprintf("has %s available, needs %s + %s headroom; unloading every model that may go frees %s of the %s missing (%d loaded here; %s)",
			FormatBytes(available), FormatBytes(per), FormatBytes(a.headroom), FormatBytes(eligible), FormatBytes(need), len(residents), a.blockedLocked(residents, d.UUID))
		return gpuPlan{}, false
	}
	gathered := top.bytes() < need
	if gathered {
		cands, _ = a.gatherLocked(residents, d.UUID, now, req.NextUse, sc.cands[:0])
		sc.cands = cands
	}
	p := pickVictims(cands, need, now, req.NextUse == nil)
	p.dev, p.available = i, available
	start := len(sc.pool)
	for _, c := range cands {
		if c.chosen {
			sc.pool = append(sc.pool, c)
		}
	}
	p.victims = sc.pool[start:len(sc.pool):len(sc.pool)]
	if gathered {
		// Gathered candidates are in residents' order, the short list's cheapest first; Evictions
		// promise cheapest first. An insertion sort: a plan has few victims, and it allocates nothing.
		vs := p.victims
		for k := 1; k < len(vs); k++ {
			for j := k; j > 0 && cheaper(&vs[j], &vs[j-1]); j-- {
				vs[j], vs[j-1] = vs[j-1], vs[j]
			}
		}
	}
	return p, true
}

// evictionPlacement is the Placement of the chosen GPU plans, with an Eviction per victim.
func (a *Allocator) evictionPlacement(snap Snapshot, req *Request, chosen []gpuPlan, per int64, plans int, now time.Time) Placement {
	p := Placement{
		RequiredBytes: req.RequiredBytes,
		HeadroomBytes: a.headroom,
		Fitting:       plans,
		Strategy:      "eviction",
		PerGPUBytes:   per,
	}
	// The placed GPUs are listed only when there are several; one is the answer's own fields.
	var placed []PlacedGPU
	if len(chosen) > 1 {
		placed = make([]PlacedGPU, len(chosen))
	}
	victims := 0
	for _, c := range chosen {
		victims += len(c.victims)
	}
	// One allocation for the evictions and one for all their reasons (built into the scratch
	// buffer, each Reason a slice of the one string): a plan is answered with every reason.
	p.Evictions = make([]Eviction, 0, victims)
	buf := slices.Grow(a.scratch.reasons[:0], victims*reasonLen)
	var endsArr [16]int
	ends := endsArr[:0] // each reason's end in buf
	for k, c := range chosen {
		d := &snap.Devices[c.dev]
		freed := int64(0)
		for _, v := range c.victims {
			freed += v.bytes
		}
		at := PlacedGPU{Device: *d, AvailableBytes: c.available, FreeAfterBytes: c.available + freed - per}
		if k == 0 {
			p.Device, p.AvailableBytes, p.FreeAfterBytes = at.Device, at.AvailableBytes, at.FreeAfterBytes
		}
		if placed != nil {
			placed[k] = at
		}
		residents := req.Residents[d.UUID]
		for _, v := range c.victims {
			r := &residents[v.res]
			next, conf := recencyNextUse(now, r.LastRequest), RecencyConfidence
			if req.NextUse != nil {
				next, conf = req.NextUse.NextUse(r.Model, r.Gateway)
			}
			p.EvictionCost += v.cost
			buf = appendVictimReason(buf, r, req.Model, d, now, next, conf, v.cost)
			ends = append(ends, len(buf))
			p.Evictions = append(p.Evictions, Eviction{
				Model: r.Model, Gateway: r.Gateway, UUID: d.UUID, Index: d.Index, MemoryBytes: r.MemoryBytes,
				NextUse: next, Confidence: conf, ColdStartCost: v.cost, LastRequest: r.LastRequest,
			})
		}
	}
	a.scratch.reasons = buf
	reasons, start := string(buf), 0
	for k, end := range ends {
		p.Evictions[k].Reason, start = reasons[start:end], end
	}
	p.GPUs = placed
	return p
}

// gatherLocked appends the residents that may be victims to cands, each with its rank, and
// returns them with the bytes they hold. It is the planner's inner loop (every resident of every
// GPU that does not fit), so it works in Unix nanoseconds: with the recency default (est nil) a
// candidate's cost is its negated idle time, a rank; pickVictims computes the real cost of the
// few it picks.
func (a *Allocator) gatherLocked(residents []Resident, uuid string, now time.Time, est NextUseEstimator, cands []evictCand) ([]evictCand, int64) {
	nowNs := now.UnixNano()
	checkClaims := len(a.claimed) > 0
	var eligible int64
	for k := range residents {
		r := &residents[k]
		if !r.evictable() || checkClaims && a.claimedLocked(r, uuid) {
			continue
		}
		cands = append(cands, newCand(r, int32(k), nowNs, est))
		eligible += r.MemoryBytes
	}
	return cands, eligible
}

// newCand is resident r (index k) as a candidate: with an estimator its cost is ColdStartCost of
// its next use; with the recency default (est nil) its negated idle time, a rank (pickVictims
// computes the real cost of the few it picks).
func newCand(r *Resident, k int32, nowNs int64, est NextUseEstimator) evictCand {
	c := evictCand{res: k, bytes: r.MemoryBytes, last: lastNanos(r.LastRequest)}
	if est != nil {
		c.cost = estimatedCost(r, nowNs, est)
	} else {
		c.cost = -float64(idleNanos(nowNs, c.last))
	}
	return c
}

// estimatedCost is ColdStartCost of r's next use as est estimates it.
func estimatedCost(r *Resident, nowNs int64, est NextUseEstimator) float64 {
	next, conf := est.NextUse(r.Model, r.Gateway)
	return ColdStartCost(time.Duration(next.UnixNano()-nowNs), conf)
}

// topN is how many of a GPU's cheapest candidates the one-pass plan keeps.
const topN = 8

// topCands holds the cheapest candidates of a GPU, in order.
type topCands struct {
	n int
	c [topN]evictCand
}

func (t *topCands) bytes() int64 {
	var sum int64
	for k := range t.n {
		sum += t.c[k].bytes
	}
	return sum
}

// topLocked finds the topN cheapest candidates of a GPU (as gatherLocked ranks them, ties in
// residents' order) and the bytes all candidates hold, in one pass without allocating. With the
// recency default it keeps fewer when fewer cover need (see topRecencyLocked).
func (a *Allocator) topLocked(t *topCands, residents []Resident, uuid string, now time.Time, est NextUseEstimator, need int64) int64 {
	t.n = 0
	if est == nil {
		return a.topRecencyLocked(t, residents, uuid, now.UnixNano(), need)
	}
	nowNs := now.UnixNano()
	checkClaims := len(a.claimed) > 0
	var eligible int64
	for k := range residents {
		r := &residents[k]
		if !r.evictable() || checkClaims && a.claimedLocked(r, uuid) {
			continue
		}
		eligible += r.MemoryBytes
		c := newCand(r, int32(k), nowNs, est)
		t.offer(&c)
	}
	return eligible
}

// topRecencyLocked is topLocked with the recency default, its hot case: a candidate's cost is its
// effective last request (the last request, no later than now; an hour ago for one never
// requested) less now, and most residents are newer than the last one kept, so they are turned
// away on that integer before a candidate is built.
//
// It keeps only the cheapest candidates whose bytes first cover need (at most topN): the greedy
// choice (pickVictims) takes candidates cheapest first until they cover the need, so it never
// reaches one behind them. Keeping two or three instead of topN turns away far more residents on
// the integer (residents that come in runs of ever older last requests would otherwise each enter
// the list at its front).
func (a *Allocator) topRecencyLocked(t *topCands, residents []Resident, uuid string, nowNs, need int64) int64 {
	// The claims are looked up before the scan, only while there are any: a call in the scan
	// (the map lookup) made every resident dearer, claims or not.
	var claimed []bool
	if len(a.claimed) > 0 {
		claimed = a.claimedResidentsLocked(residents, uuid)
	}
	worstEff := int64(math.MaxInt64)
	neverEff := nowNs - int64(neverRequestedWait)
	var eligible int64
	closed := false
	for k := range residents {
		r := &residents[k]
		if !r.evictable() || claimed != nil && claimed[k] {
			continue
		}
		eligible += r.MemoryBytes
		last := r.LastRequest.UnixNano()
		eff := min(last, nowNs)
		if last == zeroTimeNanos && r.LastRequest.IsZero() { // the zero time has these nanoseconds
			last, eff = math.MinInt64, neverEff
		}
		if eff > worstEff {
			continue // newer than the last one kept, so dearer: its cost is no lower, its last later
		}
		c := evictCand{res: int32(k), bytes: r.MemoryBytes, last: last, cost: float64(eff - nowNs)}
		if closed = t.offerCovering(&c, need, closed); closed {
			worstEff = neverEff
			if w := t.c[t.n-1].last; w != math.MinInt64 {
				worstEff = min(w, nowNs)
			}
		}
	}
	return eligible
}

// offerCovering is offer for a list that keeps only the cheapest candidates whose bytes first
// cover need (at most topN; every candidate has bytes). It says whether the list is now closed
// (full, or covering need), when only a candidate cheaper than its last can enter; closed is what
// the previous offer said (false for the first).
func (t *topCands) offerCovering(c *evictCand, need int64, closed bool) bool {
	if closed && !cheaper(c, &t.c[t.n-1]) {
		return true
	}
	t.insert(c)
	var sum int64
	for k := range t.n {
		if sum += t.c[k].bytes; sum >= need {
			t.n = k + 1
			return true
		}
	}
	return t.n == topN
}

// offer puts c among the topN cheapest if it is one of them.
func (t *topCands) offer(c *evictCand) {
	if t.n == topN {
		// Most candidates lose to the current last on cost alone.
		if last := &t.c[topN-1]; c.cost > last.cost || !cheaper(c, last) {
			return
		}
	}
	t.insert(c)
}

// insert puts c in its place among the kept candidates, cheapest first, after those that tie
// with it; a full list drops its last.
func (t *topCands) insert(c *evictCand) {
	j := min(t.n, topN-1)
	for j > 0 && cheaper(c, &t.c[j-1]) {
		t.c[j] = t.c[j-1]
		j--
	}
	t.c[j] = *c
	t.n = min(t.n+1, topN)
}

// claimedResidentsLocked says for each of the residents of GPU uuid whether a live reservation
// counts on its bytes (claimedLocked), in the allocator's scratch.
func (a *Allocator) claimedResidentsLocked(residents []Resident, uuid string) []bool {
	claimed := slices.Grow(a.scratch.claimed[:0], len(residents))[:len(residents)]
	for k := range residents {
		claimed[k] = a.claimedLocked(&residents[k], uuid)
	}
	a.scratch.claimed = claimed
	return claimed
}

// claimedLocked reports whether a live reservation counts on r's bytes on GPU uuid.
func (a *Allocator) claimedLocked(r *Resident, uuid string) bool {
	_, ok := a.claimed[victimKey{r.Model, r.Gateway, uuid}]
	return ok
}

// blockedLocked counts why the residents of GPU uuid may not be victims, for a refusal.
func (a *Allocator) blockedLocked(residents []Resident, uuid string) blocked {
	var why blocked
	for k := range residents {
		r := &residents[k]
		switch {
		case r.State != ResidentLoaded:
			why.loading++
		case r.Pinned:
			why.pinned++
		case r.InFlight > 0:
			why.busy++
		case r.ReservedBytes > 0:
			why.reserved++
		default:
			if a.claimedLocked(r, uuid) {
				why.claimed++
			}
		}
	}
	return why
}

// comparePlans orders GPU plans: fewer expected cold starts, then an older newest victim, then
// fewer bytes beyond the need; equal plans keep their (index) order.
func comparePlans(x, y *gpuPlan) int {
	if c := cmp.Compare(x.cost, y.cost); c != 0 {
		return c
	}
	if c := cmp.Compare(x.newest, y.newest); c != 0 {
		return c
	}
	return cmp.Compare(x.excess, y.excess)
}

// pickVictims marks the victims of one GPU in cands (see evictLocked) and returns the plan's
// cost, newest victim and excess. The sum of cands' bytes covers need.
func pickVictims(cands []evictCand, need int64, now time.Time, byRecency bool) gpuPlan {
	var freed int64
	var order [16]int
	picked := order[:0]
	for freed < need {
		best := -1
		for k := range cands {
			c := &cands[k]
			if c.chosen {
				continue
			}
			if best < 0 || cheaper(c, &cands[best]) {
				best = k
			}
		}
		cands[best].chosen = true
		freed += cands[best].bytes
		picked = append(picked, best)
	}
	// Drop victims that are not needed after all, the dearest (last picked) first.
	for j := len(picked) - 1; j >= 0; j-- {
		c := &cands[picked[j]]
		if freed-c.bytes >= need {
			c.chosen = false
			freed -= c.bytes
		}
	}
	p := gpuPlan{excess: freed - need}
	for _, k := range picked {
		if c := &cands[k]; c.chosen {
			if byRecency {
				// Ranked by idle time alone; the cost of the few chosen is computed now.
				c.cost = ColdStartCost(time.Duration(idleNanos(now.UnixNano(), c.last)), RecencyConfidence)
			}
			p.cost += c.cost
			if c.last != math.MinInt64 {
				p.newest = max(p.newest, c.last)
			}
		}
	}
	return p
}

// cheaper orders eviction candidates: lower expected cold starts, then older last request, then
// more bytes (fewer victims).
func cheaper(x, y *evictCand) bool {
	if x.cost != y.cost {
		return x.cost < y.cost
	}
	if x.last != y.last {
		return x.last < y.last
	}
	return x.bytes > y.bytes
}

// idleNanos is the recency estimate's wait: the time since last, or neverRequestedWait.
// last is in Unix nanoseconds, math.MinInt64 for never (as evictCand.last).
func idleNanos(nowNs, last int64) int64 {
	if last == math.MinInt64 {
		return int64(neverRequestedWait)
	}
	return max(nowNs-last, 0)
}

// reasonLen is about the length of a victim's reason, to size the buffer they are built in.
const reasonLen = 320

// appendVictimReason appends an Eviction's sentence to b. It is built with strconv rather than
// fmt: a plan formats one for each victim, and fmt was a fifth of a plan's time.
func appendVictimReason(b []byte, r *Resident, forModel string, d *Device, now, next time.Time, conf, cost float64) []byte {
	b = append(b, "unload "...)
	b = append(b, r.Model...)
	b = append(b, " from gateway "...)
	b = append(b, r.Gateway...)
	b = append(b, " to make room for "...)
	b = append(b, forModel...)
	b = append(b, " on GPU "...)
	b = strconv.AppendInt(b, int64(d.Index), 10)
	b = append(b, " ("...)
	b = append(b, d.UUID...)
	b = append(b, "): expected back in "...)
	b = appendSeconds(b, max(next.Sub(now), 0).Round(time.Second))
	b = append(b, " (confidence "...)
	b = appendFixed(b, conf, 2)
	b = append(b, ", "...)
	if r.LastRequest.IsZero() {
		b = append(b, "never requested"...)
	} else {
		b = append(b, "last request "...)
		b = appendSeconds(b, now.Sub(r.LastRequest).Round(time.Second))
		b = append(b, " ago"...)
	}
	b = append(b, "), "...)
	b = appendFixed(b, cost, 2)
	b = append(b, " expected cold starts; the plan counts its reported memory_bytes ("...)
	b = appendBytes(b, r.MemoryBytes)
	b = append(b, ") as what the unload frees, since the GPU backend sees only device-wide free memory"...)
	return b
}

// appendSeconds appends d.String() for a d rounded to the second without the allocation String
// makes ("1h2m3s", "4m0s", "0s"); any other d (a Round that saturated) goes through String.
func appendSeconds(b []byte, d time.Duration) []byte {
	if d%time.Second != 0 {
		return append(b, d.String()...)
	}
	if d < 0 {
		b = append(b, '-')
		d = -d // not MinInt64: that is no whole number of seconds
	}
	s := int64(d / time.Second)
	if s >= 3600 {
		b = append(strconv.AppendInt(b, s/3600, 10), 'h')
		s %= 3600
		b = append(strconv.AppendInt(b, s/60, 10), 'm')
	} else if s >= 60 {
		b = append(strconv.AppendInt(b, s/60, 10), 'm')
	}
	return append(strconv.AppendInt(b, s%60, 10), 's')
}

// appendFixed appends strconv.AppendFloat(b, x, 'f', prec, 64) for prec 1 or 2. For x finite,
// not negative and below 2^20 (a cost, a confidence, a size in its unit) it does without
// strconv's general path, which took about a twentieth of a plan's time for its few numbers
// (three a victim): the digits are x's exact binary value times 10^prec (53 + 7 bits: exact in a
// uint64), rounded half to even as strconv rounds. Anything else goes through strconv.
func appendFixed(b []byte, x float64, prec int) []byte {
	bits := math.Float64bits(x)
	if bits>>63 != 0 || !(x < 1<<20) || prec < 1 || prec > 2 {
		return strconv.AppendFloat(b, x, 'f', prec, 64)
	}
	scale := uint64(10)
	if prec == 2 {
		scale = 100
	}
	// x = mant / 2^shift, and x < 2^20 makes shift at least 33. (A subnormal x has no implicit
	// bit, and its shift of 1074 or more rounds it to 0 all the same.)
	mant, shift := bits&(1<<52-1)|1<<52, uint(1075-int(bits>>52))
	var q uint64
	if shift < 64 {
		p := mant * scale
		q = p >> shift
		rem, half := p&(1<<shift-1), uint64(1)<<(shift-1)
		if rem > half || rem == half && q&1 == 1 {
			q++
		}
	} // else x × scale < 2^60 / 2^64: rounds to 0
	b = append(strconv.AppendUint(b, q/scale, 10), '.')
	frac := q % scale
	if prec == 2 {
		return append(b, byte('0'+frac/10), byte('0'+frac%10))
	}
	return append(b, byte('0'+frac))
}

// noEvictionLocked is the NoFitError of an eviction plan that could not be made.
func (a *Allocator) noEvictionLocked(snap Snapshot, req *Request, whyNot []string, possible int) error {
	e := &NoFitError{RequiredBytes: req.RequiredBytes, HeadroomBytes: a.headroom, Backend: snap.Backend, GPUCount: req.GPUCount, Eviction: true}
	for i := range snap.Devices {
		d := &snap.Devices[i]
		available := d.FreeBytes - a.reserved[d.UUID] + a.credit[d.UUID]
		reason := whyNot[i]
		if reason == "" {
			reason = fmt.Sprintf("could take its share, but only %d of the %d GPUs needed could", possible, max(req.GPUCount, 1))
		}
		e.Refusals = append(e.Refusals, Refusal{Index: d.Index, UUID: d.UUID, Reason: reason, AvailableBytes: available})
	}
	return e
}

// claimLocked records that reservation id counts on victim v's bytes.
func (a *Allocator) claimLocked(v Eviction, id string) {
	a.claimed[victimKey{v.Model, v.Gateway, v.UUID}] = id
	a.credit[v.UUID] += v.MemoryBytes
}

// unclaimLocked forgets v's claim by reservation id, if it still holds.
func (a *Allocator) unclaimLocked(v Eviction, id string) {
	k := victimKey{v.Model, v.Gateway, v.UUID}
	if a.claimed[k] != id {
		return
	}
	delete(a.claimed, k)
	if left := a.credit[v.UUID] - v.MemoryBytes; left > 0 {
		a.credit[v.UUID] = left
	} else {
		delete(a.credit, v.UUID)
	}
}

// VictimGone says that a model a reservation counted on as a victim is no longer loaded on gateway
// (it reported UNLOADED or FAILED): the bytes it freed now show in the GPU's free memory, so the
// reservation stops counting them on top. An empty uuid (a report that names no GPU) matches the
// model's claims on every GPU. It returns whether the model was a claimed victim.
func (a *Allocator) VictimGone(model, gateway, uuid string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.claimed) == 0 {
		return false
	}
	found := false
	for k, id := range a.claimed {
		if k.model != model || k.gateway != gateway || (uuid != "" && k.uuid != uuid) {
			continue
		}
		for _, v := range a.reservations[id].Victims {
			if v.Model == model && v.Gateway == gateway && v.UUID == k.uuid {
				a.unclaimLocked(v, id)
				found = true
			}
		}
	}
	return found
}

// RuleMakeRoom is the rule of the unload recommendations that publish an eviction plan's victims.
const RuleMakeRoom = "make_room"

// EndedReservation is a reservation with victims that ended: released (its load was reported, or
// the gateway gave it up) or, when Lapsed, expired without a report.
type EndedReservation struct {
	Reservation
	Lapsed bool
}

// TakeEnded returns the reservations with victims that ended up to now (expiring those past
// their TTL first) and forgets them: the server withdraws the victims' make_room recommendations
// that no live reservation counts on any more.
func (a *Allocator) TakeEnded(now time.Time) []EndedReservation {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	out := a.ended
	a.ended = nil
	return out
}

// Claimed reports whether a live reservation counts on model's bytes on gateway's GPU uuid.
func (a *Allocator) Claimed(model, gateway, uuid string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.claimed[victimKey{model, gateway, uuid}]
	return ok
}
