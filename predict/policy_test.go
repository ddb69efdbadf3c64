package predict_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/rules"
)

// t0 is a minute boundary; minute(k) is k minutes after it.
var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// gw is the gateway of the tests' models.
const gw = "gw-1"

func minute(k int) time.Time { return t0.Add(time.Duration(k) * time.Minute) }

// periodic returns a policy that saw model "timer" busy every period minutes, n times from minute 0.
func periodic(t *testing.T, period, n int) *predict.Policy {
	t.Helper()
	p, err := predict.New(predict.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// Several observations a minute, as cycles every 10 s would make them.
		p.Observe(predict.Key{Gateway: gw, Model: "timer"}, minute(i*period).Add(59*time.Second))
		p.Observe(predict.Key{Gateway: gw, Model: "timer"}, minute(i*period).Add(59*time.Second))
	}
	return p
}

func TestDecisions(t *testing.T) {
	fixed, err := rules.NewUnloadPolicy(rules.UnloadPolicy{
		EvictAfterIdle: 5 * time.Minute, MinQPS: 0.1,
		AlwaysLoaded: []string{"timer-pinned"},
		KeepAlive:    map[string]rules.KeepAlive{"timer-kept": {After: 30 * time.Minute}},
	})
	if err != nil {
		t.Fatal(err)
	}
	trained := periodic(t, 10, 12) // busy at 0, 10, ..., 110
	for _, name := range []string{"timer-pinned", "timer-kept", "timer-busy"} {
		for i := range 12 {
			trained.Observe(predict.Key{Gateway: gw, Model: name}, minute(i*10).Add(59*time.Second))
		}
	}
	last := 110
	fresh := periodic(t, 10, 2) // one gap: too little history
	for _, tc := range []struct {
		name       string
		p          *predict.Policy
		loaded     bool
		in         rules.UnloadInput
		now        time.Time
		wantRule   string
		wantAction bool
		wantExp    time.Time
	}{
		{name: "a periodic model is unloaded right after its request", p: trained, loaded: true,
			in: rules.UnloadInput{Model: "timer", IdleSeconds: 61}, now: minute(last + 1),
			wantRule: predict.RulePredictedIdle, wantAction: true, wantExp: minute(last + 10)},
		{name: "a loaded periodic model is not kept two minutes before its request (a reload is cheaper)", p: trained, loaded: true,
			in: rules.UnloadInput{Model: "timer", IdleSeconds: 481}, now: minute(last + 8),
			wantRule: predict.RulePredictedIdle, wantAction: true, wantExp: minute(last + 10)},
		{name: "a loaded periodic model stays through the minute its request is expected in", p: trained, loaded: true,
			in: rules.UnloadInput{Model: "timer", IdleSeconds: 541}, now: minute(last + 10),
			wantRule: predict.RuleExpectedSoon, wantAction: false, wantExp: minute(last + 10)},
		{name: "an unloaded periodic model is pre-warmed the minute before its request", p: trained,
			in: rules.UnloadInput{Model: "timer"}, now: minute(last + 9),
			wantRule: predict.RulePrewarm, wantAction: true, wantExp: minute(last + 10)},
		{name: "an unloaded periodic model is not pre-warmed two minutes before", p: trained,
			in: rules.UnloadInput{Model: "timer"}, now: minute(last + 8),
			wantRule: predict.RuleNotExpected, wantAction: false, wantExp: minute(last + 10)},
		{name: "an unloaded model never seen is not pre-warmed", p: trained,
			in: rules.UnloadInput{Model: "other"}, now: minute(last + 9),
			wantRule: predict.RuleNotExpected, wantAction: false},
		{name: "an unloaded model with too little history is not pre-warmed", p: fresh,
			in: rules.UnloadInput{Model: "timer"}, now: minute(19),
			wantRule: predict.RuleNotExpected, wantAction: false},
		{name: "a pinned model stays loaded whatever the prediction", p: trained, loaded: true,
			in: rules.UnloadInput{Model: "timer-pinned", IdleSeconds: 61}, now: minute(last + 1),
			wantRule: rules.UnloadRulePinned, wantAction: false},
		{name: "a per-model keep_alive wins over the prediction", p: trained, loaded: true,
			in: rules.UnloadInput{Model: "timer-kept", IdleSeconds: 61}, now: minute(last + 1),
			wantRule: rules.UnloadRuleRecentlyUsed, wantAction: false},
		{name: "requests in flight keep a model the prediction would unload", p: trained, loaded: true,
			in: rules.UnloadInput{Model: "timer-busy", IdleSeconds: 61, InFlight: 2}, now: minute(last + 1),
			wantRule: rules.UnloadRuleInFlight, wantAction: false},
		{name: "with too little history a loaded model follows the fixed keep-alive (kept)", p: fresh, loaded: true,
			in: rules.UnloadInput{Model: "timer", IdleSeconds: 240}, now: minute(14),
			wantRule: rules.UnloadRuleRecentlyUsed, wantAction: false},
		{name: "with too little history a loaded model follows the fixed keep-alive (unloaded)", p: fresh, loaded: true,
			in: rules.UnloadInput{Model: "timer", IdleSeconds: 360}, now: minute(16),
			wantRule: rules.UnloadRuleIdle, wantAction: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d predict.Decision
			if tc.loaded {
				d = tc.p.ShouldUnload(fixed, gw, tc.in, tc.now.Add(10*time.Second))
			} else {
				d = tc.p.ShouldLoad(gw, tc.in.Model, tc.now.Add(10*time.Second))
			}
			action := d.Unload || d.Load
			if d.Rule != tc.wantRule || action != tc.wantAction || d.Unload && !tc.loaded || d.Load && tc.loaded {
				t.Errorf("got rule %s unload %v load %v, want rule %s action %v (%s)", d.Rule, d.Unload, d.Load, tc.wantRule, tc.wantAction, d.Reason())
			}
			if !d.ExpectedTime().Equal(tc.wantExp) {
				t.Errorf("expected next request at %v, want %v (%s)", d.ExpectedTime(), tc.wantExp, d.Reason())
			}
			if r := d.Reason(); !strings.Contains(r, tc.in.Model) {
				t.Errorf("reason %q does not name the model", r)
			}
		})
	}
}

func TestReasonCarriesTheNumbers(t *testing.T) {
	p := periodic(t, 10, 12)
	d := p.ShouldLoad(gw, "timer", minute(119).Add(10*time.Second))
	want := `"timer": a request is expected in minute 2026-11-29T14:00Z with probability 0.69, at least 0.09 (from 11 gaps), so it should be loaded now (pre-warm)`
	if got := d.Reason(); got != want {
		t.Errorf("reason\n got %s\nwant %s", got, want)
	}
	d = p.ShouldUnload(rules.DefaultUnloadPolicy(), gw, rules.UnloadInput{Model: "timer", IdleSeconds: 61}, minute(111))
	want = `"timer": no request is expected in minute 2026-11-29T13:52Z with probability at least 0.09 (from 11 gaps); the next likely one is in minute 2026-11-29T14:00Z (probability 0.69), so it should be unloaded`
	if got := d.Reason(); got != want {
		t.Errorf("reason\n got %s\nwant %s", got, want)
	}
}

func TestConfigRejectsBadKnobs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  predict.Config
	}{
		{"probability above 1", predict.Config{MinProbability: 1.5}},
		{"negative probability", predict.Config{MinProbability: -0.1}},
		{"negative min history", predict.Config{MinHistory: -1}},
		{"step shorter than a second", predict.Config{Step: 500 * time.Millisecond}},
		{"step of a fraction of a second", predict.Config{Step: 1500 * time.Millisecond}},
		{"step longer than a minute", predict.Config{Step: 2 * time.Minute}},
		{"negative step", predict.Config{Step: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := predict.New(tc.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	p, err := predict.New(predict.Config{})
	if err != nil || p.Config() != predict.DefaultConfig() {
		t.Errorf("zero config: %v %+v, want the defaults %+v", err, p.Config(), predict.DefaultConfig())
	}
}

func TestDecisionsDoNotAllocate(t *testing.T) {
	p := periodic(t, 10, 12)
	fixed := rules.DefaultUnloadPolicy()
	in := rules.UnloadInput{Model: "timer", IdleSeconds: 61}
	now := minute(111)
	if n := testing.AllocsPerRun(100, func() { p.ShouldUnload(fixed, gw, in, now) }); n != 0 {
		t.Errorf("ShouldUnload: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.ShouldLoad(gw, "timer", now) }); n != 0 {
		t.Errorf("ShouldLoad: %v allocations", n)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	if n := unsafe.Sizeof(predict.History{}); n > 2048 {
		t.Errorf("a history is %d bytes, more than 2 KiB", n)
	}
	// A model busy every minute for a month saturates no counter into wrong answers: it stays
	// expected the next minute.
	p, _ := predict.New(predict.Config{})
	for i := range 31 * 24 * 60 {
		p.Observe(predict.Key{Gateway: gw, Model: "hot"}, minute(i))
	}
	if d := p.ShouldUnload(rules.DefaultUnloadPolicy(), gw, rules.UnloadInput{Model: "hot", IdleSeconds: 1}, minute(31*24*60)); d.Rule != predict.RuleExpectedSoon {
		t.Errorf("a model busy every minute: %s (%s)", d.Rule, d.Reason())
	}
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.bin")
	p := periodic(t, 10, 12)
	p.Observe(predict.Key{Gateway: gw, Model: "other"}, minute(3))
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a restored policy decides as the saved one", func(t *testing.T) {
		q, _ := predict.New(predict.Config{})
		found, err := q.ReadFile(path)
		if !found || err != nil {
			t.Fatalf("found %v, err %v", found, err)
		}
		if q.Len() != 2 {
			t.Errorf("%d models restored, want 2", q.Len())
		}
		a, b := p.ShouldLoad(gw, "timer", minute(119)), q.ShouldLoad(gw, "timer", minute(119))
		if a != b {
			t.Errorf("restored decision %+v, want %+v", b, a)
		}
		again, _ := q.MarshalBinary()
		if string(again) != string(good) {
			t.Error("writing the restored state gives other bytes")
		}
	})
	t.Run("a missing file starts empty without error", func(t *testing.T) {
		q, _ := predict.New(predict.Config{})
		found, err := q.ReadFile(filepath.Join(dir, "missing"))
		if found || err != nil || q.Len() != 0 {
			t.Errorf("found %v, err %v, %d models", found, err, q.Len())
		}
	})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"a truncated file is refused", good[:len(good)/2]},
		{"a file cut in its header is refused", good[:10]},
		{"a file missing its checksum is refused", good[:len(good)-4]},
		{"a foreign file is refused", []byte("models:\n  - llama\n")},
		{"an empty file is refused", nil},
		{"a corrupt byte is refused", func() []byte { b := append([]byte(nil), good...); b[len(b)/2] ^= 0xff; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(dir, "bad")
			if err := os.WriteFile(bad, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			q := periodic(t, 10, 3)
			_, err := q.ReadFile(bad)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), bad) {
				t.Errorf("error %q does not name the file", err)
			}
			if q.Len() != 1 {
				t.Errorf("a refused file changed the policy: %d models", q.Len())
			}
		})
	}
	t.Run("writing leaves no temporary file", func(t *testing.T) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("left %s", e.Name())
			}
		}
	})
}

// TestConcurrentUse: the evaluation cycle and ShouldUnload calls decide while observations and a
// state file write run beside them (run with -race).
func TestConcurrentUse(t *testing.T) {
	p, _ := predict.New(predict.Config{})
	fixed := rules.DefaultUnloadPolicy()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				model := "m" + strconv.Itoa(i%10)
				in := predict.Input{Gateway: gw, UnloadInput: rules.UnloadInput{Model: model, IdleSeconds: 1}, Loaded: g%2 == 0, LastRequest: minute(i)}
				p.Decide(fixed, in, minute(i))
				if _, err := p.MarshalBinary(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if p.Len() != 10 {
		t.Errorf("%d histories, want 10", p.Len())
	}
}

// A demo step (a "minute" of 2 s) makes the same decisions in seconds that the default step makes
// in minutes: a rhythm every 3 steps is pre-warmed the step before its request, with the expected
// time and the reason to the second.
func TestDemoStepDecidesInSteps(t *testing.T) {
	const step = 2 * time.Second
	p, err := predict.New(predict.Config{Step: step})
	if err != nil {
		t.Fatal(err)
	}
	at := func(k int) time.Time { return t0.Add(time.Duration(k) * step) }
	k := predict.Key{Gateway: gw, Model: "timer"}
	for i := range 6 { // busy at steps 0, 3, ..., 15
		p.Observe(k, at(i*3).Add(time.Second))
	}
	for _, tc := range []struct {
		name     string
		now      int
		wantRule string
		wantLoad bool
	}{
		{"two steps before the request: not yet", 16, predict.RuleNotExpected, false},
		{"the step before the request: pre-warm", 17, predict.RulePrewarm, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.ShouldLoad(gw, "timer", at(tc.now).Add(500*time.Millisecond))
			if d.Rule != tc.wantRule || d.Load != tc.wantLoad {
				t.Errorf("got rule %s load %v, want %s %v (%s)", d.Rule, d.Load, tc.wantRule, tc.wantLoad, d.Reason())
			}
			if !d.ExpectedTime().Equal(at(18)) {
				t.Errorf("expected next request at %v, want %v (%s)", d.ExpectedTime(), at(18), d.Reason())
			}
			if want := "2026-11-29T12:00:36Z"; !strings.Contains(d.Reason(), want) {
				t.Errorf("reason %q does not name the expected step %s", d.Reason(), want)
			}
		})
	}
}
