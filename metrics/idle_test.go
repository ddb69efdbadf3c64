package metrics_test

import (
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
)

func TestIdleSeconds(t *testing.T) {
	const s = time.Second
	state := func(st metrics.State, d time.Duration) func(*testing.T, *metrics.Tracker, *fakeClock) {
		return func(t *testing.T, tr *metrics.Tracker, c *fakeClock) {
			c.Set(d)
			reportState(t, tr, metrics.StateReport{Gateway: "gw", Model: "m", State: st})
		}
	}
	traffic := func(end time.Duration, n int64) func(*testing.T, *metrics.Tracker, *fakeClock) {
		return func(t *testing.T, tr *metrics.Tracker, c *fakeClock) {
			c.Set(end)
			reportTraffic(t, tr, "gw", sample("m", end-10*s, end, n))
		}
	}
	tests := []struct {
		name  string
		start time.Duration // the brain's start, after t0
		steps []func(*testing.T, *metrics.Tracker, *fakeClock)
		now   time.Duration
		want  float64
	}{
		{"a model never requested is idle since its load", 0,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){state(metrics.StateLoading, 5*s), state(metrics.StateLoaded, 10*s)},
			400 * s, 390},
		{"a requested model is idle since its last request", 0,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){state(metrics.StateLoaded, 10*s), traffic(100*s, 3)},
			400 * s, 300},
		{"samples without requests do not reset idle time", 0,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){state(metrics.StateLoaded, 10*s), traffic(100*s, 3), traffic(200*s, 0)},
			400 * s, 300},
		{"a reload counts from the new load, not the older request", 0,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){
				state(metrics.StateLoaded, 10*s), traffic(50*s, 1), state(metrics.StateUnloading, 60*s),
				state(metrics.StateUnloaded, 70*s), state(metrics.StateLoading, 190*s), state(metrics.StateLoaded, 200*s)},
			400 * s, 200},
		{"a model loaded before a brain restart is idle no longer than the brain's uptime", 1000 * s,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){func(t *testing.T, tr *metrics.Tracker, c *fakeClock) {
				c.Set(1010 * s)
				reportState(t, tr, metrics.StateReport{Gateway: "gw", Model: "m", State: metrics.StateLoaded, Time: at(0)})
			}},
			1100 * s, 100},
		{"a model loaded after the restart counts from its load", 1000 * s,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){state(metrics.StateLoaded, 1050*s)},
			1100 * s, 50},
		{"a model seen only in traffic without requests is idle since it was first reported", 0,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){traffic(100*s, 0)},
			400 * s, 300},
		{"idle time is never negative", 0,
			[]func(*testing.T, *metrics.Tracker, *fakeClock){traffic(100*s, 1)},
			90 * s, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: at(tt.start)}
			tr := metrics.NewTracker(metrics.Config{Now: c.Now})
			for _, step := range tt.steps {
				step(t, tr, c)
			}
			c.Set(tt.now)
			if got := mustModel(t, tr, "m").IdleSeconds; got != tt.want {
				t.Errorf("model IdleSeconds = %v; want %v", got, tt.want)
			}
			for _, l := range tr.AppendLoaded(nil, time.Time{}) {
				if l.IdleSeconds != tt.want {
					t.Errorf("AppendLoaded IdleSeconds = %v; want %v", l.IdleSeconds, tt.want)
				}
			}
		})
	}
}

func TestIdleIsPerGatewayForTheEvaluator(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{})
	loaded(t, tr, c, "gw-a", "m", 0)
	loaded(t, tr, c, "gw-b", "m", 0)
	c.Set(300 * s)
	reportTraffic(t, tr, "gw-a", sample("m", 290*s, 300*s, 60))
	c.Set(400 * s)
	got := map[string]metrics.LoadedModel{}
	for _, l := range tr.AppendLoaded(nil, time.Time{}) {
		got[l.Gateway] = l
	}
	// The model's QPS is over all gateways; idle time is each copy's own.
	if a, b := got["gw-a"], got["gw-b"]; a.IdleSeconds != 100 || b.IdleSeconds != 400 || a.QPS != 0 || b.QPS != 0 {
		t.Errorf("gw-a idle %v QPS %v, gw-b idle %v QPS %v; want 100 0, 400 0", a.IdleSeconds, a.QPS, b.IdleSeconds, b.QPS)
	}
	if v := mustModel(t, tr, "m"); v.IdleSeconds != 100 || v.QPS5m != 60.0/300 {
		t.Errorf("model idle %v, QPS5m %v; want 100, 0.2", v.IdleSeconds, v.QPS5m)
	}
}

// AppendUnloaded lists the UNLOADED pairs with history, with where they were last LOADED (an
// UNLOADED report may name no GPU), and allocates nothing when its result is passed back.
func TestAppendUnloaded(t *testing.T) {
	const s = time.Second
	tr, c := newTracker(t, metrics.Config{})
	report := func(gw, model, gpu string, st metrics.State) {
		reportState(t, tr, metrics.StateReport{Gateway: gw, Model: model, Runtime: "vllm", GPUUUID: gpu, State: st, MemoryBytes: 7})
	}
	report("gw-a", "was-loaded", "GPU-1", metrics.StateLoaded)
	c.Set(100 * s)
	report("gw-a", "was-loaded", "", metrics.StateUnloaded)
	report("gw-a", "never-loaded", "", metrics.StateUnloaded) // no history
	report("gw-a", "requested", "", metrics.StateUnloaded)
	reportTraffic(t, tr, "gw-a", sample("requested", 90*s, 100*s, 2)) // history: a request
	report("gw-a", "loaded", "GPU-2", metrics.StateLoaded)            // not UNLOADED
	report("gw-b", "was-loaded", "GPU-3", metrics.StateLoading)       // not UNLOADED on gw-b
	c.Set(130 * s)
	got := map[string]metrics.UnloadedModel{}
	list := tr.AppendUnloaded(nil, time.Time{})
	for _, u := range list {
		got[u.Gateway+"/"+u.Model] = u
	}
	if len(got) != 2 {
		t.Fatalf("unloaded pairs %+v, want gw-a/was-loaded and gw-a/requested", got)
	}
	if u := got["gw-a/was-loaded"]; u.GPUUUID != "GPU-1" || u.Runtime != "vllm" || u.MemoryBytes != 7 || u.IdleSeconds != 130 || !u.UnloadedTime.Equal(at(100*s)) || !u.LastRequest.IsZero() {
		t.Errorf("was-loaded: %+v, want its last GPU, runtime and memory, idle 130 s since its load, unloaded at 100 s", u)
	}
	if u := got["gw-a/was-loaded"]; u.QPS != 0 {
		t.Errorf("was-loaded: QPS %v; want 0 (no requests)", u.QPS)
	}
	if u := got["gw-a/requested"]; u.GPUUUID != "" || !u.LastRequest.Equal(at(100*s)) || u.IdleSeconds != 30 || u.QPS != 2.0/60 {
		t.Errorf("requested: %+v, want no GPU, last request at 100 s, idle 30 s, QPS of its requests in the last minute", u)
	}
	if a := testing.AllocsPerRun(10, func() { list = tr.AppendUnloaded(list[:0], time.Time{}) }); a != 0 {
		t.Errorf("AppendUnloaded into its own result allocates %v times", a)
	}
}
