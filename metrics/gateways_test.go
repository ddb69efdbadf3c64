package metrics_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

// placementsOf is model -> state on one gateway, from Models(gateway).
func placementsOf(tr *metrics.Tracker, gateway string) map[string]metrics.State {
	out := map[string]metrics.State{}
	for _, v := range tr.Models(gateway) {
		for _, p := range v.Placements {
			if p.Gateway == gateway {
				out[v.Name] = p.State
			}
		}
	}
	return out
}

func gm(model string, s metrics.State) metrics.GatewayModel {
	return metrics.GatewayModel{Model: model, State: s, Runtime: "vllm", GPUUUID: "GPU-1", MemoryBytes: 1 << 30}
}

func TestSyncGatewayReplacesTheGatewaysTruth(t *testing.T) {
	tests := []struct {
		name    string
		before  []metrics.StateReport // gateway "g" unless said
		traffic []string              // models with traffic from "g"
		sync    []metrics.GatewayModel
		want    metrics.SyncResult
		after   map[string]metrics.State // on "g"
	}{
		{
			name:  "a first sync adds every model",
			sync:  []metrics.GatewayModel{gm("b", metrics.StateLoaded), gm("a", metrics.StateLoading)},
			want:  metrics.SyncResult{Added: []string{"a", "b"}},
			after: map[string]metrics.State{"a": metrics.StateLoading, "b": metrics.StateLoaded},
		},
		{
			name: "models the gateway no longer lists are dropped",
			before: []metrics.StateReport{
				{Gateway: "g", Model: "a", State: metrics.StateLoaded, Runtime: "vllm", GPUUUID: "GPU-1", MemoryBytes: 1 << 30},
				{Gateway: "g", Model: "b", State: metrics.StateLoaded},
			},
			sync:  []metrics.GatewayModel{gm("a", metrics.StateLoaded)},
			want:  metrics.SyncResult{Removed: []string{"b"}},
			after: map[string]metrics.State{"a": metrics.StateLoaded},
		},
		{
			name: "a different state, runtime, GPU or memory is a change",
			before: []metrics.StateReport{
				{Gateway: "g", Model: "state", State: metrics.StateLoading, Runtime: "vllm", GPUUUID: "GPU-1", MemoryBytes: 1 << 30},
				{Gateway: "g", Model: "runtime", State: metrics.StateLoaded, Runtime: "ray", GPUUUID: "GPU-1", MemoryBytes: 1 << 30},
				{Gateway: "g", Model: "gpu", State: metrics.StateLoaded, Runtime: "vllm", GPUUUID: "GPU-2", MemoryBytes: 1 << 30},
				{Gateway: "g", Model: "memory", State: metrics.StateLoaded, Runtime: "vllm", GPUUUID: "GPU-1", MemoryBytes: 1},
				{Gateway: "g", Model: "same", State: metrics.StateLoaded, Runtime: "vllm", GPUUUID: "GPU-1", MemoryBytes: 1 << 30},
			},
			sync: []metrics.GatewayModel{gm("state", metrics.StateLoaded), gm("runtime", metrics.StateLoaded),
				gm("gpu", metrics.StateLoaded), gm("memory", metrics.StateLoaded), gm("same", metrics.StateLoaded)},
			want: metrics.SyncResult{Changed: []string{"gpu", "memory", "runtime", "state"}},
			after: map[string]metrics.State{"state": metrics.StateLoaded, "runtime": metrics.StateLoaded,
				"gpu": metrics.StateLoaded, "memory": metrics.StateLoaded, "same": metrics.StateLoaded},
		},
		{
			name:    "a model known by traffic alone is added by its first state",
			traffic: []string{"a"},
			sync:    []metrics.GatewayModel{gm("a", metrics.StateLoaded)},
			want:    metrics.SyncResult{Added: []string{"a"}},
			after:   map[string]metrics.State{"a": metrics.StateLoaded},
		},
		{
			name:    "an empty sync forgets all of the gateway's models, traffic-only ones too",
			before:  []metrics.StateReport{{Gateway: "g", Model: "a", State: metrics.StateLoaded}},
			traffic: []string{"b"},
			want:    metrics.SyncResult{Removed: []string{"a", "b"}},
			after:   map[string]metrics.State{},
		},
		{
			name: "another gateway's placements are left alone",
			before: []metrics.StateReport{
				{Gateway: "other", Model: "a", State: metrics.StateLoaded},
				{Gateway: "g", Model: "a", State: metrics.StateLoaded},
			},
			want:  metrics.SyncResult{Removed: []string{"a"}},
			after: map[string]metrics.State{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, c := newTracker(t, metrics.Config{})
			for _, r := range tt.before {
				reportState(t, tr, r)
			}
			for _, m := range tt.traffic {
				reportTraffic(t, tr, "g", sample(m, 0, 0, 1))
			}
			c.Add(time.Minute)
			got, err := tr.SyncGateway("g", tt.sync)
			if err != nil {
				t.Fatalf("SyncGateway: %v", err)
			}
			if !slices.Equal(got.Added, tt.want.Added) || !slices.Equal(got.Changed, tt.want.Changed) || !slices.Equal(got.Removed, tt.want.Removed) {
				t.Errorf("SyncGateway = %+v; want %+v", got, tt.want)
			}
			after := placementsOf(tr, "g")
			if len(after) != len(tt.after) {
				t.Errorf("after the sync the gateway has %v; want %v", after, tt.after)
			}
			for m, s := range tt.after {
				if after[m] != s {
					t.Errorf("after the sync %q is %v on the gateway; want %v", m, after[m], s)
				}
			}
			for _, r := range tt.before {
				if r.Gateway != "g" {
					if placementsOf(tr, r.Gateway)[r.Model] != r.State {
						t.Errorf("gateway %q lost %q", r.Gateway, r.Model)
					}
				}
			}
			if !tr.Synced("g") {
				t.Error("Synced(g) = false after a sync")
			}
		})
	}
}

func TestSyncGatewayDropsModelsNoGatewayHolds(t *testing.T) {
	tr, _ := newTracker(t, metrics.Config{})
	reportState(t, tr, metrics.StateReport{Gateway: "g", Model: "gone", State: metrics.StateLoaded})
	reportState(t, tr, metrics.StateReport{Gateway: "g", Model: "kept", State: metrics.StateLoaded})
	if _, err := tr.SyncGateway("g", []metrics.GatewayModel{gm("kept", metrics.StateLoaded)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Model("gone"); ok {
		t.Error(`Model("gone") is still tracked; no gateway holds it`)
	}
	if got := len(tr.Models("")); got != 1 {
		t.Errorf("Models() has %d models; want 1", got)
	}
	if got := tr.AppendLoaded(nil, time.Time{}); len(got) != 1 || got[0].Model != "kept" {
		t.Errorf("AppendLoaded = %+v; want only kept", got)
	}
}

func TestSyncGatewayRejectsBadSyncsAndChangesNothing(t *testing.T) {
	tests := []struct {
		name   string
		models []metrics.GatewayModel
		field  string
	}{
		{"a model without a name", []metrics.GatewayModel{gm("", metrics.StateLoaded)}, "models[0].model_name"},
		{"a model listed twice", []metrics.GatewayModel{gm("a", metrics.StateLoaded), gm("a", metrics.StateLoading)}, "models[1].model_name"},
		{"a model without a state", []metrics.GatewayModel{gm("a", metrics.StateUnknown)}, "models[0].state"},
		{"negative memory", []metrics.GatewayModel{{Model: "a", State: metrics.StateLoaded, MemoryBytes: -1}}, "models[0].memory_bytes"},
		{"an oversized runtime", []metrics.GatewayModel{{Model: "a", State: metrics.StateLoaded, Runtime: strings.Repeat("r", metrics.MaxNameBytes+1)}}, "models[0].runtime"},
		{"more models than the limit", make([]metrics.GatewayModel, metrics.MaxSyncModels+1), "models"},
		{"models beyond the model cap", []metrics.GatewayModel{gm("a", metrics.StateLoaded), gm("b", metrics.StateLoaded), gm("c", metrics.StateLoaded)}, "models"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := newTracker(t, metrics.Config{MaxModels: 2})
			reportState(t, tr, metrics.StateReport{Gateway: "g", Model: "before", State: metrics.StateLoaded})
			_, err := tr.SyncGateway("g", tt.models)
			var ve *metrics.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("SyncGateway err = %v; want a *ValidationError", err)
			}
			if !slices.ContainsFunc(ve.Violations, func(v metrics.FieldViolation) bool { return v.Field == tt.field }) {
				t.Errorf("violations %+v do not name %s", ve.Violations, tt.field)
			}
			if got := placementsOf(tr, "g"); len(got) != 1 || got["before"] != metrics.StateLoaded {
				t.Errorf("after a rejected sync the gateway has %v; want it unchanged", got)
			}
			if tr.Synced("g") {
				t.Error("Synced(g) = true after a rejected sync")
			}
		})
	}
}

func TestSyncGatewayRespectsTheGatewayCap(t *testing.T) {
	tr, _ := newTracker(t, metrics.Config{MaxGateways: 1})
	if _, err := tr.SyncGateway("g1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SyncGateway("g2", nil); !errors.Is(err, metrics.ErrInvalid) {
		t.Errorf("a second gateway's sync beyond the cap: err = %v; want ErrInvalid", err)
	}
}

func TestForgetGateways(t *testing.T) {
	tr, c := newTracker(t, metrics.Config{MaxGateways: 3})
	reportState(t, tr, metrics.StateReport{Gateway: "old", Model: "shared", State: metrics.StateLoaded})
	reportState(t, tr, metrics.StateReport{Gateway: "old", Model: "only-old", State: metrics.StateLoaded})
	reportState(t, tr, metrics.StateReport{Gateway: "watching", Model: "w", State: metrics.StateLoaded})
	c.Add(5 * time.Minute)
	reportState(t, tr, metrics.StateReport{Gateway: "fresh", Model: "shared", State: metrics.StateLoaded})
	reportTraffic(t, tr, "fresh", sample("shared", 0, 5*time.Minute, 1))

	keep := func(g string) bool { return g == "watching" }
	if got := tr.ForgetGateways(c.Now().Add(-time.Minute), keep); !slices.Equal(got, []string{"old"}) {
		t.Fatalf("ForgetGateways = %v; want [old] (watching has an open stream, fresh reported since)", got)
	}
	if _, ok := tr.Model("only-old"); ok {
		t.Error("only-old, held by the forgotten gateway alone, is still tracked")
	}
	if got := placementsOf(tr, "old"); len(got) != 0 {
		t.Errorf("the forgotten gateway still has %v", got)
	}
	if got := placementsOf(tr, "fresh"); got["shared"] != metrics.StateLoaded {
		t.Errorf("fresh lost shared: %v", got)
	}
	if tr.Gateways() != 2 || tr.GatewaysForgotten() != 1 {
		t.Errorf("Gateways() = %d, GatewaysForgotten() = %d; want 2, 1", tr.Gateways(), tr.GatewaysForgotten())
	}
	if tr.Synced("old") {
		t.Error("a forgotten gateway still counts as synced")
	}
	// The forgotten gateway's slot is free again: a new id fits under the cap of 3.
	if _, err := tr.SyncGateway("rotated", nil); err != nil {
		t.Errorf("a new gateway after one was forgotten: %v", err)
	}
	// KeepAlive refreshes a known gateway and does not make an unknown one known.
	c.Add(time.Hour)
	tr.KeepAlive("fresh")
	tr.KeepAlive("stranger")
	if got := tr.ForgetGateways(c.Now().Add(-time.Minute), nil); !slices.Equal(got, []string{"rotated", "watching"}) {
		t.Errorf("ForgetGateways after an hour = %v; want [rotated watching] (fresh kept alive)", got)
	}
	if tr.Gateways() != 1 {
		t.Errorf("Gateways() = %d; want 1 (KeepAlive of an unknown gateway must not know it)", tr.Gateways())
	}
}

// A sync's bounds, each at its edge: exactly MaxSyncModels models, a cap reached exactly by the
// sync's new models, and a memory_bytes of 0 are accepted; one more, or a negative size, are not.
func TestSyncGatewayBoundsAtTheirEdges(t *testing.T) {
	models := func(n int) []metrics.GatewayModel {
		out := make([]metrics.GatewayModel, n)
		for i := range out {
			out[i] = gm("m"+strconv.Itoa(i), metrics.StateLoaded)
		}
		return out
	}
	tests := []struct {
		name      string
		maxModels int
		sync      []metrics.GatewayModel
		wantErr   bool
	}{
		{"exactly the most models a sync may list", 0, models(metrics.MaxSyncModels), false},
		{"one more than a sync may list", 0, models(metrics.MaxSyncModels + 1), true},
		{"new models that fill the model cap exactly", 3, models(3), false},
		{"new models one past the model cap", 3, models(4), true},
		{"a model of 0 bytes", 0, []metrics.GatewayModel{{Model: "m", State: metrics.StateLoaded, MemoryBytes: 0}}, false},
		{"a model of -1 bytes", 0, []metrics.GatewayModel{{Model: "m", State: metrics.StateLoaded, MemoryBytes: -1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := newTracker(t, metrics.Config{MaxModels: tt.maxModels})
			_, err := tr.SyncGateway("g", tt.sync)
			if tt.wantErr != (err != nil) || err != nil && !errors.Is(err, metrics.ErrInvalid) {
				t.Fatalf("SyncGateway of %d models: err = %v, want an ErrInvalid: %v", len(tt.sync), err, tt.wantErr)
			}
			if want := map[bool]int{false: len(tt.sync), true: 0}[tt.wantErr]; len(placementsOf(tr, "g")) != want {
				t.Errorf("%d placements on g, want %d", len(placementsOf(tr, "g")), want)
			}
		})
	}
}

// A gateway last seen exactly at the cut-off is kept; one seen a nanosecond before it is forgotten.
func TestForgetGatewaysKeepsOneSeenAtTheCutoff(t *testing.T) {
	tr, c := newTracker(t, metrics.Config{})
	reportState(t, tr, metrics.StateReport{Gateway: "before", Model: "a", State: metrics.StateLoaded})
	c.Add(time.Nanosecond)
	cutoff := c.Now()
	reportState(t, tr, metrics.StateReport{Gateway: "at", Model: "b", State: metrics.StateLoaded})
	c.Add(time.Minute)
	if got := tr.ForgetGateways(cutoff, nil); !slices.Equal(got, []string{"before"}) {
		t.Errorf("ForgetGateways(cut-off) = %v; want [before] (at was seen exactly at the cut-off)", got)
	}
}
