package metrics

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for a zero Config.
const (
	DefaultMaxGateways = 1000
	DefaultMaxModels   = 200_000
	DefaultClockSkew   = 5 * time.Second
)

// inFlightTTL is how long a gateway's in-flight value counts without a newer sample: a gateway
// that stopped reporting (it died) must not keep a model busy forever. It equals the traffic window.
const inFlightTTL = window5m

// Config configures a Tracker. The zero value is usable.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxGateways caps the gateways the tracker knows (a gateway becomes known by a valid state or
	// traffic report or a sync, and is forgotten only by ForgetGateways); reports from more are
	// rejected. 0 means DefaultMaxGateways.
	MaxGateways int
	// MaxModels caps the models tracked; reports that would add more are rejected. 0 means
	// DefaultMaxModels.
	MaxModels int
	// ClockSkew is how far in the future a reported time may be (gateway clocks run ahead a
	// little); such times are treated as now. 0 means DefaultClockSkew.
	ClockSkew time.Duration
}

// StateReport is one gateway's report of a model's lifecycle state.
type StateReport struct {
	Gateway     string
	Model       string
	Runtime     string
	GPUUUID     string
	State       State
	MemoryBytes int64
	// Time is when the change happened on the gateway; zero means now.
	Time time.Time
}

// StateResult says what the tracker had before a state report.
type StateResult struct {
	// Previous is the state before the report; StateUnknown for the first report.
	Previous State
	// Unexpected is true when Previous -> State is not an expected transition; the report was
	// recorded anyway, and counted.
	Unexpected bool
}

// Sample is the traffic of one model over one interval, as one gateway saw it.
type Sample struct {
	Model      string
	Start, End time.Time
	// Requests arrived in [Start, End), Errors of them failed; InFlight were in flight at End.
	Requests, Errors, InFlight int64
}

// Placement is a model's state on one gateway. A gateway that reported traffic for the model but
// never its state has State StateUnknown.
type Placement struct {
	Gateway     string
	State       State
	Runtime     string
	GPUUUID     string
	MemoryBytes int64
	// StateTime is when the state last changed; LoadedTime when the model last became LOADED
	// (zero if it never did).
	StateTime, LoadedTime time.Time
	// LastRequest is the end of the latest sample with requests from this gateway (zero if none).
	LastRequest time.Time
	// InFlight is this gateway's last reported value (0 once older than 5 minutes, or after an
	// UNLOADED or FAILED report).
	InFlight int64
	// IdleSeconds counts from the later of LastRequest, LoadedTime and the brain's start.
	IdleSeconds float64
}

// ModelView is what the tracker knows of one model, over all gateways.
type ModelView struct {
	Name string
	// Placements are sorted by gateway.
	Placements   []Placement
	QPS1m, QPS5m float64
	// IdleSeconds counts from the later of the last request on any gateway, the latest time the
	// model became LOADED on any gateway, and the brain's start.
	IdleSeconds float64
	// InFlight is summed over gateways, saturating at math.MaxInt64.
	InFlight    int64
	LastRequest time.Time
	// RequestsTotal and ErrorsTotal count every request reported; they saturate at
	// math.MaxInt64 rather than wrap (a sample may carry any count up to MaxInt64).
	RequestsTotal, ErrorsTotal int64
}

// LoadedModel is one LOADED (model, gateway) pair, as the unload evaluator needs it.
type LoadedModel struct {
	Model, Gateway, GPUUUID, Runtime string
	// ID names the pair while the tracker holds it (see [PairID]).
	ID          PairID
	MemoryBytes int64
	// IdleSeconds and InFlight are this gateway's (see Placement); QPS is the model's requests per
	// second over the last minute on all gateways.
	IdleSeconds float64
	QPS         float64
	InFlight    int64
	// LastRequest is the end of this gateway's latest sample with requests (zero if none).
	LastRequest time.Time
}

// UnloadedModel is one UNLOADED (model, gateway) pair with history (it was LOADED there once, or
// got requests there), as a policy that pre-loads needs it. GPUUUID, Runtime and MemoryBytes are
// those of the pair's last LOADED report: where it would be loaded again.
type UnloadedModel struct {
	Model, Gateway, GPUUUID, Runtime string
	// ID names the pair while the tracker holds it (see [PairID]).
	ID          PairID
	MemoryBytes int64
	// IdleSeconds counts as for a LOADED pair (from the later of the last request, the last load
	// and the brain's start); QPS is the model's over the last minute on all gateways.
	IdleSeconds float64
	QPS         float64
	// LastRequest is the end of this gateway's latest sample with requests (zero if none);
	// UnloadedTime is when the pair became UNLOADED.
	LastRequest, UnloadedTime time.Time
}

// Tracker holds per-model lifecycle and traffic observations. It is safe for concurrent use.
//
// One RWMutex guards everything: a traffic batch is validated against the caps and applied under
// one write lock (all or nothing), and reads copy what they need under the read lock.
type Tracker struct {
	now        func() time.Time
	start      int64
	cfg        Config
	samples    atomic.Int64
	unexpected atomic.Int64
	forgotten  atomic.Int64

	mu       sync.RWMutex
	models   map[string]*model
	order    []*model                  // every model, in order of first report: cheaper to scan than the map
	gateways map[string]*gatewayRecord // known gateways
	interned map[string]string         // runtime and GPU names, shared by all models
	ids      pairIDs
}

// PairID is a small number that names a (model, gateway) pair while the tracker holds it, so that
// a policy can keep its own per-pair state in a slice indexed by it instead of looking the pair up
// by its names at every cycle. IDs are dense, from 1 (0 names no pair), and an ID is given to
// another pair once its pair is forgotten (its gateway dropped or synced without it): a holder
// checks the names before it trusts what it keeps under an ID.
type PairID uint32

// pairIDs hands out PairIDs: the freed ones first, so that they stay dense.
type pairIDs struct {
	next PairID // the last ID handed out for the first time
	free []PairID
}

func (ids *pairIDs) take() PairID {
	if n := len(ids.free); n > 0 {
		id := ids.free[n-1]
		ids.free = ids.free[:n-1]
		return id
	}
	ids.next++
	return ids.next
}

func (ids *pairIDs) release(id PairID) { ids.free = append(ids.free, id) }

// gatewayRecord is what the tracker knows of a gateway itself.
type gatewayRecord struct {
	name     string // the stored copy of the id, shared by all placements
	lastSeen int64  // Unix nanoseconds of the last report or sync (or KeepAlive)
	synced   bool   // a SyncGateway was applied since the gateway became known
}

// maxInterned bounds the interned runtime and GPU names; beyond it names are stored per model.
const maxInterned = 4096

type model struct {
	name          string
	traffic       ring
	firstSeen     int64
	requestsTotal int64
	errorsTotal   int64
	gateways      []placement // sorted by gateway
}

// placement is a model on one gateway; times are Unix nanoseconds, 0 for never.
type placement struct {
	gateway     string
	id          PairID
	runtime     string
	gpuUUID     string
	memoryBytes int64
	stateTime   int64
	loadedTime  int64
	lastRequest int64
	inFlight    int64
	inFlightAt  int64
	state       State
	// Where the pair was last LOADED, kept across UNLOADED reports (which may name no GPU): a
	// pre-load goes back there.
	lastGPU, lastRuntime string
	lastMemory           int64
}

// NewTracker returns an empty tracker; the brain's start is the clock's time now.
func NewTracker(cfg Config) *Tracker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxGateways <= 0 {
		cfg.MaxGateways = DefaultMaxGateways
	}
	if cfg.MaxModels <= 0 {
		cfg.MaxModels = DefaultMaxModels
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	return &Tracker{
		now:      cfg.Now,
		start:    cfg.Now().UnixNano(),
		cfg:      cfg,
		models:   make(map[string]*model),
		gateways: make(map[string]*gatewayRecord),
		interned: make(map[string]string),
	}
}

// Start is when the tracker was created (the brain's start).
func (t *Tracker) Start() time.Time { return fromNanos(t.start) }

// ReportState records the state of a model on a gateway. It fails only with a *ValidationError
// (missing or oversized names, an invalid state, negative memory, a time in the future, or a
// gateway or model beyond the caps); an unexpected transition is recorded and flagged in the result.
func (t *Tracker) ReportState(r StateReport) (StateResult, error) {
	now := t.now()
	var v violations
	v.name("gateway_id", r.Gateway, true)
	v.name("model_name", r.Model, true)
	v.name("runtime", r.Runtime, false)
	v.name("gpu_uuid", r.GPUUUID, false)
	if !r.State.valid() {
		v.add("state", "required: one of loading, loaded, unloading, unloaded, failed")
	}
	if r.MemoryBytes < 0 {
		v.add("memory_bytes", "negative")
	}
	v.time("observed_time", r.Time, false, now, t.cfg.ClockSkew)
	if err := v.err(); err != nil {
		return StateResult{}, err
	}
	at := now.UnixNano()
	if !r.Time.IsZero() {
		at = min(r.Time.UnixNano(), at)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.checkGateway(&v, r.Gateway)
	if t.models[r.Model] == nil && len(t.models) >= t.cfg.MaxModels {
		v.add("model_name", "model cap of %d reached", t.cfg.MaxModels)
	}
	if err := v.err(); err != nil {
		return StateResult{}, err
	}
	t.touch(r.Gateway, now.UnixNano())
	p := t.placement(t.model(r.Model, now.UnixNano()), r.Gateway)
	res := StateResult{Previous: p.state, Unexpected: !ExpectedTransition(p.state, r.State)}
	if res.Unexpected {
		t.unexpected.Add(1)
	}
	if p.state != r.State {
		p.state, p.stateTime = r.State, at
		switch r.State {
		case StateLoaded:
			p.loadedTime = at
		case StateUnloaded, StateFailed:
			p.inFlight = 0
		}
	}
	p.runtime = t.intern(r.Runtime)
	p.gpuUUID = t.intern(r.GPUUUID)
	p.memoryBytes = r.MemoryBytes
	if r.State == StateLoaded {
		p.lastGPU, p.lastRuntime, p.lastMemory = p.gpuUUID, p.runtime, p.memoryBytes
	}
	return res, nil
}

// ReportTraffic applies a batch of samples from one gateway, all or nothing: it fails with a
// *ValidationError listing every violation, and then changed nothing. Sample times up to the
// clock-skew allowance in the future are treated as now.
func (t *Tracker) ReportTraffic(gateway string, samples []Sample) error {
	now := t.now()
	var v violations
	v.name("gateway_id", gateway, true)
	if len(samples) > MaxSamples {
		v.add("samples", "%d samples, more than %d", len(samples), MaxSamples)
	}
	for i := range samples {
		v.checkSample(i, &samples[i], now, t.cfg.ClockSkew)
	}
	if err := v.err(); err != nil {
		return err
	}
	nowNs := now.UnixNano()

	t.mu.Lock()
	defer t.mu.Unlock()
	t.checkGateway(&v, gateway)
	t.checkModelCap(&v, samples)
	if err := v.err(); err != nil {
		return err
	}
	t.touch(gateway, nowNs)
	for i := range samples {
		s := &samples[i]
		m := t.model(s.Model, nowNs)
		p := t.placement(m, gateway)
		end := min(s.End.UnixNano(), nowNs)
		start := min(s.Start.UnixNano(), end)
		m.requestsTotal = addSaturated(m.requestsTotal, s.Requests)
		m.errorsTotal = addSaturated(m.errorsTotal, s.Errors)
		m.traffic.add(start, end, s.Requests)
		if s.Requests > 0 && end > p.lastRequest {
			p.lastRequest = end
		}
		if end >= p.inFlightAt {
			p.inFlight, p.inFlightAt = s.InFlight, end
		}
	}
	t.samples.Add(int64(len(samples)))
	return nil
}

// addSaturated adds n >= 0 to a total >= 0, saturating at math.MaxInt64.
func addSaturated(total, n int64) int64 {
	if n > math.MaxInt64-total {
		return math.MaxInt64
	}
	return total + n
}

// checkGateway rejects a gateway the tracker does not know once it knows MaxGateways.
func (t *Tracker) checkGateway(v *violations, gateway string) {
	if _, ok := t.gateways[gateway]; !ok && len(t.gateways) >= t.cfg.MaxGateways {
		v.add("gateway_id", "gateway cap of %d reached", t.cfg.MaxGateways)
	}
}

// checkModelCap blames the first sample whose model would exceed MaxModels.
func (t *Tracker) checkModelCap(v *violations, samples []Sample) {
	var fresh map[string]struct{} // allocated only when the batch names new models
	for i := range samples {
		name := samples[i].Model
		if _, ok := t.models[name]; ok {
			continue
		}
		if _, ok := fresh[name]; ok {
			continue
		}
		if len(t.models)+len(fresh) >= t.cfg.MaxModels {
			v.add(sampleField(i, "model_name"), "model cap of %d reached", t.cfg.MaxModels)
			return
		}
		if fresh == nil {
			fresh = make(map[string]struct{})
		}
		fresh[name] = struct{}{}
	}
}

func (t *Tracker) knowGateway(gateway string) *gatewayRecord {
	if g, ok := t.gateways[gateway]; ok {
		return g
	}
	g := &gatewayRecord{name: strings.Clone(gateway)}
	t.gateways[g.name] = g
	return g
}

// touch knows a gateway and marks it seen at now; the caller holds the write lock.
func (t *Tracker) touch(gateway string, now int64) *gatewayRecord {
	g := t.knowGateway(gateway)
	g.lastSeen = max(g.lastSeen, now)
	return g
}

func (t *Tracker) intern(s string) string {
	if s == "" {
		return ""
	}
	if c, ok := t.interned[s]; ok {
		return c
	}
	if len(t.interned) >= maxInterned {
		return strings.Clone(s)
	}
	c := strings.Clone(s)
	t.interned[c] = c
	return c
}

// model returns the named model, creating it; the caller holds the write lock and checked the cap.
func (t *Tracker) model(name string, now int64) *model {
	if m, ok := t.models[name]; ok {
		return m
	}
	m := &model{name: strings.Clone(name), firstSeen: now}
	t.models[m.name] = m
	t.order = append(t.order, m)
	return m
}

// placement returns the model's record for a gateway, creating it (and knowing the gateway).
func (t *Tracker) placement(m *model, gateway string) *placement {
	i, ok := slices.BinarySearchFunc(m.gateways, gateway, func(p placement, g string) int {
		return strings.Compare(p.gateway, g)
	})
	if !ok {
		m.gateways = slices.Insert(m.gateways, i, placement{gateway: t.knowGateway(gateway).name, id: t.ids.take()})
	}
	return &m.gateways[i]
}

// Model returns what the tracker knows of one model.
func (t *Tracker) Model(name string) (ModelView, bool) {
	now := t.now().UnixNano()
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := t.models[name]
	if !ok {
		return ModelView{}, false
	}
	return t.view(m, now), true
}

// Models returns every model, sorted by name; with a gateway filter, only the models that gateway
// reported (state or traffic).
func (t *Tracker) Models(gateway string) []ModelView {
	now := t.now().UnixNano()
	t.mu.RLock()
	views := make([]ModelView, 0, len(t.order))
	for _, m := range t.order {
		if gateway == "" || m.has(gateway) {
			views = append(views, t.view(m, now))
		}
	}
	t.mu.RUnlock()
	slices.SortFunc(views, func(a, b ModelView) int { return strings.Compare(a.Name, b.Name) })
	return views
}

// AppendLoaded appends every LOADED (model, gateway) pair to dst, as of now (zero: the clock's
// now), in no particular order, and returns the extended slice. A caller that passes the previous
// result back as dst[:0] allocates nothing; no lock is held while it then evaluates them.
func (t *Tracker) AppendLoaded(dst []LoadedModel, now time.Time) []LoadedModel {
	if now.IsZero() {
		now = t.now()
	}
	ns := now.UnixNano()
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.order {
		qps := -1.0 // computed once per model, only if a placement is loaded
		for i := range m.gateways {
			p := &m.gateways[i]
			if p.state != StateLoaded {
				continue
			}
			if qps < 0 {
				qps = m.traffic.qps1m(ns)
			}
			dst = append(dst, LoadedModel{
				Model:       m.name,
				Gateway:     p.gateway,
				ID:          p.id,
				GPUUUID:     p.gpuUUID,
				Runtime:     p.runtime,
				MemoryBytes: p.memoryBytes,
				IdleSeconds: t.idleSeconds(ns, p.lastRequest, p.loadedTime, m.firstSeen),
				QPS:         qps,
				InFlight:    p.inFlightNow(ns),
				LastRequest: fromNanos(p.lastRequest),
			})
		}
	}
	return dst
}

// AppendUnloaded appends every UNLOADED (model, gateway) pair with history (LOADED there once, or
// with requests there) to dst, as of now (zero: the clock's now), in no particular order, like
// [Tracker.AppendLoaded]: a caller that passes the previous result back as dst[:0] allocates
// nothing.
func (t *Tracker) AppendUnloaded(dst []UnloadedModel, now time.Time) []UnloadedModel {
	if now.IsZero() {
		now = t.now()
	}
	ns := now.UnixNano()
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.order {
		qps := -1.0
		for i := range m.gateways {
			p := &m.gateways[i]
			if p.state != StateUnloaded || (p.loadedTime == 0 && p.lastRequest == 0) {
				continue
			}
			if qps < 0 {
				qps = m.traffic.qps1m(ns)
			}
			dst = append(dst, UnloadedModel{
				Model:        m.name,
				Gateway:      p.gateway,
				ID:           p.id,
				GPUUUID:      p.lastGPU,
				Runtime:      p.lastRuntime,
				MemoryBytes:  p.lastMemory,
				IdleSeconds:  t.idleSeconds(ns, p.lastRequest, p.loadedTime, m.firstSeen),
				QPS:          qps,
				LastRequest:  fromNanos(p.lastRequest),
				UnloadedTime: fromNanos(p.stateTime),
			})
		}
	}
	return dst
}

func (m *model) has(gateway string) bool {
	return slices.ContainsFunc(m.gateways, func(p placement) bool { return p.gateway == gateway })
}

// view copies a model; the caller holds the read lock.
func (t *Tracker) view(m *model, now int64) ModelView {
	v := ModelView{
		Name:          m.name,
		Placements:    make([]Placement, len(m.gateways)),
		QPS1m:         m.traffic.qps1m(now),
		QPS5m:         m.traffic.qps5m(now),
		RequestsTotal: m.requestsTotal,
		ErrorsTotal:   m.errorsTotal,
	}
	var lastRequest, loaded int64
	for i := range m.gateways {
		p := &m.gateways[i]
		inFlight := p.inFlightNow(now)
		v.Placements[i] = Placement{
			Gateway:     p.gateway,
			State:       p.state,
			Runtime:     p.runtime,
			GPUUUID:     p.gpuUUID,
			MemoryBytes: p.memoryBytes,
			StateTime:   fromNanos(p.stateTime),
			LoadedTime:  fromNanos(p.loadedTime),
			LastRequest: fromNanos(p.lastRequest),
			InFlight:    inFlight,
			IdleSeconds: t.idleSeconds(now, p.lastRequest, p.loadedTime, m.firstSeen),
		}
		v.InFlight = addSaturated(v.InFlight, inFlight)
		lastRequest = max(lastRequest, p.lastRequest)
		loaded = max(loaded, p.loadedTime)
	}
	v.LastRequest = fromNanos(lastRequest)
	v.IdleSeconds = t.idleSeconds(now, lastRequest, loaded, m.firstSeen)
	return v
}

// idleSeconds is DESIGN.md's idle time: since the later of the last request and the load, never
// before the brain's start; since the first report when there was neither. Never negative.
func (t *Tracker) idleSeconds(now, lastRequest, loaded, firstSeen int64) float64 {
	since := max(lastRequest, loaded)
	if since == 0 {
		since = firstSeen
	}
	since = max(since, t.start)
	if now <= since {
		return 0
	}
	return time.Duration(now - since).Seconds()
}

// inFlightNow is the gateway's last in-flight value unless it is older than inFlightTTL.
func (p *placement) inFlightNow(now int64) int64 {
	if now-p.inFlightAt > int64(inFlightTTL) {
		return 0
	}
	return p.inFlight
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
