package predict_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/rules"
)

// busyAt returns a policy (with cfg) that saw model "timer" busy in the given minutes.
func busyAt(t *testing.T, cfg predict.Config, minutes ...int) *predict.Policy {
	t.Helper()
	p, err := predict.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range minutes {
		p.Observe(predict.Key{Gateway: gw, Model: "timer"}, minute(m).Add(30*time.Second))
	}
	return p
}

// NextUse is an expectation over the plan: with two gaps of 10 minutes a timer is expected
// after its next tick (the plan is far from sure of it, so later ticks weigh in), and never
// before the minute after now.
func TestNextUseAtItsEdges(t *testing.T) {
	k := predict.Key{Gateway: gw, Model: "timer"}
	for _, tt := range []struct {
		name     string
		p        *predict.Policy
		now      time.Time
		from, to time.Time // want from <= NextUse < to
	}{
		// Busy at 0, 10, 20: two gaps, exactly MinHistory.
		{"a history of exactly min_history gaps gives an estimate: after the next tick", busyAt(t, predict.Config{}, 0, 10, 20), minute(23), minute(30), minute(60)},
		// Every gap is the horizon itself: nothing is likely before the plan's last minute.
		{"a timer whose period is the whole horizon is expected within its period", busyAt(t, predict.Config{}, 0, 240, 480), minute(580), minute(581), minute(720)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.p.NextUse(k, tt.now)
			if !ok || got.Before(tt.from) || !got.Before(tt.to) {
				t.Errorf("NextUse = %v, %v; want from %v to before %v, true", got, ok, tt.from, tt.to)
			}
		})
	}
}

// The estimate is for the first minute after now's minute with a request: never earlier, not even
// when the model's tick is due in now's minute and has not come yet.
func TestNextUseIsNeverBeforeTheMinuteAfterNow(t *testing.T) {
	timer := periodic(t, 10, 20) // busy at minutes 0, 10, ..., 190
	k := predict.Key{Gateway: gw, Model: "timer"}
	for _, m := range []int{190, 191, 195, 199, 200, 201, 205, 230, 429, 430, 431, 500} {
		now := minute(m).Add(30 * time.Second)
		got, ok := timer.NextUse(k, now)
		if !ok || got.Before(minute(m+1)) {
			t.Errorf("NextUse at minute %d = %v, %v; want a time from %v on", m, got, ok, minute(m+1))
		}
	}
}

func TestMinuteFloorsTimesBeforeTheEpoch(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    int64
		want int64
	}{
		{"the epoch's first second is minute 0", 0, 0},
		{"its last second is still minute 0", 59, 0},
		{"a whole minute after is minute 1", 60, 1},
		{"one second before the epoch is minute -1", -1, -1},
		{"a whole minute before the epoch is minute -1", -60, -1},
		{"a minute and a second before is minute -2", -61, -2},
		{"two whole minutes before is minute -2", -120, -2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := predict.Minute(time.Unix(tt.s, 0)); got != tt.want {
				t.Errorf("Minute(Unix %d s) = %d, want %d", tt.s, got, tt.want)
			}
		})
	}
}

// A time before the Unix epoch is taken as no request, like the zero time: a state file holds no
// earlier minute, so recording one would make the policy's own file unreadable.
func TestARequestBeforeTheEpochIsNoRequest(t *testing.T) {
	k := predict.Key{Gateway: gw, Model: "old"}
	for _, tt := range []struct {
		name    string
		at      time.Time
		wantLen int
	}{
		{"the zero time", time.Time{}, 0},
		{"one second before the epoch", time.Unix(-1, 0), 0},
		{"an hour before the epoch", time.Unix(-3600, 0), 0},
		{"the epoch's first second is a request", time.Unix(0, 0), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := predict.New(predict.Config{})
			p.Observe(k, tt.at)
			p.Decide(rules.DefaultUnloadPolicy(), predict.Input{Gateway: gw, UnloadInput: rules.UnloadInput{Model: "old2"}, LastRequest: tt.at}, time.Unix(120, 0))
			if p.Len() != 2*tt.wantLen {
				t.Errorf("%d histories after Observe and Decide, want %d", p.Len(), 2*tt.wantLen)
			}
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, _ := predict.New(predict.Config{})
			if err := q.UnmarshalBinary(b); err != nil || q.Len() != p.Len() {
				t.Errorf("the policy's own state file: %v, %d histories read back, want %d", err, q.Len(), p.Len())
			}
		})
	}
}

// A request in the minute right after the latest busy one is a new busy minute (a gap of one
// minute), whether it comes through Observe or through Decide.
func TestTheMinuteAfterTheLatestBusyOneIsNewTraffic(t *testing.T) {
	k := predict.Key{Gateway: gw, Model: "timer"}
	fixed := rules.DefaultUnloadPolicy()
	t.Run("through Observe", func(t *testing.T) {
		p, _ := predict.New(predict.Config{})
		for _, m := range []int{5, 6, 7} {
			p.Observe(k, minute(m).Add(10*time.Second))
		}
		if d := p.ShouldLoad(gw, "timer", minute(7).Add(20*time.Second)); d.Gaps != 2 {
			t.Errorf("busy in minutes 5, 6, 7: %d gaps, want 2 (%s)", d.Gaps, d.Reason())
		}
	})
	t.Run("through Decide", func(t *testing.T) {
		p, _ := predict.New(predict.Config{})
		var d predict.Decision
		for _, m := range []int{5, 6, 7} {
			in := predict.Input{Gateway: gw, UnloadInput: rules.UnloadInput{Model: "timer", IdleSeconds: 10}, Loaded: true, LastRequest: minute(m).Add(10 * time.Second)}
			d = p.Decide(fixed, in, minute(m).Add(20*time.Second))
		}
		if d.Gaps != 2 {
			t.Errorf("busy in minutes 5, 6, 7: %d gaps, want 2 (%s)", d.Gaps, d.Reason())
		}
	})
}

// With exactly MinHistory gaps the prediction decides, loaded or not; with one fewer the fixed
// keep-alive (loaded) or "too little history" (not loaded) does.
func TestExactlyMinHistoryGapsArePredicted(t *testing.T) {
	fixed := rules.DefaultUnloadPolicy()
	enough := busyAt(t, predict.Config{}, 0, 10, 20)
	short := busyAt(t, predict.Config{}, 0, 10)
	for _, tt := range []struct {
		name      string
		p         *predict.Policy
		loaded    bool
		now       int
		wantRule  string
		wantAct   bool
		wantFixed bool
		wantWords string
	}{
		{"a loaded model stays the minute after its tick (a tick may come late)", enough, true, 21, predict.RuleExpectedSoon, false, false, "a request is expected in minute 2026-11-29T12:21Z"},
		{"a loaded model is unloaded after that", enough, true, 22, predict.RulePredictedIdle, true, false, "no request is expected in minute 2026-11-29T12:23Z"},
		{"an unloaded model is pre-warmed the minute before its tick", enough, false, 29, predict.RulePrewarm, true, false, "a request is expected in minute 2026-11-29T12:30Z"},
		{"an unloaded model is left while no tick is near", enough, false, 25, predict.RuleNotExpected, false, false, "no request is expected in minute 2026-11-29T12:26Z"},
		{"one gap fewer: a loaded model follows the fixed keep-alive", short, true, 11, rules.UnloadRuleRecentlyUsed, false, true, "(the fixed keep-alive decides: 1 gaps observed, fewer than min_history 2)"},
		{"one gap fewer: an unloaded model is not pre-warmed", short, false, 19, predict.RuleNotExpected, false, false, "has 1 gaps observed, fewer than min_history 2, so it is not pre-warmed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := predict.Input{Gateway: gw, UnloadInput: rules.UnloadInput{Model: "timer", IdleSeconds: 60}, Loaded: tt.loaded}
			d := tt.p.Decide(fixed, in, minute(tt.now).Add(10*time.Second))
			if d.Rule != tt.wantRule || (d.Unload || d.Load) != tt.wantAct || d.ByFixed() != tt.wantFixed || !strings.Contains(d.Reason(), tt.wantWords) {
				t.Errorf("rule %s, act %v, by fixed %v, reason %q; want %s, %v, %v, with %q", d.Rule, d.Unload || d.Load, d.ByFixed(), d.Reason(), tt.wantRule, tt.wantAct, tt.wantFixed, tt.wantWords)
			}
		})
	}
}

// An unloaded model whose tick is late (due this minute, not seen yet) expects its next likely
// minute after the coming one, not the minute already under way.
func TestALateTickExpectsTheNextRhythmMinute(t *testing.T) {
	p := periodic(t, 10, 12) // busy at 0, 10, ..., 110
	d := p.ShouldLoad(gw, "timer", minute(120).Add(10*time.Second))
	want := `"timer": no request is expected in minute 2026-11-29T14:01Z with probability at least 0.09 (from 11 gaps); the next likely one is in minute 2026-11-29T14:10Z (probability 0.32), so it stays unloaded`
	if d.Rule != predict.RuleNotExpected || !d.ExpectedTime().Equal(minute(130)) || d.Reason() != want {
		t.Errorf("rule %s, expected %v, reason\n got %s\nwant %s", d.Rule, d.ExpectedTime(), d.Reason(), want)
	}
}

// When the fixed policy decides for a rule that always wins (pinned, in flight, unusable input)
// its reason stands alone; when it decides because the history is short, the reason says so.
func TestAFixedReasonBlamesAShortHistoryOnlyWhenItDecided(t *testing.T) {
	fixed, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: 5 * time.Minute, MinQPS: 0.1, AlwaysLoaded: []string{"timer-pinned"}})
	if err != nil {
		t.Fatal(err)
	}
	short := busyAt(t, predict.Config{}, 0, 10)
	const suffix = " (the fixed keep-alive decides: 1 gaps observed, fewer than min_history 2)"
	for _, tt := range []struct {
		name       string
		in         rules.UnloadInput
		wantRule   string
		wantSuffix bool
	}{
		{"pinned", rules.UnloadInput{Model: "timer-pinned", IdleSeconds: 400}, rules.UnloadRulePinned, false},
		{"requests in flight", rules.UnloadInput{Model: "timer", IdleSeconds: 400, InFlight: 1}, rules.UnloadRuleInFlight, false},
		{"an unusable idle time", rules.UnloadInput{Model: "timer", IdleSeconds: -1}, rules.UnloadRuleUnknown, false},
		{"idle past evict_after_idle with a short history", rules.UnloadInput{Model: "timer", IdleSeconds: 400}, rules.UnloadRuleIdle, true},
		{"recently used with a short history", rules.UnloadInput{Model: "timer", IdleSeconds: 100}, rules.UnloadRuleRecentlyUsed, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := short.ShouldUnload(fixed, gw, tt.in, minute(16))
			want := fixed.ShouldUnload(tt.in).Reason()
			if tt.wantSuffix {
				want += suffix
			}
			if d.Rule != tt.wantRule || d.Reason() != want {
				t.Errorf("rule %s, reason\n got %s\nwant %s", d.Rule, d.Reason(), want)
			}
		})
	}
}

// The threshold is written in full: a min_probability of 0.25 is "0.25", not rounded to one digit.
func TestReasonWritesTheThresholdInFull(t *testing.T) {
	p := busyAt(t, predict.Config{MinProbability: 0.25}, 0, 10, 20, 30)
	d := p.ShouldLoad(gw, "timer", minute(39))
	if want := "at least 0.25 (from 3 gaps)"; !strings.Contains(d.Reason(), want) {
		t.Errorf("reason %q does not contain %q", d.Reason(), want)
	}
}

func TestStateFileEdges(t *testing.T) {
	t.Run("an empty policy's state file reads back", func(t *testing.T) {
		p, _ := predict.New(predict.Config{})
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q := periodic(t, 10, 3)
		if err := q.UnmarshalBinary(b); err != nil || q.Len() != 0 {
			t.Errorf("err %v, %d histories; want none", err, q.Len())
		}
	})
	// A name the state file can hold is tracked and comes back; a longer one is not tracked, so
	// that it cannot make the file unreadable (and every other history lost at restart).
	for _, tt := range []struct {
		name    string
		key     predict.Key
		tracked int
	}{
		{"a model name of 4096 bytes is kept", predict.Key{Gateway: gw, Model: strings.Repeat("m", 4096)}, 1},
		{"a gateway name of 4096 bytes is kept", predict.Key{Gateway: strings.Repeat("g", 4096), Model: "m"}, 1},
		{"a model name of 4097 bytes is not tracked", predict.Key{Gateway: gw, Model: strings.Repeat("m", 4097)}, 0},
		{"a gateway name of 4097 bytes is not tracked", predict.Key{Gateway: strings.Repeat("g", 4097), Model: "m"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := predict.New(predict.Config{})
			p.Observe(predict.Key{Gateway: gw, Model: "other"}, minute(1))
			p.Observe(tt.key, minute(1))
			if p.Len() != 1+tt.tracked {
				t.Fatalf("%d histories, want %d", p.Len(), 1+tt.tracked)
			}
			b, _ := p.MarshalBinary()
			q, _ := predict.New(predict.Config{})
			if err := q.UnmarshalBinary(b); err != nil || q.Len() != 1+tt.tracked {
				t.Errorf("read back: err %v, %d histories; want %d", err, q.Len(), 1+tt.tracked)
			}
		})
	}
}

// The state is encoded into one buffer sized up front: a daemon's 130 MB state is not copied as it
// grows. Each model reserves 48 bytes for its two names and their lengths, so names of 46 bytes in
// all fill the buffer exactly.
func TestTheStateIsEncodedWithoutRegrowingItsBuffer(t *testing.T) {
	p, _ := predict.New(predict.Config{})
	for i := range 5 {
		gateway := strings.Repeat("g", 20+i)
		p.Observe(predict.Key{Gateway: gateway, Model: strings.Repeat("m", 46-len(gateway))}, minute(i))
	}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if cap(b) != len(b) {
		t.Errorf("a state of %d bytes came back in a buffer of %d: it was regrown", len(b), cap(b))
	}
	if !bytes.HasPrefix(b, []byte("modelium-brain predict v2\n")) {
		t.Errorf("state starts %q", b[:min(len(b), 30)])
	}
}
