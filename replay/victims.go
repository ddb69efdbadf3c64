package replay

import (
	"fmt"
	"slices"
	"time"

	"github.com/modelium/brain/gpu"
)

// Victims names a victim choice: how the eviction planner (gpu.Allocator with AllowEviction, the
// code behind ChooseGPU's allow_eviction) ranks the loaded models when a model does not fit under
// the cap. Each is a gpu.NextUseEstimator handed to the same planner; none is a second planner.
// The planner takes the cheapest victims first (the estimate's expected cold starts, then the
// older last request, then the larger), drops those not needed after all, and, over several GPUs,
// takes the cheapest plan.
type Victims string

const (
	// VictimsBrain is the brain's choice: the predictive policy's next-request estimate
	// (predict.Policy.NextUse, the expected wait from the model's plan, confidence 1; recency's
	// wait for a model with too little history), weighted by size (gpu.SizeWeighted): the model
	// expected back latest, times its size, goes first.
	VictimsBrain Victims = "brain"
	// VictimsLRU is least recently used first: the planner's own recency default
	// (gpu.LastRequestEstimator), as LRU model caches do (llama-swap's and LocalAI's LRU unloading).
	VictimsLRU Victims = "lru"
	// VictimsSizeLRU is least recently used weighted by size (kserve/modelmesh, whose model cache
	// is an LRU cache weighted by each model's size): gpu.SizeWeighted over recency, idle time ×
	// size / the mean size, so a large model idle as long as a small one goes first. It differs
	// from VictimsBrain only in the estimate.
	VictimsSizeLRU Victims = "size-lru"
	// VictimsLargestFirst is the largest model first, least recently used among equals
	// (mudler/LocalAI, which unloads by LRU or, to make room, the largest backend).
	VictimsLargestFirst Victims = "largest-first"
	// VictimsShortestKeepAlive is the shortest keep-alive first, then model name (ollama/ollama,
	// server/sched.go findRunnerToUnload: runners sorted by sessionDuration, then model path).
	// With one keep-alive for every model (the configuration's evict_after_idle) this is name
	// order: Ollama's choice does not look at use.
	VictimsShortestKeepAlive Victims = "shortest-keep-alive"
)

// AllVictims lists the victim choices in the order the replay reports them: the brain's first.
var AllVictims = []Victims{VictimsBrain, VictimsLRU, VictimsSizeLRU, VictimsLargestFirst, VictimsShortestKeepAlive}

// Imitates says which project's victim choice a baseline imitates, for tables.
func (v Victims) Imitates() string {
	switch v {
	case VictimsBrain:
		return "the brain (predictive next-request estimate)"
	case VictimsLRU:
		return "LRU"
	case VictimsSizeLRU:
		return "size-weighted LRU (ModelMesh)"
	case VictimsLargestFirst:
		return "LRU largest-first (LocalAI)"
	case VictimsShortestKeepAlive:
		return "shortest keep-alive first (Ollama)"
	}
	return string(v)
}

// ParseVictims reads a victim choice's name.
func ParseVictims(s string) (Victims, error) {
	v := Victims(s)
	if slices.Contains(AllVictims, v) {
		return v, nil
	}
	return "", fmt.Errorf("victim choice %q: want one of %v", s, AllVictims)
}

// rankWait is the wait an ordering's first key is scaled by, so that it dominates every idle time
// a day's trace can hold (the planner turns waits into costs that fall as the wait grows).
const rankWait = 1000 * time.Hour

// estimator is the victim choice's gpu.NextUseEstimator at the sim's current time.
func (s *sim) estimator() gpu.NextUseEstimator {
	recency := gpu.LastRequestEstimator{Now: s.now, LastRequest: s.lastRequestOf}
	bySize := func(est gpu.NextUseEstimator) gpu.NextUseEstimator {
		return gpu.SizeWeighted{Est: est, Now: s.now, Bytes: s.bytesOf, Reference: int64(s.meanBytes)}
	}
	switch s.cfg.Cap.Victims {
	case VictimsLRU:
		return recency
	case VictimsSizeLRU:
		return bySize(recency)
	case VictimsLargestFirst:
		return estimatorFunc(func(model, _ string) (time.Time, float64) {
			i := s.index[model]
			// Larger first: a larger model is "wanted later"; recency breaks ties.
			return s.now.Add(time.Duration(s.bytes[i]/s.maxBytes*float64(rankWait)) + s.idle(i)), 1
		})
	case VictimsShortestKeepAlive:
		return estimatorFunc(func(model, _ string) (time.Time, float64) {
			i := s.index[model]
			// Shorter keep-alive first, then the lower name: both map to a later "next use".
			ka := s.cfg.Cap.KeepAlive(model)
			return s.now.Add(rankWait - min(ka, rankWait/2) + time.Duration(len(s.tr.Models)-int(s.nameRank[i]))*time.Minute), 1
		})
	}
	return s.predictor.Victims(s.now, s.lastRequestOf, s.bytesOf, int64(s.meanBytes))
}

// bytesOf is a model's size as the cap counts it.
func (s *sim) bytesOf(model, _ string) int64 { return int64(s.bytes[s.index[model]]) }

// estimatorFunc adapts a function to gpu.NextUseEstimator.
type estimatorFunc func(model, gateway string) (time.Time, float64)

func (f estimatorFunc) NextUse(model, gateway string) (time.Time, float64) { return f(model, gateway) }
