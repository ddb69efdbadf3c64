package replay

import (
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// BrainCycle is the brain's evaluation cycle over a tracker with the fixed policy (the unload
// policy's idle timer): EngineCycle of recommend.NewFixedPolicy(p).
func BrainCycle(t *metrics.Tracker, p *rules.UnloadPolicy) Cycle {
	return EngineCycle(recommend.NewFixedPolicy(p))(t, p)
}

// EngineCycle returns the brain's own evaluation cycle (package recommend's engine, the code the
// daemon runs) with policy: each Evaluate is one engine cycle, and the recommendations it newly
// opens are what the simulated gateway carries out. The unload policy passed to the returned
// function is not used: policy already holds what it needs.
func EngineCycle(policy recommend.Policy) NewCycleFunc {
	return func(t *metrics.Tracker, _ *rules.UnloadPolicy) Cycle {
		return &engineCycle{engine: recommend.New(recommend.Config{Tracker: t, Policy: policy})}
	}
}

type engineCycle struct {
	engine *recommend.Engine
}

func (c *engineCycle) Evaluate(now time.Time, dst []Recommendation) []Recommendation {
	for _, ev := range c.engine.Evaluate(now).Events {
		if ev.Withdrawn {
			continue
		}
		kind := Unload
		if ev.Rec.Kind == recommend.Load {
			kind = Load
		}
		dst = append(dst, Recommendation{Kind: kind, Model: ev.Rec.Model, Gateway: ev.Rec.Gateway})
	}
	return dst
}
