package predict

import "time"

// NextUse estimates when the model of k is next requested after now, from its history's plan:
// the expected wait, in whole minutes (Config.Step), for the first minute after now's minute with
// a request, taking plan[a-1] as the chance of a request in minute last+a given none before it
// (the plan's own reading); a model still quiet at the end of the horizon is taken to be back
// after as long again as it has been quiet, recency's guess where the plan has nothing more to say
// (on rows 1-500 of the Azure sample this beat "back one horizon later" under every memory cap
// tried). ok is false while the history has fewer than MinHistory gaps (the policy itself defers
// to the fixed keep-alive then): the caller falls back on recency. The eviction planner reads it
// through a gpu.NextUseEstimator to choose victims: the model expected back last goes first.
func (p *Policy) NextUse(k Key, now time.Time) (next time.Time, ok bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	h := p.models.get(k)
	if h == nil || int(h.gaps) < p.cfg.MinHistory {
		return time.Time{}, false
	}
	step := p.cfg.Step
	n := stepOf(now, step)
	last := h.last - 1
	survive, wait := 1.0, 0.0
	// Minutes n+1 ... last+Horizon; a model busy this minute (n <= last) starts at last+1.
	for a := max(n+1-last, 1); a <= Horizon; a++ {
		q := float64(h.plan[a-1]) / probScale
		wait += survive * q * float64(last+a-n)
		survive *= 1 - q
		if survive < 1e-6 {
			survive = 0
			break
		}
	}
	if survive > 0 {
		wait += survive * float64(max(n-last, 1))
	}
	return time.Unix(n*int64(step/time.Second), 0).Add(time.Duration(wait * float64(step))), true
}
