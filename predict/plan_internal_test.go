package predict

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// plannedByDefinition computes a history's plan the slow way, from its counts, as the
// probabilities the plan's codes stand for: for each minute a ahead, the gap hazard shrunk towards
// the prior, hz = (gaps of exactly a + priorGaps*h0(a)) / (gaps of at least a + priorGaps), the
// overflow bin counting as longer; the rhythm rh, the largest count of a lag d = a + o (o the
// distance back of the latest busy minute or of one of the recent ones, lag 1 of the latest being
// the hazard's own) over the busy minutes; and the plan, the logistic of
// oddsHazard*ln(hz/(1-hz)) + oddsRhythm*ln(rh+rhythmFloor) + oddsBase.
func plannedByDefinition(h *History) [Horizon]float64 {
	busy := float64(max(h.busy, 1))
	offs := []int{0}
	for _, r := range h.recent {
		if r == 0 {
			break
		}
		offs = append(offs, offs[len(offs)-1]+int(r))
	}
	var plan [Horizon]float64
	for a := 1; a <= Horizon; a++ {
		var tail float64
		for g := a; g <= Horizon+1; g++ {
			tail += float64(h.gap[g-1])
		}
		h0 := priorFirst * math.Pow(float64(a), -priorDecay)
		hz := (float64(h.gap[a-1]) + priorGaps*h0) / (tail + priorGaps)
		var best float64
		for _, o := range offs {
			if d := a + o; (o > 0 || a > 1) && d <= Horizon {
				best = max(best, float64(h.lag[d-1]))
			}
		}
		score := oddsHazard*math.Log(hz/(1-hz)) + oddsRhythm*math.Log(best/busy+rhythmFloor) + oddsBase
		plan[a-1] = 1 / (1 + math.Exp(-score))
	}
	return plan
}

// codeHolds reports whether code is p's code: round(probScale*sqrt(p)), or either neighbour
// when p lies within rounding error of the boundary between two codes.
func codeHolds(code uint8, p float64) bool {
	x := math.Sqrt(p) * probScale
	return float64(code) == math.Round(x) || math.Abs(x-(float64(code)-0.5)) < 1e-6 || math.Abs(x-(float64(code)+0.5)) < 1e-6
}

// TestThePlanWeighsTheShrunkHazardAndTheRhythm holds replan against its definition on random
// histories: timers with jitter, bursts, long silences.
func TestThePlanWeighsTheShrunkHazardAndTheRhythm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 400 {
		var h History
		period := 1 + r.IntN(90)
		minute := int64(r.IntN(1000))
		n := 1 + r.IntN(60)
		for k := range n {
			switch r.IntN(8) {
			case 0:
				minute += 1 // a burst
			case 1:
				minute += int64(Horizon - 2 + r.IntN(5)) // around the horizon
			case 2:
				minute += int64(1 + r.IntN(3*period))
			default:
				minute += int64(max(period+r.IntN(3)-1, 1)) // the timer, give or take a minute
			}
			h.Observe(minute)
			if int(h.busy) != k+1 {
				t.Fatalf("round %d: %d busy minutes counted after %d", round, h.busy, k+1)
			}
			want := plannedByDefinition(&h)
			for a := range want {
				if !codeHolds(h.plan[a], want[a]) {
					t.Fatalf("round %d (period %d), after %d busy minutes: minute +%d planned code %d (%.6f), want %.6f (code %d) (gaps %v, lags %v, recent %v)",
						round, period, k+1, a+1, h.plan[a], decodeChance(h.plan[a]), want[a], encodeChance(want[a]), nonZero(h.gap[:]), nonZero(h.lag[:]), h.recent)
				}
			}
		}
	}
}

// The threshold is MinProbability in the plan's code, rounded up, at least 1: a chance exactly at
// MinProbability keeps a model, a zero chance never does.
func TestThresholdIsMinProbabilityRoundedUp(t *testing.T) {
	for _, tt := range []struct {
		p    float64
		want uint8
	}{{0.1, 81}, {decodeChance(51), 51}, {1, probScale}, {0.25, 128}, {1e-9, 1}} {
		if got := threshold(&Config{MinProbability: tt.p}); got != tt.want {
			t.Errorf("threshold(%v) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

// TestWantAtItsEdges pins Want's minutes and bounds with a plan of one likely minute: the next
// minute for every model, this minute only for a loaded one (never the one after next), the chance
// exactly at the threshold counting, and nothing past the horizon.
func TestWantAtItsEdges(t *testing.T) {
	cfg, _ := DefaultConfig().withDefaults()
	th := threshold(&cfg)
	const last = 1000
	tests := []struct {
		name    string
		at      int   // the planned minute's distance from last (1..Horizon)
		chance  uint8 // its planned chance
		now     int64 // minutes after last
		loaded  bool
		want    bool
		minute  int64 // minutes after last (when want)
		percent float64
	}{
		{"a likely next minute is wanted, loaded or not", 5, th, 4, false, true, 5, decodeChance(th)},
		{"a chance just under the threshold is not", 5, th - 1, 4, true, false, 0, 0},
		{"a loaded model stays for this very minute", 5, th, 5, true, true, 5, decodeChance(th)},
		{"an unloaded one is not loaded for this very minute", 5, th, 5, false, false, 0, 0},
		{"a loaded model is not kept for the minute after next", 5, 200, 3, true, false, 0, 0},
		{"an unloaded one is not loaded two minutes ahead", 5, 200, 3, false, false, 0, 0},
		{"three minutes ahead is too far even loaded", 5, 200, 2, true, false, 0, 0},
		{"the horizon's last minute counts as the next", Horizon, th, Horizon - 1, false, true, Horizon, decodeChance(th)},
		{"the horizon's last minute counts as this very minute", Horizon, th, Horizon, true, true, Horizon, decodeChance(th)},
		{"past the horizon nothing is wanted", Horizon, probScale, Horizon + 1, true, false, 0, 0},
		{"a loaded model a minute before the horizon's end looks no further than it", 5, probScale, Horizon - 1, true, false, 0, 0},
		{"a busy minute is always wanted", 5, 0, 0, false, true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := History{last: last + 1}
			h.plan[tt.at-1] = tt.chance
			want, minute, chance := h.Want(last+tt.now, tt.loaded, &cfg)
			if want != tt.want || want && (minute != last+tt.minute || chance != tt.percent) {
				t.Errorf("Want(+%d, loaded %v) = %v, +%d, %v; want %v, +%d, %v", tt.now, tt.loaded, want, minute-last, chance, tt.want, tt.minute, tt.percent)
			}
		})
	}
}

// NextLikely finds a chance exactly at the threshold, and does so for thresholds above one half,
// where the eight-bytes-at-a-time scan does not apply.
func TestNextLikelyAtTheThreshold(t *testing.T) {
	for _, p := range []float64{0.1, 0.5, 0.6, 0.9, 1} {
		cfg := Config{MinProbability: p}
		th := threshold(&cfg)
		for _, at := range []int{1, 8, 9, 100, Horizon} {
			h := &History{last: 1000 + 1}
			h.plan[at-1] = th
			if m, c, ok := h.NextLikely(1000, &cfg); !ok || m != 1000+int64(at) || c != decodeChance(th) {
				t.Errorf("MinProbability %v, chance %d/255 at +%d: got +%d %v %v", p, th, at, m-1000, c, ok)
			}
			h.plan[at-1] = th - 1
			if th > 1 {
				if m, _, ok := h.NextLikely(1000, &cfg); ok {
					t.Errorf("MinProbability %v, chance %d/255 (under %d) at +%d: found +%d", p, th-1, th, at, m-1000)
				}
			}
		}
	}
}

// The prior keeps a short history humble both ways: a quiet spell longer than any gap seen is
// not impossible, and a gap length seen every time is not certain.
func TestAShortHistoryIsNeitherSureNorBlind(t *testing.T) {
	var h History
	for _, m := range []int64{100, 110, 120} { // two gaps of 10
		h.Observe(m)
	}
	if c := h.Chance(120 + 10); c <= 0.2 || c >= 0.9 {
		t.Errorf("chance at the rhythm's minute %v: want between 0.2 and 0.9 after two gaps", c)
	}
	if c := h.Chance(120 + 30); c <= 0 {
		t.Errorf("chance 30 minutes out, past every gap seen: %v, want above zero", c)
	}
	if near, far := h.Chance(120+12), h.Chance(120+200); far >= near {
		t.Errorf("chance 200 minutes out %v not below 12 minutes out %v: the prior falls with the quiet spell", far, near)
	}
	for range 60 { // sixty more gaps of 10: the history outweighs the prior
		m, _ := h.Last()
		h.Observe(m + 10)
	}
	m, _ := h.Last()
	if c := h.Chance(m + 10); c < 0.9 {
		t.Errorf("chance at the rhythm's minute after 62 gaps of 10: %v, want at least 0.9", c)
	}
}

// A code read back is the code: decoding and encoding again changes nothing, and codes grow with
// the probability.
func TestTheChanceCodeRoundTrips(t *testing.T) {
	for q := range probScale + 1 {
		if got := encodeChance(decodeChance(uint8(q))); got != uint8(q) {
			t.Errorf("encodeChance(decodeChance(%d)) = %d", q, got)
		}
		if q > 0 && decodeChance(uint8(q)) <= decodeChance(uint8(q-1)) {
			t.Errorf("code %d decodes to %v, not above code %d's %v", q, decodeChance(uint8(q)), q-1, decodeChance(uint8(q-1)))
		}
	}
	for _, p := range []float64{-1, 0, 1e-9, 0.09, 0.5, 1, 2} {
		if d := decodeChance(encodeChance(p)); math.Abs(d-min(max(p, 0), 1)) > 2*math.Sqrt(min(max(p, 0), 1))/probScale+1e-9 {
			t.Errorf("p %v reads back as %v: more than half a code step away", p, d)
		}
	}
}

// codeOfOdds, the replan's way to a code, is the code of the probability with those log-odds: on a
// fine grid and at random, equal but where x sits on a code's edge to within rounding, and at the
// extremes the lowest and highest codes.
func TestCodeOfOddsIsTheChanceCodeOfItsProbability(t *testing.T) {
	check := func(x float64) {
		t.Helper()
		if got, want := codeOfOdds(x), encodeChance(1/(1+math.Exp(-x))); got != want {
			p := 1 / (1 + math.Exp(-x))
			if y := math.Sqrt(p) * probScale; math.Abs(y-math.Round(y-0.5)-0.5) > 1e-9 {
				t.Errorf("codeOfOdds(%v) = %d, want %d (p %v)", x, got, want, p)
			}
		}
	}
	for x := -30.0; x <= 30; x += 1.0 / 1024 {
		check(x)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 100_000 {
		check(r.NormFloat64() * 4)
	}
	for q := 1; q <= probScale; q++ {
		check(codeEdge[q-1])
		if got := codeOfOdds(codeEdge[q-1]); got != uint8(q) {
			t.Errorf("at code %d's edge: code %d", q, got)
		}
	}
	if codeOfOdds(math.Inf(-1)) != 0 || codeOfOdds(math.Inf(1)) != probScale || codeOfOdds(-40) != 0 || codeOfOdds(40) != probScale {
		t.Errorf("extremes: %d %d %d %d", codeOfOdds(math.Inf(-1)), codeOfOdds(-40), codeOfOdds(40), codeOfOdds(math.Inf(1)))
	}
}

// Chance reads the plan from the minute after the latest busy one to the horizon's last, and is 0
// outside it and for an empty history.
func TestChanceReadsThePlanWithinTheHorizon(t *testing.T) {
	h := History{last: 1000 + 1}
	for a := range h.plan {
		h.plan[a] = uint8(1 + a%probScale)
	}
	for _, tt := range []struct {
		minute int64
		want   float64
	}{
		{1000 + 1, decodeChance(h.plan[0])},
		{1000 + 17, decodeChance(h.plan[16])},
		{1000 + Horizon, decodeChance(h.plan[Horizon-1])},
		{1000, 0},
		{999, 0},
		{1000 + Horizon + 1, 0},
	} {
		if got := h.Chance(tt.minute); got != tt.want {
			t.Errorf("Chance(last%+d) = %v, want %v", tt.minute-1000, got, tt.want)
		}
	}
	var empty History
	if got := empty.Chance(1); got != 0 {
		t.Errorf("an empty history's chance of minute 1 = %v, want 0", got)
	}
}

// NextUse is the expected wait its comment defines, on random histories and at moments from the
// latest busy minute to past the horizon: each minute ahead weighed by the chance that it is the
// first with a request, the plan's own reading; a tail of under a millionth dropped; a model still
// quiet at the horizon's end back after as long again as it has been quiet.
func TestNextUseIsTheExpectedWait(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for round := range 200 {
		p, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		k := Key{Gateway: "g", Model: "m"}
		minute := int64(1000)
		period := 1 + r.IntN(120)
		for range 3 + r.IntN(30) { // at least MinHistory gaps
			minute += int64(max(period+r.IntN(5)-2, 1))
			p.Observe(k, time.Unix(minute*60, 0))
		}
		h := p.models.get(k)
		last := h.last - 1
		for _, ahead := range []int64{0, 1, 2, int64(r.IntN(Horizon)), Horizon - 1, Horizon, Horizon + 50} {
			n := last + ahead
			survive, wait := 1.0, 0.0
			for a := int64(1); a <= Horizon && survive > 0; a++ {
				if last+a <= n {
					continue // not after now's minute
				}
				q := decodeChance(h.plan[a-1])
				wait += survive * q * float64(last+a-n)
				if survive *= 1 - q; survive < 1e-6 {
					survive = 0
				}
			}
			wait += survive * float64(max(n-last, 1))
			want := time.Unix(n*60, 0).Add(time.Duration(wait * float64(time.Minute)))
			got, ok := p.NextUse(k, time.Unix(n*60+int64(r.IntN(60)), 0))
			if !ok || !got.Equal(want) {
				t.Fatalf("round %d (period %d), %d minutes after the latest busy one: NextUse = %v, %v; want %v", round, period, ahead, got, ok, want)
			}
		}
	}
}
