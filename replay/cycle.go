package replay

import (
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
)

// BrainCycle is the brain's evaluation cycle over a tracker, with an unload policy.
//
// STAND-IN: the daemon's cycle still lives in server/ (which the replay must not import) until it
// moves to package recommend; until then this applies the same policy to the same tracker view
// (AppendLoaded, then rules.UnloadPolicy.ShouldUnload per LOADED placement) and keeps the same open
// set (a recommendation is made once and stays open while the policy still says unload).
func BrainCycle(t *metrics.Tracker, p *rules.UnloadPolicy) Cycle {
	return &standInCycle{tracker: t, policy: p, open: make(map[[2]string]uint64)}
}

type standInCycle struct {
	tracker *metrics.Tracker
	policy  *rules.UnloadPolicy
	loaded  []metrics.LoadedModel
	open    map[[2]string]uint64 // (gateway, model) -> the last cycle that recommended it
	n       uint64
}

func (c *standInCycle) Evaluate(now time.Time, dst []Recommendation) []Recommendation {
	c.n++
	c.loaded = c.tracker.AppendLoaded(c.loaded[:0], now)
	for i := range c.loaded {
		lm := &c.loaded[i]
		d := c.policy.ShouldUnload(rules.UnloadInput{Model: lm.Model, IdleSeconds: lm.IdleSeconds, QPS: lm.QPS, InFlight: lm.InFlight})
		key := [2]string{lm.Gateway, lm.Model}
		open := false
		if len(c.open) > 0 { // mostly empty: the gateway unloads at once
			_, open = c.open[key]
		}
		switch {
		case d.Unload && !open:
			dst = append(dst, Recommendation{Kind: Unload, Model: lm.Model, Gateway: lm.Gateway})
			fallthrough
		case d.Unload:
			c.open[key] = c.n
		case open:
			delete(c.open, key)
		}
	}
	for key, n := range c.open { // no longer LOADED: withdrawn
		if n != c.n {
			delete(c.open, key)
		}
	}
	return dst
}
