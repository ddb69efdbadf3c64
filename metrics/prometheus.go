package metrics

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxModelSeries is the per-model series cap of a zero RecorderConfig.
const DefaultMaxModelSeries = 1000

// OtherRule is the rule label of a decision whose rule was not declared in RecorderConfig.Rules.
const OtherRule = "other"

// DecisionKind is the question a decision answered; its String is the "kind" label.
type DecisionKind uint8

// Decision kinds.
const (
	DecisionRuntime DecisionKind = iota
	DecisionGPU
	DecisionUnload
	decisionKinds
)

func (k DecisionKind) String() string {
	switch k {
	case DecisionRuntime:
		return "runtime"
	case DecisionGPU:
		return "gpu"
	case DecisionUnload:
		return "unload"
	}
	return "invalid"
}

// RecommendationEvent is what happened to an unload recommendation; its String is the "event" label.
type RecommendationEvent uint8

// Recommendation events.
const (
	Recommended RecommendationEvent = iota
	Withdrawn
	recommendationEvents
)

func (e RecommendationEvent) String() string {
	switch e {
	case Recommended:
		return "recommended"
	case Withdrawn:
		return "withdrawn"
	}
	return "invalid"
}

// RecorderConfig configures the brain's Prometheus metrics.
type RecorderConfig struct {
	// MaxModelSeries caps the models that get per-model series (modelium_brain_model_qps and
	// modelium_brain_model_idle_seconds): beyond it, the models after the first MaxModelSeries in
	// name order get none, and modelium_brain_model_series_dropped says how many were left out.
	// 0 means DefaultMaxModelSeries; negative means no per-model series at all.
	MaxModelSeries int
	// Rules declares, per decision kind, the rule names the decisions may report (the rule tables
	// are bounded and known at start). Their series exist from the start at 0; a rule not declared
	// is counted under OtherRule, so a label value never comes from free text.
	Rules map[DecisionKind][]string
}

// Recorder holds the brain's Prometheus metrics. Its methods are safe for concurrent use, allocate
// nothing, and do nothing on a nil *Recorder (a server without metrics).
type Recorder struct {
	decisions       [decisionKinds]map[string]prometheus.Counter
	otherDecisions  [decisionKinds]prometheus.Counter
	recommendations [recommendationEvents]prometheus.Counter
	subscribers     prometheus.Gauge
}

// NewRecorder registers the tracker's collector and the server's counters on reg (use a
// *prometheus.Registry of your own, not the global one).
func NewRecorder(reg prometheus.Registerer, t *Tracker, cfg RecorderConfig) (*Recorder, error) {
	if cfg.MaxModelSeries == 0 {
		cfg.MaxModelSeries = DefaultMaxModelSeries
	}
	cfg.MaxModelSeries = max(cfg.MaxModelSeries, 0)
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelium_brain_decisions_total",
		Help: "Decisions made, by kind (runtime, gpu, unload) and the rule that made them.",
	}, []string{"kind", "rule"})
	recommendations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelium_brain_recommendations_total",
		Help: "Unload recommendations, by event (recommended, withdrawn).",
	}, []string{"event"})
	r := &Recorder{subscribers: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "modelium_brain_watch_subscribers",
		Help: "Open WatchUnloadRecommendations streams.",
	})}
	for k := range decisionKinds {
		r.decisions[k] = make(map[string]prometheus.Counter)
		for _, rule := range cfg.Rules[k] {
			r.decisions[k][rule] = decisions.WithLabelValues(k.String(), rule)
		}
		r.otherDecisions[k] = decisions.WithLabelValues(k.String(), OtherRule)
	}
	for e := range recommendationEvents {
		r.recommendations[e] = recommendations.WithLabelValues(e.String())
	}
	for _, c := range []prometheus.Collector{
		&trackerCollector{t: t, maxSeries: cfg.MaxModelSeries},
		decisions, recommendations, r.subscribers,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register brain metrics: %w", err)
		}
	}
	return r, nil
}

// Decision counts a decision of a kind by a rule.
func (r *Recorder) Decision(kind DecisionKind, rule string) {
	if r == nil || kind >= decisionKinds {
		return
	}
	if c, ok := r.decisions[kind][rule]; ok {
		c.Inc()
		return
	}
	r.otherDecisions[kind].Inc()
}

// Recommendation counts an unload recommendation event.
func (r *Recorder) Recommendation(event RecommendationEvent) {
	if r == nil || event >= recommendationEvents {
		return
	}
	r.recommendations[event].Inc()
}

// SetWatchSubscribers sets the number of open recommendation streams.
func (r *Recorder) SetWatchSubscribers(n int) {
	if r == nil {
		return
	}
	r.subscribers.Set(float64(n))
}

var (
	modelsDesc = prometheus.NewDesc("modelium_brain_models",
		"Placements (model on a gateway) by lifecycle state.", []string{"state"}, nil)
	qpsDesc = prometheus.NewDesc("modelium_brain_model_qps",
		"Requests per second of a model over a trailing window (1m, 5m), all gateways.", []string{"model", "window"}, nil)
	idleDesc = prometheus.NewDesc("modelium_brain_model_idle_seconds",
		"Seconds since the later of a model's last request, its load and the brain's start.", []string{"model"}, nil)
	droppedDesc = prometheus.NewDesc("modelium_brain_model_series_dropped",
		"Models left without per-model series because of the series cap.", nil, nil)
	unexpectedDesc = prometheus.NewDesc("modelium_brain_unexpected_transitions_total",
		"Lifecycle reports whose transition from the previous state was unexpected.", nil, nil)
	samplesDesc = prometheus.NewDesc("modelium_brain_traffic_samples_total",
		"Traffic samples applied.", nil, nil)
	gatewaysDesc = prometheus.NewDesc("modelium_brain_gateways",
		"Gateways the brain knows (by a report or a sync, until server.gateway_ttl forgets them).", nil, nil)
	forgottenDesc = prometheus.NewDesc("modelium_brain_gateways_forgotten_total",
		"Gateways forgotten with their models after server.gateway_ttl without a report, sync or open watch stream.", nil, nil)
)

// trackerCollector reads the tracker at scrape time.
type trackerCollector struct {
	t         *Tracker
	maxSeries int
}

func (c *trackerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{modelsDesc, qpsDesc, idleDesc, droppedDesc, unexpectedDesc, samplesDesc, gatewaysDesc, forgottenDesc} {
		ch <- d
	}
}

type modelSeries struct {
	name               string
	qps1m, qps5m, idle float64
}

func (c *trackerCollector) Collect(ch chan<- prometheus.Metric) {
	t := c.t
	now := t.now().UnixNano()
	var byState [len(stateNames)]int
	var series []modelSeries
	t.mu.RLock()
	if c.maxSeries > 0 {
		series = make([]modelSeries, 0, len(t.order))
	}
	for _, m := range t.order {
		var lastRequest, loaded int64
		for i := range m.gateways {
			p := &m.gateways[i]
			byState[p.state]++
			lastRequest = max(lastRequest, p.lastRequest)
			loaded = max(loaded, p.loadedTime)
		}
		if c.maxSeries > 0 {
			series = append(series, modelSeries{
				name:  m.name,
				qps1m: m.traffic.qps1m(now),
				qps5m: m.traffic.qps5m(now),
				idle:  t.idleSeconds(now, lastRequest, loaded, m.firstSeen),
			})
		}
	}
	models, gateways := len(t.order), len(t.gateways)
	t.mu.RUnlock()

	for _, s := range States {
		ch <- prometheus.MustNewConstMetric(modelsDesc, prometheus.GaugeValue, float64(byState[s]), s.String())
	}
	if len(series) > c.maxSeries {
		slices.SortFunc(series, func(a, b modelSeries) int { return strings.Compare(a.name, b.name) })
		series = series[:c.maxSeries]
	}
	for _, s := range series {
		ch <- prometheus.MustNewConstMetric(qpsDesc, prometheus.GaugeValue, s.qps1m, s.name, "1m")
		ch <- prometheus.MustNewConstMetric(qpsDesc, prometheus.GaugeValue, s.qps5m, s.name, "5m")
		ch <- prometheus.MustNewConstMetric(idleDesc, prometheus.GaugeValue, s.idle, s.name)
	}
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.GaugeValue, float64(models-len(series)))
	ch <- prometheus.MustNewConstMetric(unexpectedDesc, prometheus.CounterValue, float64(t.unexpected.Load()))
	ch <- prometheus.MustNewConstMetric(samplesDesc, prometheus.CounterValue, float64(t.samples.Load()))
	ch <- prometheus.MustNewConstMetric(gatewaysDesc, prometheus.GaugeValue, float64(gateways))
	ch <- prometheus.MustNewConstMetric(forgottenDesc, prometheus.CounterValue, float64(t.forgotten.Load()))
}
