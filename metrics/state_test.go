package metrics_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

func TestExpectedTransition(t *testing.T) {
	tests := []struct {
		name     string
		from, to metrics.State
		want     bool
	}{
		{"a first report may be any state", metrics.StateUnknown, metrics.StateUnloading, true},
		{"loading then loaded", metrics.StateLoading, metrics.StateLoaded, true},
		{"loading then failed", metrics.StateLoading, metrics.StateFailed, true},
		{"a cancelled load", metrics.StateLoading, metrics.StateUnloaded, true},
		{"loaded then unloading", metrics.StateLoaded, metrics.StateUnloading, true},
		{"a runtime that drops a model at once", metrics.StateLoaded, metrics.StateUnloaded, true},
		{"unloading then unloaded", metrics.StateUnloading, metrics.StateUnloaded, true},
		{"a reload after unloading", metrics.StateUnloaded, metrics.StateLoading, true},
		{"a retry after a failure", metrics.StateFailed, metrics.StateLoading, true},
		{"re-reporting the same state", metrics.StateLoaded, metrics.StateLoaded, true},
		{"unloaded then unloading is unexpected", metrics.StateUnloaded, metrics.StateUnloading, false},
		{"unloaded then loaded skips loading", metrics.StateUnloaded, metrics.StateLoaded, false},
		{"loaded then loading is unexpected", metrics.StateLoaded, metrics.StateLoading, false},
		{"unloading then loaded is unexpected", metrics.StateUnloading, metrics.StateLoaded, false},
		{"failed then loaded skips loading", metrics.StateFailed, metrics.StateLoaded, false},
		{"no state goes to unknown", metrics.StateLoaded, metrics.StateUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metrics.ExpectedTransition(tt.from, tt.to); got != tt.want {
				t.Errorf("ExpectedTransition(%v, %v) = %v; want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestReportStateResults(t *testing.T) {
	type step struct {
		state      metrics.State
		previous   metrics.State
		unexpected bool
	}
	tests := []struct {
		name       string
		steps      []step
		unexpected int // counted over the steps
	}{
		{"a normal lifecycle has nothing unexpected", []step{
			{metrics.StateLoading, metrics.StateUnknown, false},
			{metrics.StateLoaded, metrics.StateLoading, false},
			{metrics.StateUnloading, metrics.StateLoaded, false},
			{metrics.StateUnloaded, metrics.StateUnloading, false},
		}, 0},
		{"a nonsensical transition is recorded, flagged and counted", []step{
			{metrics.StateUnloaded, metrics.StateUnknown, false},
			{metrics.StateUnloading, metrics.StateUnloaded, true},
			{metrics.StateUnloaded, metrics.StateUnloading, false},
			{metrics.StateLoaded, metrics.StateUnloaded, true},
		}, 2},
		{"re-reports of the same state are idempotent", []step{
			{metrics.StateLoaded, metrics.StateUnknown, false},
			{metrics.StateLoaded, metrics.StateLoaded, false},
			{metrics.StateLoaded, metrics.StateLoaded, false},
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := newTracker(t, metrics.Config{})
			for i, s := range tt.steps {
				got := reportState(t, tr, metrics.StateReport{Gateway: "gw", Model: "m", State: s.state})
				if want := (metrics.StateResult{Previous: s.previous, Unexpected: s.unexpected}); got != want {
					t.Errorf("step %d (%v): %+v; want %+v", i, s.state, got, want)
				}
			}
			if v := mustModel(t, tr, "m"); v.Placements[0].State != tt.steps[len(tt.steps)-1].state {
				t.Errorf("state %v; want the last reported", v.Placements[0].State)
			}
			if got := gatherValue(t, tr, "modelium_brain_unexpected_transitions_total"); got != float64(tt.unexpected) {
				t.Errorf("unexpected transitions counted %v; want %d", got, tt.unexpected)
			}
		})
	}
}

func TestReportStateConverges(t *testing.T) {
	const s = time.Second
	report := metrics.StateReport{Gateway: "gw-a", Model: "llama", Runtime: "vllm", GPUUUID: "GPU-1", State: metrics.StateLoaded, MemoryBytes: 16 << 30}
	want := metrics.Placement{Gateway: "gw-a", State: metrics.StateLoaded, Runtime: "vllm", GPUUUID: "GPU-1", MemoryBytes: 16 << 30,
		StateTime: at(10 * s), LoadedTime: at(10 * s), IdleSeconds: 90}

	t.Run("a reconnecting gateway's re-report changes no timestamp", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(5 * s)
		reportState(t, tr, metrics.StateReport{Gateway: "gw-a", Model: "llama", State: metrics.StateLoading})
		c.Set(10 * s)
		reportState(t, tr, report)
		c.Set(50 * s)
		reportState(t, tr, report)
		c.Set(100 * s)
		if got := mustModel(t, tr, "llama").Placements; !slices.Equal(got, []metrics.Placement{want}) {
			t.Errorf("placements %+v; want %+v", got, []metrics.Placement{want})
		}
	})
	t.Run("a full re-report to a restarted brain reaches the same placements", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(10 * s)
		r := report
		r.Time = at(10 * s)
		if res := reportState(t, tr, r); res.Unexpected {
			t.Error("a re-report after a restart is flagged unexpected")
		}
		c.Set(100 * s)
		if got := mustModel(t, tr, "llama").Placements; !slices.Equal(got, []metrics.Placement{want}) {
			t.Errorf("placements %+v; want %+v", got, []metrics.Placement{want})
		}
	})
	t.Run("a time ahead of the brain's clock within the skew allowance is taken as now", func(t *testing.T) {
		tr, c := newTracker(t, metrics.Config{})
		c.Set(10 * s)
		r := report
		r.Time = at(10*s + metrics.DefaultClockSkew - time.Millisecond)
		reportState(t, tr, r)
		c.Set(100 * s)
		if got := mustModel(t, tr, "llama").Placements; !slices.Equal(got, []metrics.Placement{want}) {
			t.Errorf("placements %+v; want %+v", got, []metrics.Placement{want})
		}
	})
	t.Run("runtime, GPU and memory follow the latest report", func(t *testing.T) {
		tr, _ := newTracker(t, metrics.Config{})
		reportState(t, tr, report)
		r := report
		r.GPUUUID, r.MemoryBytes = "GPU-2", 1
		reportState(t, tr, r)
		if p := mustModel(t, tr, "llama").Placements[0]; p.GPUUUID != "GPU-2" || p.MemoryBytes != 1 {
			t.Errorf("GPU %q, memory %d; want GPU-2, 1", p.GPUUUID, p.MemoryBytes)
		}
	})
}

func TestReportStateRejects(t *testing.T) {
	ok := metrics.StateReport{Gateway: "gw", Model: "m", State: metrics.StateLoaded}
	with := func(f func(*metrics.StateReport)) metrics.StateReport { r := ok; f(&r); return r }
	tests := []struct {
		name   string
		report metrics.StateReport
		want   []metrics.FieldViolation
	}{
		{"missing names", with(func(r *metrics.StateReport) { r.Gateway, r.Model = "", "" }),
			[]metrics.FieldViolation{{Field: "gateway_id", Description: "required"}, {Field: "model_name", Description: "required"}}},
		{"an oversized GPU UUID", with(func(r *metrics.StateReport) { r.GPUUUID = strings.Repeat("x", 300) }),
			[]metrics.FieldViolation{{Field: "gpu_uuid", Description: "is 300 bytes long; at most 256 bytes are allowed"}}},
		{"no state", with(func(r *metrics.StateReport) { r.State = metrics.StateUnknown }),
			[]metrics.FieldViolation{{Field: "state", Description: "required: one of loading, loaded, unloading, unloaded, failed"}}},
		{"a state out of range", with(func(r *metrics.StateReport) { r.State = 9 }),
			[]metrics.FieldViolation{{Field: "state", Description: "required: one of loading, loaded, unloading, unloaded, failed"}}},
		{"negative memory", with(func(r *metrics.StateReport) { r.MemoryBytes = -1 }),
			[]metrics.FieldViolation{{Field: "memory_bytes", Description: "negative"}}},
		{"a time in the future", with(func(r *metrics.StateReport) { r.Time = at(time.Minute) }),
			[]metrics.FieldViolation{{Field: "observed_time", Description: "1m0s in the future (allowed clock skew 5s)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := newTracker(t, metrics.Config{})
			_, err := tr.ReportState(tt.report)
			var ve *metrics.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, metrics.ErrInvalid) {
				t.Fatalf("error %v; want a *ValidationError", err)
			}
			if !slices.Equal(ve.Violations, tt.want) {
				t.Errorf("violations %v; want %v", ve.Violations, tt.want)
			}
			if len(tr.Models("")) != 0 {
				t.Error("a rejected report changed the tracker")
			}
		})
	}
}

func TestModelsByGateway(t *testing.T) {
	tr, c := newTracker(t, metrics.Config{})
	loaded(t, tr, c, "gw-b", "zephyr", 0)
	loaded(t, tr, c, "gw-a", "zephyr", 0)
	loaded(t, tr, c, "gw-a", "bert", 0)
	reportTraffic(t, tr, "gw-b", sample("mistral", 0, 0, 1))

	names := func(vs []metrics.ModelView) (out []string) {
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}
	tests := []struct {
		name    string
		gateway string
		want    []string
	}{
		{"all models, sorted by name", "", []string{"bert", "mistral", "zephyr"}},
		{"a gateway's models, by state or traffic", "gw-b", []string{"mistral", "zephyr"}},
		{"an unknown gateway has none", "gw-x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(tr.Models(tt.gateway)); !slices.Equal(got, tt.want) {
				t.Errorf("Models(%q) = %v; want %v", tt.gateway, got, tt.want)
			}
		})
	}
	t.Run("placements are sorted by gateway; traffic alone leaves the state unknown", func(t *testing.T) {
		var got []string
		for _, name := range []string{"zephyr", "mistral"} {
			for _, p := range mustModel(t, tr, name).Placements {
				got = append(got, name+"@"+p.Gateway+"="+p.State.String())
			}
		}
		if want := []string{"zephyr@gw-a=loaded", "zephyr@gw-b=loaded", "mistral@gw-b=unknown"}; !slices.Equal(got, want) {
			t.Errorf("placements %v; want %v", got, want)
		}
	})
}

func TestStatesOutsideTheEnum(t *testing.T) {
	// A State converted from a newer wire enum value must be refused or named "invalid", never
	// index past the tables.
	for _, s := range []metrics.State{metrics.StateFailed + 1, 255} {
		if metrics.ExpectedTransition(s, metrics.StateLoading) {
			t.Errorf("ExpectedTransition(%d, loading) = true; want false for a state outside the enum", s)
		}
		if metrics.ExpectedTransition(metrics.StateLoaded, s) {
			t.Errorf("ExpectedTransition(loaded, %d) = true; want false", s)
		}
		if got := s.String(); got != "invalid" {
			t.Errorf("State(%d).String() = %q; want invalid", s, got)
		}
	}
	if got := metrics.StateFailed.String(); got != "failed" {
		t.Errorf("StateFailed.String() = %q; want failed", got)
	}
	if !metrics.ExpectedTransition(metrics.StateFailed, metrics.StateFailed) {
		t.Error("the last state of the enum re-reported must be expected")
	}
}
