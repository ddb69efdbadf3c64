package metrics_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"

	"github.com/modelium/brain/metrics"
)

// newRecorder registers the tracker's metrics on a registry of the test's own.
func newRecorder(t testing.TB, tr *metrics.Tracker, cfg metrics.RecorderConfig) (*metrics.Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	r, err := metrics.NewRecorder(reg, tr, cfg)
	if err != nil {
		t.Fatalf("NewRecorder: %v", err)
	}
	return r, reg
}

// exposition is the registry's text exposition of the named metrics (all if none are named), as
// a scrape of /metrics would show it.
//
// It stands in for testutil.GatherAndCompare, whose diff dependency (github.com/kylelemons/godebug)
// go.sum does not list.
func exposition(t testing.TB, reg prometheus.Gatherer, names ...string) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var b strings.Builder
	for _, f := range families {
		if len(names) == 0 || slices.Contains(names, f.GetName()) {
			if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
				t.Fatalf("encode %s: %v", f.GetName(), err)
			}
		}
	}
	return b.String()
}

func compareExposition(t testing.TB, reg prometheus.Gatherer, want string, names ...string) {
	t.Helper()
	if got := exposition(t, reg, names...); strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}

// gatherValue returns the value of a metric without labels.
func gatherValue(t testing.TB, tr *metrics.Tracker, name string) float64 {
	t.Helper()
	_, reg := newRecorder(t, tr, metrics.RecorderConfig{})
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			m := f.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestTrackerExposition(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{})
	loaded(t, tr, c, "gw-a", "llama", 0)
	loaded(t, tr, c, "gw-b", "llama", 0)
	c.Set(10 * s)
	reportState(t, tr, metrics.StateReport{Gateway: "gw-a", Model: "bert", State: metrics.StateLoading})
	reportState(t, tr, metrics.StateReport{Gateway: "gw-a", Model: "bert", State: metrics.StateUnloading}) // a cancelled load
	reportState(t, tr, metrics.StateReport{Gateway: "gw-a", Model: "bert", State: metrics.StateLoaded})    // unexpected: unloading -> loaded
	c.Set(100 * s)
	reportTraffic(t, tr, "gw-a", sample("llama", 40*s, 100*s, 60), sample("bert", 90*s, 100*s, 3))
	c.Set(160 * s)
	_, reg := newRecorder(t, tr, metrics.RecorderConfig{})

	want := `
# HELP modelium_brain_model_idle_seconds Seconds since the later of a model's last request, its load and the brain's start.
# TYPE modelium_brain_model_idle_seconds gauge
modelium_brain_model_idle_seconds{model="bert"} 60
modelium_brain_model_idle_seconds{model="llama"} 60
# HELP modelium_brain_model_qps Requests per second of a model over a trailing window (1m, 5m), all gateways.
# TYPE modelium_brain_model_qps gauge
modelium_brain_model_qps{model="bert",window="1m"} 0
modelium_brain_model_qps{model="bert",window="5m"} 0.01
modelium_brain_model_qps{model="llama",window="1m"} 0
modelium_brain_model_qps{model="llama",window="5m"} 0.2
# HELP modelium_brain_model_series_dropped Models left without per-model series because of the series cap.
# TYPE modelium_brain_model_series_dropped gauge
modelium_brain_model_series_dropped 0
# HELP modelium_brain_models Placements (model on a gateway) by lifecycle state.
# TYPE modelium_brain_models gauge
modelium_brain_models{state="failed"} 0
modelium_brain_models{state="loaded"} 3
modelium_brain_models{state="loading"} 0
modelium_brain_models{state="unloaded"} 0
modelium_brain_models{state="unloading"} 0
# HELP modelium_brain_traffic_samples_total Traffic samples applied.
# TYPE modelium_brain_traffic_samples_total counter
modelium_brain_traffic_samples_total 2
# HELP modelium_brain_unexpected_transitions_total Lifecycle reports whose transition from the previous state was unexpected.
# TYPE modelium_brain_unexpected_transitions_total counter
modelium_brain_unexpected_transitions_total 1
`
	compareExposition(t, reg, want, "modelium_brain_models", "modelium_brain_model_qps", "modelium_brain_model_idle_seconds",
		"modelium_brain_model_series_dropped", "modelium_brain_unexpected_transitions_total", "modelium_brain_traffic_samples_total")
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := promlint.NewWithMetricFamilies(families).Lint(); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestModelSeriesCap(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		models  []string
		want    []string // models with series
		dropped int
	}{
		{"under the cap every model has series", 3, []string{"c", "a", "b"}, []string{"a", "b", "c"}, 0},
		{"over the cap the first in name order keep theirs", 2, []string{"c", "a", "b"}, []string{"a", "b"}, 1},
		{"a negative cap turns per-model series off", -1, []string{"a"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := newTracker(t, metrics.Config{})
			for _, m := range tt.models {
				reportTraffic(t, tr, "gw", sample(m, 0, 0, 0))
			}
			_, reg := newRecorder(t, tr, metrics.RecorderConfig{MaxModelSeries: tt.max})
			var want strings.Builder
			if len(tt.want) > 0 {
				want.WriteString("# HELP modelium_brain_model_idle_seconds Seconds since the later of a model's last request, its load and the brain's start.\n")
				want.WriteString("# TYPE modelium_brain_model_idle_seconds gauge\n")
			}
			for _, m := range tt.want {
				want.WriteString(`modelium_brain_model_idle_seconds{model="` + m + "\"} 0\n")
			}
			want.WriteString("# HELP modelium_brain_model_series_dropped Models left without per-model series because of the series cap.\n")
			want.WriteString("# TYPE modelium_brain_model_series_dropped gauge\n")
			want.WriteString(fmt.Sprintf("modelium_brain_model_series_dropped %d\n", tt.dropped))
			compareExposition(t, reg, want.String(), "modelium_brain_model_idle_seconds", "modelium_brain_model_series_dropped")
			if got := strings.Count(exposition(t, reg, "modelium_brain_model_qps"), "\nmodelium_brain_model_qps{"); got != 2*len(tt.want) {
				t.Errorf("%d QPS series; want %d", got, 2*len(tt.want))
			}
		})
	}
}

func TestRecorderCounters(t *testing.T) {
	tr, _ := newTracker(t, metrics.Config{})
	r, reg := newRecorder(t, tr, metrics.RecorderConfig{Rules: map[metrics.DecisionKind][]string{
		metrics.DecisionRuntime: {"llm_family", "default"},
		metrics.DecisionUnload:  {"idle"},
	}})
	r.Decision(metrics.DecisionRuntime, "llm_family")
	r.Decision(metrics.DecisionRuntime, "llm_family")
	r.Decision(metrics.DecisionRuntime, "a rule name that was never declared")
	r.Decision(metrics.DecisionGPU, "most_free")
	r.Recommendation(metrics.Recommended)
	r.Recommendation(metrics.Recommended)
	r.Recommendation(metrics.Withdrawn)
	r.SetWatchSubscribers(3)

	want := `
# HELP modelium_brain_decisions_total Decisions made, by kind (runtime, gpu, unload) and the rule that made them.
# TYPE modelium_brain_decisions_total counter
modelium_brain_decisions_total{kind="gpu",rule="other"} 1
modelium_brain_decisions_total{kind="runtime",rule="default"} 0
modelium_brain_decisions_total{kind="runtime",rule="llm_family"} 2
modelium_brain_decisions_total{kind="runtime",rule="other"} 1
modelium_brain_decisions_total{kind="unload",rule="idle"} 0
modelium_brain_decisions_total{kind="unload",rule="other"} 0
# HELP modelium_brain_recommendations_total Unload recommendations, by event (recommended, withdrawn).
# TYPE modelium_brain_recommendations_total counter
modelium_brain_recommendations_total{event="recommended"} 2
modelium_brain_recommendations_total{event="withdrawn"} 1
# HELP modelium_brain_watch_subscribers Open WatchUnloadRecommendations streams.
# TYPE modelium_brain_watch_subscribers gauge
modelium_brain_watch_subscribers 3
`
	compareExposition(t, reg, want, "modelium_brain_decisions_total", "modelium_brain_recommendations_total", "modelium_brain_watch_subscribers")

	t.Run("a nil recorder records nothing and does not panic", func(t *testing.T) {
		var r *metrics.Recorder
		r.Decision(metrics.DecisionGPU, "x")
		r.Recommendation(metrics.Withdrawn)
		r.SetWatchSubscribers(1)
	})
	t.Run("a kind or event past the last one records nothing and does not panic", func(t *testing.T) {
		r.Decision(metrics.DecisionUnload+1, "idle")
		r.Decision(255, "idle")
		r.Recommendation(metrics.Withdrawn + 1)
		r.Recommendation(255)
		compareExposition(t, reg, want, "modelium_brain_decisions_total", "modelium_brain_recommendations_total", "modelium_brain_watch_subscribers")
	})
	t.Run("registering twice on one registry fails", func(t *testing.T) {
		if _, err := metrics.NewRecorder(reg, tr, metrics.RecorderConfig{}); err == nil {
			t.Error("no error")
		}
	})
}
