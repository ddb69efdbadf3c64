package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/recommend"
)

// Gateway is the simulated gateway's id in the tracker.
const Gateway = "replay"

// AzureDay is minute 1 of an Azure trace, whose minutes belong to no named day: day 1 of the
// Azure Functions 2019 dataset. Any day would do; the figures do not depend on it.
var AzureDay = time.Date(2019, time.July, 15, 0, 0, 0, 0, time.UTC)

// Config configures a replay.
type Config struct {
	// Policy decides, through the brain's evaluation cycle (recommend.Engine); nil means
	// recommend.NewFixedPolicy(nil), the seed's 300 s idle timer. PolicyName names it in the
	// result.
	Policy     recommend.Policy
	PolicyName string
	// DecisionInterval is the virtual time between evaluation cycles; it must be positive.
	DecisionInterval time.Duration
	// Memory weighs idle time by memory (MB per HashApp); nil counts no MB.
	Memory Memory
	// Progress, when set, is called after each minute with the minutes done and the total.
	Progress func(done, total int)
	// Cap, when set, bounds the GPU memory the gateway loads into (cap.go); it needs Memory.
	Cap *Cap
}

// Result is what a replay cost. The JSON names of the first seven are fixed by DESIGN.md.
type Result struct {
	Models  int `json:"models"`
	Minutes int `json:"minutes"`
	// ColdStarts counts invocation minutes whose model was not loaded when the requests came.
	ColdStarts int64 `json:"cold_starts"`
	// IdleModelMinutes counts minutes a model was resident without a request.
	IdleModelMinutes int64 `json:"idle_model_minutes"`
	// IdleMBMinutes weighs each idle minute by the model's memory (0 without a memory file).
	IdleMBMinutes float64 `json:"idle_mb_minutes"`
	// Loads counts loads: cold starts plus pre-warm loads.
	Loads int64 `json:"loads"`
	// Policy names the policy that decided ("fixed").
	Policy string `json:"policy"`

	// IdleGBHours is IdleMBMinutes / 1024 / 60.
	IdleGBHours float64 `json:"idle_gb_hours"`
	// WarmStarts counts invocation minutes whose model was loaded when the requests came.
	WarmStarts int64 `json:"warm_starts"`
	// PrewarmLoads counts loads made on a load recommendation; Unloads, unloads made on an unload
	// recommendation.
	PrewarmLoads int64 `json:"prewarm_loads"`
	Unloads      int64 `json:"unloads"`
	// ResidentModelMinutes counts minutes a model was resident, with or without requests.
	ResidentModelMinutes int64 `json:"resident_model_minutes"`
	// Requests and InvocationMinutes sum the trace.
	Requests          int64 `json:"requests"`
	InvocationMinutes int64 `json:"invocation_minutes"`
	// ModelsWithoutMemory counts models whose application the memory file lacks (they count 0 MB).
	ModelsWithoutMemory int `json:"models_without_memory,omitempty"`
	// Cycles is the number of evaluation cycles run.
	Cycles int64 `json:"cycles"`

	// Under a GPU memory cap (Config.Cap) only:
	// GPUMemoryBytes is the memory the cap offers; Victims names the victim choice.
	GPUMemoryBytes int64  `json:"gpu_memory_bytes,omitempty"`
	Victims        string `json:"victims,omitempty"`
	// Evictions counts models unloaded by an eviction plan to make room for a cold start;
	// ColdStartsAfterEviction, the cold starts of models whose latest unload was an eviction (the
	// cold starts the evictions caused, at most one each).
	Evictions               int64 `json:"evictions,omitempty"`
	ColdStartsAfterEviction int64 `json:"cold_starts_after_eviction,omitempty"`
	// PlacementFailures counts cold starts that found no room even after evictions (everything
	// else in use that minute, or a model larger than a GPU): the model stays unloaded.
	PlacementFailures int64 `json:"placement_failures,omitempty"`
	// PrewarmsSkipped counts pre-warm recommendations not carried out: no room without evicting.
	PrewarmsSkipped int64 `json:"prewarms_skipped,omitempty"`
	// ModelsSizedByMedian counts models the memory file lacks, sized at the median (cap.go).
	ModelsSizedByMedian int `json:"models_sized_by_median,omitempty"`
}

// Run replays a trace. The gateway starts with nothing loaded; the brain starts at minute 1.
func Run(tr *Trace, cfg Config) (*Result, error) {
	if cfg.DecisionInterval <= 0 {
		return nil, fmt.Errorf("replay: decision interval %s: want a positive duration", cfg.DecisionInterval)
	}
	if cfg.Policy == nil {
		cfg.Policy = recommend.NewFixedPolicy(nil)
	}
	s := newSim(tr, cfg)
	if cfg.Cap != nil {
		if err := s.initCap(); err != nil {
			return nil, err
		}
	}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.result(), nil
}

type hit struct {
	model int32
	count int64
}

// sim is one replay: the virtual clock, the simulated gateway and the accounting.
type sim struct {
	tr      *Trace
	cfg     Config
	tracker *metrics.Tracker
	engine  *recommend.Engine
	start   time.Time
	now     time.Time // the virtual clock
	next    time.Time // the next cycle

	index  map[string]int32 // model name -> index, for recommendations
	offset []int32          // hits of minute m (1-based) are hits[offset[m-1]:offset[m]]
	hits   []hit
	mb     []float64

	// Per model: loaded on the gateway; since which minute it counts resident (see load); minutes
	// resident, and resident with a request.
	loaded         []bool
	since          []int32
	resident       []int64
	residentActive []int64
	cur            int32 // the first minute whose residency is not yet counted

	res     Result
	samples []metrics.Sample

	capState // under a cap only
}

func newSim(tr *Trace, cfg Config) *sim {
	n := len(tr.Models)
	start := tr.Start
	if start.IsZero() {
		start = AzureDay
	}
	s := &sim{
		tr: tr, cfg: cfg, start: start, now: start, next: start,
		index:          make(map[string]int32, n),
		offset:         make([]int32, tr.Minutes+1),
		mb:             make([]float64, n),
		loaded:         make([]bool, n),
		since:          make([]int32, n),
		resident:       make([]int64, n),
		residentActive: make([]int64, n),
		cur:            1,
	}
	s.tracker = metrics.NewTracker(metrics.Config{
		Now:       func() time.Time { return s.now },
		MaxModels: max(n, metrics.DefaultMaxModels),
	})
	s.engine = recommend.New(recommend.Config{Tracker: s.tracker, Policy: cfg.Policy})
	// Group the invocation minutes by minute (counting sort): the replay walks minutes.
	for i := range tr.Models {
		m := &tr.Models[i]
		s.index[m.Name] = int32(i)
		for _, a := range m.Active {
			s.offset[a.Minute]++
		}
		if cfg.Memory != nil {
			mb, ok := cfg.Memory[m.App]
			if !ok {
				s.res.ModelsWithoutMemory++
			}
			s.mb[i] = mb
		}
	}
	for m := 1; m <= tr.Minutes; m++ {
		s.offset[m] += s.offset[m-1]
	}
	s.hits = make([]hit, s.offset[tr.Minutes])
	fill := make([]int32, tr.Minutes)
	copy(fill, s.offset[:tr.Minutes])
	for i := range tr.Models {
		for _, a := range tr.Models[i].Active {
			s.hits[fill[a.Minute-1]] = hit{model: int32(i), count: a.Count}
			fill[a.Minute-1]++
		}
	}
	return s
}

func (s *sim) minuteStart(m int) time.Time { return s.start.Add(time.Duration(m-1) * time.Minute) }

// lastRequest is when a minute's last request ends, relative to the minute's start: strictly
// inside the minute, so that idle time measured at a later minute boundary is a whole number of
// minutes plus one second and a threshold of whole minutes is crossed exactly at a boundary.
const lastRequest = 59 * time.Second

func (s *sim) run() error {
	for m := 1; m <= s.tr.Minutes; m++ {
		t := s.minuteStart(m)
		hits := s.hits[s.offset[m-1]:s.offset[m]]
		// The minute's requests arrive at its start, before the cycle of that instant.
		s.now = t
		s.samples = s.samples[:0]
		if s.cfg.Cap != nil {
			s.minute = int32(m)
			for _, h := range hits {
				s.busy[h.model] = int32(m)
				s.predictor.Observe(predict.Key{Gateway: Gateway, Model: s.tr.Models[h.model].Name}, t)
			}
		}
		for _, h := range hits {
			if s.loaded[h.model] {
				s.res.WarmStarts++
			} else {
				s.res.ColdStarts++
				if err := s.load(h.model, true); err != nil {
					return err
				}
			}
			s.samples = append(s.samples, metrics.Sample{Model: s.tr.Models[h.model].Name, Start: t, End: t, InFlight: 1})
		}
		if err := s.report(); err != nil {
			return err
		}
		if err := s.cyclesUntil(t, true); err != nil {
			return err
		}
		// Residency of minute m is what is loaded now.
		for _, h := range hits {
			if s.loaded[h.model] {
				s.residentActive[h.model]++
			}
		}
		s.cur = int32(m) + 1
		if err := s.cyclesUntil(t.Add(lastRequest), false); err != nil {
			return err
		}
		s.now = t.Add(lastRequest)
		s.samples = s.samples[:0]
		for _, h := range hits {
			s.samples = append(s.samples, metrics.Sample{Model: s.tr.Models[h.model].Name, Start: t, End: s.now, Requests: h.count})
		}
		if err := s.report(); err != nil {
			return err
		}
		if err := s.cyclesUntil(t.Add(time.Minute), false); err != nil {
			return err
		}
		if s.cfg.Progress != nil {
			s.cfg.Progress(m, s.tr.Minutes)
		}
	}
	for i, l := range s.loaded {
		if l {
			s.resident[i] += int64(s.cur - s.since[i])
		}
	}
	return nil
}

// report sends s.samples to the tracker in batches it accepts.
func (s *sim) report() error {
	for b := s.samples; len(b) > 0; {
		n := min(len(b), metrics.MaxSamples)
		if err := s.tracker.ReportTraffic(Gateway, b[:n]); err != nil {
			return fmt.Errorf("replay: report traffic at %s: %w", s.now.Format(time.RFC3339), err)
		}
		b = b[n:]
	}
	return nil
}

// cyclesUntil runs the evaluation cycles due before end (or at end, when inclusive) and carries
// out at once the recommendations they open for the gateway: unload, or load (pre-warm).
func (s *sim) cyclesUntil(end time.Time, inclusive bool) error {
	for s.next.Before(end) || inclusive && s.next.Equal(end) {
		s.now = s.next
		s.next = s.next.Add(s.cfg.DecisionInterval)
		s.res.Cycles++
		for _, ev := range s.engine.Evaluate(s.now).Events {
			r := ev.Rec
			if ev.Withdrawn || r.Gateway != Gateway {
				continue
			}
			i, ok := s.index[r.Model]
			if !ok {
				return fmt.Errorf("replay: the brain recommended a model the trace does not have: %q", r.Model)
			}
			var err error
			switch {
			case r.Kind == recommend.Unload && s.loaded[i]:
				err = s.unload(i)
			case r.Kind == recommend.Load && !s.loaded[i]:
				err = s.load(i, false)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// load reports LOADING and LOADED now, as a gateway's ReportModelState calls would, for a cold
// start or a pre-warm. A model loaded before the residency of the current minute is counted is
// resident from this minute on. Under a cap the load is placed first (cap.go): a cold start may
// evict, a pre-warm may not, and a model that finds no room stays unloaded.
func (s *sim) load(i int32, cold bool) error {
	if s.cfg.Cap != nil {
		if cold && s.evicted[i] {
			s.res.ColdStartsAfterEviction++
			s.evicted[i] = false
		}
		dev, ok, err := s.place(i, cold)
		if !ok {
			return err
		}
		s.dev[i] = dev
		s.inv.used[dev] += int64(s.bytes[i])
		s.evicted[i] = false
	}
	if !cold {
		s.res.PrewarmLoads++
	}
	s.res.Loads++
	s.loaded[i] = true
	s.since[i] = s.cur
	return s.state(i, metrics.StateLoading, metrics.StateLoaded)
}

// unload reports UNLOADING and UNLOADED now, on an unload recommendation.
func (s *sim) unload(i int32) error {
	s.res.Unloads++
	return s.unloadModel(i)
}

// unloadModel unloads model i: on a recommendation, or as an eviction plan's victim.
func (s *sim) unloadModel(i int32) error {
	if s.cfg.Cap != nil {
		s.inv.used[s.dev[i]] -= int64(s.bytes[i])
	}
	s.loaded[i] = false
	s.resident[i] += int64(s.cur - s.since[i])
	return s.state(i, metrics.StateUnloading, metrics.StateUnloaded)
}

func (s *sim) state(i int32, states ...metrics.State) error {
	for _, st := range states {
		r := metrics.StateReport{Gateway: Gateway, Model: s.tr.Models[i].Name, State: st, MemoryBytes: int64(s.mb[i] * (1 << 20))}
		res, err := s.tracker.ReportState(r)
		if err == nil && res.Unexpected {
			err = errors.New("unexpected transition")
		}
		if err != nil {
			return fmt.Errorf("replay: report %s of %q: %w", st, r.Model, err)
		}
	}
	return nil
}

func (s *sim) result() *Result {
	r := s.res
	r.Policy = s.cfg.PolicyName
	r.Models = len(s.tr.Models)
	r.Minutes = s.tr.Minutes
	r.Requests = s.tr.Requests
	r.InvocationMinutes = s.tr.InvocationMinutes
	for i := range s.resident {
		idle := s.resident[i] - s.residentActive[i]
		r.ResidentModelMinutes += s.resident[i]
		r.IdleModelMinutes += idle
		r.IdleMBMinutes += float64(idle) * s.mb[i]
	}
	r.IdleGBHours = r.IdleMBMinutes / 1024 / 60
	return &r
}
