package predict

import (
	"math/rand/v2"
	"testing"
)

// TestObserveCountsGapsAndLagsAsABruteForceDoes holds a history's gap and lag counts against
// counting them over the list of busy minutes: a gap per busy minute after the first (gaps past
// Horizon in the last bin), a lag per pair of busy minutes up to Horizon apart among each one's
// recentBusy predecessors; a minute at or before the latest busy one is ignored, the next one is not.
func TestObserveCountsGapsAndLagsAsABruteForceDoes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var h History
		var busy []int64
		minute := int64(r.IntN(100))
		for range 1 + r.IntN(30) {
			switch r.IntN(6) {
			case 0: // the same minute again, or an earlier one: ignored
				if len(busy) > 0 {
					h.Observe(busy[len(busy)-1] - int64(r.IntN(3)))
					continue
				}
			case 1: // exactly Horizon, or one more
				minute += Horizon + int64(r.IntN(2))
			default:
				minute += 1 + int64(r.IntN(20))
			}
			h.Observe(minute)
			busy = append(busy, minute)
		}
		var gap [Horizon + 1]uint16
		var lag [Horizon]uint16
		for j := 1; j < len(busy); j++ {
			g := busy[j] - busy[j-1]
			gap[min(g, Horizon+1)-1]++
			for i := j - 1; i >= max(j-recentBusy, 0); i-- {
				if d := busy[j] - busy[i]; d <= Horizon {
					lag[d-1]++
				}
			}
		}
		last, ok := h.Last()
		if !ok || last != busy[len(busy)-1] || h.Gaps() != len(busy)-1 || h.gap != gap || h.lag != lag {
			t.Fatalf("round %d, busy minutes %v: last %d, gaps %d, gap bins %v, lags %v; want %d, %d, %v, %v",
				round, busy, last, h.Gaps(), nonZero(h.gap[:]), nonZero(h.lag[:]), busy[len(busy)-1], len(busy)-1, nonZero(gap[:]), nonZero(lag[:]))
		}
	}
}

func nonZero(c []uint16) map[int]uint16 {
	m := map[int]uint16{}
	for i, v := range c {
		if v != 0 {
			m[i+1] = v
		}
	}
	return m
}
