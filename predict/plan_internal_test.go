package predict

import (
	"math/rand/v2"
	"testing"
)

// plannedByDefinition computes a history's plan the slow way, from its counts: for each minute a
// ahead, the gap hazard (gaps of exactly a over gaps of at least a, the overflow bin included),
// replaced by the strongest rhythm pointing at that minute (the largest count of a lag d = a + o,
// o the distance back of the latest busy minute or of one of the recent ones, lag 1 of the latest
// being the hazard's own) when that count reaches MinLagShare of the busy minutes and its share
// of them is larger than the hazard; rounded half up to 1/probScale.
func plannedByDefinition(h *History, cfg *Config) [Horizon]uint8 {
	busy := uint64(max(h.busy, 1))
	minLag := uint64(0)
	for float64(minLag) < cfg.MinLagShare*float64(busy)-1e-9 {
		minLag++
	}
	offs := []int{0}
	for _, r := range h.recent {
		if r == 0 {
			break
		}
		offs = append(offs, offs[len(offs)-1]+int(r))
	}
	var plan [Horizon]uint8
	for a := 1; a <= Horizon; a++ {
		var tail uint64
		for g := a; g <= Horizon+1; g++ {
			tail += uint64(h.gap[g-1])
		}
		num, den := uint64(h.gap[a-1]), tail
		var best uint64
		for _, o := range offs {
			if d := a + o; (o > 0 || a > 1) && d <= Horizon {
				best = max(best, uint64(h.lag[d-1]))
			}
		}
		if best > 0 && best >= minLag && (den == 0 || best*den > num*busy) {
			num, den = best, busy
		}
		if num > 0 && den > 0 {
			plan[a-1] = uint8(min((2*num*probScale+den)/(2*den), probScale))
		}
	}
	return plan
}

// TestThePlanIsTheLargerOfTheGapHazardAndTheStrongestRhythm holds replan against its definition
// on random histories: timers with jitter, bursts, long silences, and each lag share.
func TestThePlanIsTheLargerOfTheGapHazardAndTheStrongestRhythm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 400 {
		base := DefaultConfig()
		base.MinLagShare = []float64{0.05, 0.3, 0.5, 1}[r.IntN(4)]
		cfg, err := base.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
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
			h.Observe(minute, &cfg)
			if int(h.busy) != k+1 {
				t.Fatalf("round %d: %d busy minutes counted after %d", round, h.busy, k+1)
			}
			if want := plannedByDefinition(&h, &cfg); h.plan != want {
				for a := range want {
					if h.plan[a] != want[a] {
						t.Fatalf("round %d (period %d, lag share %v), after %d busy minutes: minute +%d planned %d/255, want %d/255 (gaps %v, lags %v, recent %v)",
							round, period, cfg.MinLagShare, k+1, a+1, h.plan[a], want[a], nonZero(h.gap[:]), nonZero(h.lag[:]), h.recent)
					}
				}
			}
		}
	}
}

// The threshold is MinProbability in the plan's fixed point, rounded up, at least 1: a chance
// exactly at MinProbability keeps a model, a zero chance never does.
func TestThresholdIsMinProbabilityRoundedUp(t *testing.T) {
	for _, tt := range []struct {
		p    float64
		want uint8
	}{{0.1, 26}, {51.0 / probScale, 51}, {1, probScale}, {0.5, 128}, {1e-9, 1}} {
		if got := threshold(&Config{MinProbability: tt.p}); got != tt.want {
			t.Errorf("threshold(%v) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

// TestWantAtItsEdges pins Want's minutes and bounds with a plan of one likely minute: the next
// minute for every model, this minute and the one after next only for a loaded one, the chance
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
		{"a likely next minute is wanted, loaded or not", 5, th, 4, false, true, 5, float64(th) / probScale},
		{"a chance just under the threshold is not", 5, th - 1, 4, true, false, 0, 0},
		{"a loaded model stays for this very minute", 5, th, 5, true, true, 5, float64(th) / probScale},
		{"an unloaded one is not loaded for this very minute", 5, th, 5, false, false, 0, 0},
		{"a loaded model stays for the minute after next", 5, 200, 3, true, true, 5, 200.0 / probScale},
		{"an unloaded one is not loaded two minutes ahead", 5, 200, 3, false, false, 0, 0},
		{"three minutes ahead is too far even loaded", 5, 200, 2, true, false, 0, 0},
		{"the horizon's last minute counts as the next", Horizon, th, Horizon - 1, false, true, Horizon, float64(th) / probScale},
		{"the horizon's last minute counts as this very minute", Horizon, th, Horizon, true, true, Horizon, float64(th) / probScale},
		{"the horizon's last minute counts as the one after next", Horizon, th, Horizon - 2, true, true, Horizon, float64(th) / probScale},
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
			if m, c, ok := h.NextLikely(1000, &cfg); !ok || m != 1000+int64(at) || c != float64(th)/probScale {
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
