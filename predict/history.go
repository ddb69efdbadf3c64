package predict

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Horizon is how far, in minutes, a history looks: gaps and lags up to Horizon are counted one
// minute apart, longer gaps in one overflow bin. Four hours covers the hourly and shorter timers
// that dominate function traces while keeping a history near 1.3 KiB.
const Horizon = 240

// recentBusy is how many of a model's latest busy minutes vote for a future minute by their lag:
// the nearest ones carry the evidence of a rhythm; more would let a busy model's chance
// coincidences outvote its quiet spells.
const recentBusy = 8

// Config holds the policy's knobs. The zero value of a field means its default (see
// [DefaultConfig]).
type Config struct {
	// MinProbability is the probability of a request in the coming minute at or above which a
	// model is kept (or pre-warmed) for that minute. It is the price of a cold start in idle
	// minutes, inverted: 0.09 keeps a model resident for a minute when, at that chance, a cold
	// start costs more than about 10 idle minutes. Default 0.09, the value at which the policy
	// spends no more idle model-minutes than the fixed 5-minute keep-alive on rows 1-500 of the
	// Azure Functions sample (README, "Replay").
	MinProbability float64
	// MinHistory is the number of observed gaps below which the policy defers to the fixed
	// keep-alive. Default 2.
	MinHistory int
	// Step is the length of the policy's "minute": a history's busy minutes, gaps, lags and
	// Horizon count in steps, and a decision looks one step ahead. Default one minute, the unit
	// the other defaults were tuned in. A shorter step (whole seconds, at least one) only makes a
	// demo or a test show a rhythm in seconds; it is not a tuning knob. A state file does not
	// record the step: a daemon keeps none with a step other than the default.
	Step time.Duration
}

// Defaults of [Config]; the one place they are written.
const (
	DefaultMinProbability = 0.09
	DefaultMinHistory     = 2
	DefaultStep           = time.Minute
)

// DefaultConfig returns the default knobs.
func DefaultConfig() Config {
	return Config{MinProbability: DefaultMinProbability, MinHistory: DefaultMinHistory, Step: DefaultStep}
}

// withDefaults fills in zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.MinProbability == 0 {
		c.MinProbability = DefaultMinProbability
	}
	if c.MinHistory == 0 {
		c.MinHistory = DefaultMinHistory
	}
	if c.Step == 0 {
		c.Step = DefaultStep
	}
	var errs []error
	if !(c.MinProbability > 0 && c.MinProbability <= 1) {
		errs = append(errs, fmt.Errorf("min_probability %v must be in (0, 1]", c.MinProbability))
	}
	if c.MinHistory < 1 || c.MinHistory > math.MaxUint16 {
		errs = append(errs, fmt.Errorf("min_history %d must be between 1 and %d", c.MinHistory, math.MaxUint16))
	}
	if c.Step < time.Second || c.Step > DefaultStep || c.Step%time.Second != 0 {
		errs = append(errs, fmt.Errorf("step %v must be whole seconds from 1s to %v", c.Step, DefaultStep))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("predictive policy: %w", err)
	}
	return c, nil
}

// probScale is the largest code of a planned probability (one byte per minute). A probability p
// is stored as the code round(probScale * sqrt(p)) ([encodeChance]): thresholds sit at a few per
// cent, where a linear byte would have steps of 0.4 points; the square root gives steps of about
// 0.1 point there and of 0.8 point near certainty, where nothing is decided.
const probScale = 255

// encodeChance is the plan's code of probability p (clamped to [0, 1]); decodeChance reads it
// back: decodeChance(encodeChance(p)) is p to within half a code step, and encodeChance of a
// decoded code is that code.
func encodeChance(p float64) uint8 {
	return uint8(math.Round(math.Sqrt(min(max(p, 0), 1)) * probScale))
}

func decodeChance(q uint8) float64 { return chanceOf[q] }

// chanceOf[q] is the probability of code q.
var chanceOf = func() (t [probScale + 1]float64) {
	for q := range t {
		x := float64(q) / probScale
		t[q] = x * x
	}
	return t
}()

// The plan's model, fitted once by logistic regression on rows 1-500 of the Azure Functions
// sample (one model's minutes, each labelled busy or not, against the two pieces of evidence
// below) and checked on rows 501-1000, which it was not fitted on. They are not knobs: they say
// how much a gap count and a rhythm are worth, which MinProbability does not change.
const (
	// priorGaps is how many gaps the prior hazard counts as: a model's own counts outweigh it
	// once it has shown a few dozen gaps as long as the present quiet spell.
	priorGaps = 16
	// priorFirst and priorDecay shape the prior hazard priorFirst * a^-priorDecay of a request a
	// minutes after the last one: high just after a request, falling slowly (quiet spells in
	// function traces are heavy-tailed: the longer a model has been quiet, the longer it is
	// likely to stay so, but never certainly).
	priorFirst = 0.7
	priorDecay = 0.4
	// oddsHazard, oddsRhythm and oddsBase weigh the two pieces of evidence in log-odds: the
	// hazard's log-odds, the log of the rhythm's share (plus rhythmFloor, so that no rhythm is a
	// strong but finite vote against), and a constant.
	oddsHazard  = 0.93
	oddsRhythm  = 0.68
	oddsBase    = 0.58
	rhythmFloor = 0.01
)

// noRhythm is the rhythm's term and the constant when no recent busy minute points at a minute.
var noRhythm = oddsRhythm*math.Log(rhythmFloor) + oddsBase

// priorHazard[a-1] is the prior's pseudo-count of gaps of exactly a among priorGaps, and
// priorOther[a-1] of longer ones: priorGaps * h0(a) and priorGaps * (1 - h0(a)). logHazard and
// logOther are their logarithms, the hazard's terms when the model has shown no gap of exactly a
// or none longer (most minutes of most models), so that a replan takes a logarithm only where a
// count is not zero.
var priorHazard, priorOther, logHazard, logOther = func() (hz, other, lhz, lother [Horizon]float64) {
	for a := 1; a <= Horizon; a++ {
		h0 := priorFirst * math.Pow(float64(a), -priorDecay)
		hz[a-1], other[a-1] = priorGaps*h0, priorGaps*(1-h0)
		lhz[a-1], lother[a-1] = math.Log(hz[a-1]), math.Log(other[a-1])
	}
	return hz, other, lhz, lother
}()

// codeEdge[q-1] is the log-odds at and above which a probability gets code q or more under
// encodeChance's rounding (q = 1..probScale): the log-odds of ((q-0.5)/probScale)^2. codeOfOdds
// finds a log-odds' code among them, which is cheaper than an exponential and a square root.
var codeEdge = func() (e [probScale]float64) {
	for q := 1; q <= probScale; q++ {
		x := (float64(q) - 0.5) / probScale
		e[q-1] = math.Log(x * x / (1 - x*x))
	}
	return e
}()

// codeOfOdds is encodeChance(1/(1+exp(-x))), to within the rounding of the two at a code's edge:
// the number of edges at or below x.
func codeOfOdds(x float64) uint8 {
	lo, hi := 0, probScale
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if codeEdge[mid] <= x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return uint8(lo)
}

// History is one model's record of its busy minutes, bounded whatever the traffic. Minutes are
// Unix minutes (Unix seconds / 60). The zero value is an empty history.
type History struct {
	// last is the latest busy minute plus one (0: none yet), so that the zero value is empty.
	last int64
	// gaps and busy count the gaps and busy minutes behind the histograms; they are halved with
	// them when a bin would overflow, so that old behaviour fades.
	gaps, busy uint32
	// plan[a-1] is the probability, times probScale, of a request in minute last+a given none
	// since last, for a in 1..Horizon. It comes first after the counts: a decision reads last
	// and one byte of plan, often in the same cache line.
	plan [Horizon]uint8
	// recent holds how many minutes before last each of the latest busy minutes was (recent[0]
	// is the one before last); 0 is an empty slot.
	recent [recentBusy - 1]uint16
	// gap[g-1] counts gaps of g minutes for g in 1..Horizon; gap[Horizon] counts longer ones.
	gap [Horizon + 1]uint16
	// lag[d-1] counts pairs of busy minutes d apart (d in 1..Horizon) among the recent ones.
	lag [Horizon]uint16
}

// Last returns the latest busy minute and whether there is one.
func (h *History) Last() (int64, bool) { return h.last - 1, h.last != 0 }

// Gaps returns the number of gaps observed (halved as the history fades).
func (h *History) Gaps() int { return int(h.gaps) }

// Observe records that minute was busy (had at least one request). A minute at or before the
// latest busy minute is ignored: observations arrive in order, several per minute. It replans
// the next Horizon minutes.
func (h *History) Observe(minute int64) {
	if h.last != 0 && minute < h.last { // minute <= last busy minute
		return
	}
	if h.last != 0 {
		prev := h.last - 1
		g := minute - prev
		if g > Horizon {
			h.bump(&h.gap[Horizon])
		} else {
			h.bump(&h.gap[g-1])
		}
		h.gaps++
		// Lags to the previous busy minutes still within the horizon.
		h.countLag(g)
		back := g
		for _, r := range h.recent {
			if r == 0 {
				break
			}
			back += int64(r)
			h.countLag(back)
		}
		// Shift recent: the previous busy minute becomes the nearest.
		off := g
		for i := len(h.recent) - 1; i > 0; i-- {
			h.recent[i] = h.recent[i-1]
		}
		if off > math.MaxUint16 {
			off = math.MaxUint16
		}
		h.recent[0] = uint16(off)
	}
	h.busy++
	h.last = minute + 1
	h.replan()
}

func (h *History) countLag(d int64) {
	if d >= 1 && d <= Horizon {
		h.bump(&h.lag[d-1])
	}
}

// bump increments a bin, halving every bin and count first when it is full.
func (h *History) bump(c *uint16) {
	if *c == math.MaxUint16 {
		for i := range h.gap {
			h.gap[i] /= 2
		}
		for i := range h.lag {
			h.lag[i] /= 2
		}
		h.gaps /= 2
		h.busy /= 2
	}
	*c++
}

// replan computes plan from the histograms. For each minute a ahead it weighs two pieces of
// evidence in log-odds:
//   - the gap hazard, shrunk towards a prior: (gaps of exactly a + priorGaps*h0(a)) over (gaps of
//     at least a + priorGaps), the overflow bin counting as longer. A raw share of few gaps is
//     overconfident both ways: one gap as long as the quiet spell that ended right then is not a
//     certainty, and a length never seen is not impossible (on rows 1-500, most cold starts of the
//     first version of this policy followed a gap of a length the model had never shown);
//   - the rhythm: the largest share of the model's busy minutes that were followed by another at
//     the lag from one of the recent busy minutes to minute a (lag 1 from the latest is the
//     hazard's own).
//
// The plan is oddsHazard*logit(hazard) + oddsRhythm*ln(rhythm + rhythmFloor) + oddsBase, as a
// probability. Either alone is a worse guide: a high hazard with no rhythm behind it turned out
// to be right about one time in thirty on the sample, a strong rhythm with a low hazard about one
// in ten.
func (h *History) replan() {
	var tail uint32
	for _, c := range h.gap {
		tail += uint32(c)
	}
	busy := float64(max(h.busy, 1))
	// offs are the recent busy minutes' distances back from the latest (offs[0] = 0: the latest
	// itself).
	var offs [recentBusy]int
	n := 1
	for _, r := range h.recent {
		if r == 0 {
			break
		}
		offs[n] = offs[n-1] + int(r)
		n++
	}
	// best[a-1]: the largest lag count that a recent busy minute points at for minute last+a.
	var best [Horizon]uint16
	for _, o := range offs[:n] {
		if o >= Horizon {
			break // offs grow: the older ones are further still
		}
		lag := h.lag[max(o, 1):] // lag d = a + o for a = 1..Horizon-o; lag 1 is the hazard's
		dst := best[max(1-o, 0):]
		for i := 0; i < len(lag) && i < len(dst); i++ {
			dst[i] = max(dst[i], lag[i])
		}
	}
	for a := 1; a <= Horizon; a++ {
		g := h.gap[a-1]
		tail -= uint32(g) // now the gaps longer than a
		lg, ll := logHazard[a-1], logOther[a-1]
		if g != 0 {
			lg = math.Log(float64(g) + priorHazard[a-1])
		}
		if tail != 0 {
			ll = math.Log(float64(tail) + priorOther[a-1])
		}
		rhythm := noRhythm
		if b := best[a-1]; b > 0 {
			rhythm = oddsRhythm*math.Log(float64(b)/busy+rhythmFloor) + oddsBase
		}
		h.plan[a-1] = codeOfOdds(oddsHazard*(lg-ll) + rhythm)
	}
}

// Chance returns the planned probability of a request in minute, given none since the latest busy
// minute: 0 outside the next Horizon minutes.
func (h *History) Chance(minute int64) float64 {
	a := minute - (h.last - 1)
	if h.last == 0 || a < 1 || a > Horizon {
		return 0
	}
	return decodeChance(h.plan[a-1])
}

// threshold converts MinProbability to the plan's code, rounded up (at least 1: a zero chance
// never keeps a model): a code at or above it is a probability at or above MinProbability, to
// within the rounding of the code.
func threshold(cfg *Config) uint8 {
	return uint8(max(1, math.Ceil(math.Sqrt(cfg.MinProbability)*probScale-1e-9)))
}

// NextLikely returns the first minute after from (from+1 or later, within the horizon) whose
// planned probability reaches MinProbability, that probability, and whether there is one.
func (h *History) NextLikely(from int64, cfg *Config) (int64, float64, bool) {
	if h.last == 0 {
		return 0, 0, false
	}
	th := threshold(cfg)
	start := from + 1 - (h.last - 1)
	if start > Horizon {
		return 0, 0, false
	}
	i := int(max(start, 1)) - 1
	// Eight plan bytes at a time: a cycle asks this of every model it leaves alone.
	for ; th <= 128 && i+8 <= Horizon; i += 8 {
		if anyAtLeast(binary.LittleEndian.Uint64(h.plan[i:]), th) {
			break
		}
	}
	for ; i < Horizon; i++ {
		if h.plan[i] >= th {
			return h.last + int64(i), decodeChance(h.plan[i]), true
		}
	}
	return 0, 0, false
}

// anyAtLeast reports whether any of the eight bytes of x is at least t (t from 1 to 128): a byte
// below 128 reaches 128 when 128-t is added to it (no carry crosses bytes, as 127+127 < 256); a
// byte of 128 or more is at least t already.
func anyAtLeast(x uint64, t uint8) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return ((x&^highs)+uint64(128-t)*ones|x)&highs != 0
}

// Want says whether a model with this history should be resident during minute now, so that a
// request in the minute after finds it warm: when a request in the next minute is at least
// MinProbability likely. A model already loaded also stays for a request that likely in this very
// minute (requests come at any second of it). It is not kept for the minute after next: on rows
// 1-500 of the Azure sample that hold spent one idle minute for each reload it spared and bought
// no fewer cold starts for the idle minutes. A minute that is itself busy (now at or before the
// latest busy minute) is always wanted. It returns the minute that decided and its probability.
func (h *History) Want(now int64, loaded bool, cfg *Config) (want bool, minute int64, chance float64) {
	last := h.last - 1
	if h.last == 0 {
		return false, 0, 0
	}
	if now <= last {
		return true, last, 1
	}
	th := threshold(cfg)
	a := now + 1 - last // the next minute, a minutes after the latest busy one
	if a <= Horizon && h.plan[a-1] >= th {
		return true, now + 1, decodeChance(h.plan[a-1])
	}
	if !loaded {
		return false, 0, 0
	}
	// A loaded model also stays for a request expected in this very minute (requests come at any
	// second of it).
	if a-1 <= Horizon && h.plan[a-2] >= th {
		return true, now, decodeChance(h.plan[a-2])
	}
	return false, 0, 0
}
