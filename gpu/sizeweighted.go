package gpu

import "time"

// SizeWeighted weighs another estimate by the victim's size: the wait Est gives is scaled by the
// model's bytes over Reference, so that of two models expected back equally late the larger goes
// first. Evicting a large model frees room that spares later evictions, and the count of cold
// starts, not of bytes, is what a victim choice is judged on (the Belady-size rule of caching:
// evict the largest next-use distance times size). Over LastRequestEstimator it is size-weighted
// LRU (kserve/modelmesh's model cache, an LRU weighted by size); over the predictive policy's
// estimate it is the brain's victim choice in the replay (replay.VictimsBrain).
type SizeWeighted struct {
	Est NextUseEstimator
	Now time.Time
	// Bytes is a model's size on a gateway; Reference, the size whose wait is left as is (the
	// mean model size, say); both > 0.
	Bytes     func(model, gateway string) int64
	Reference int64
}

// NextUse implements NextUseEstimator: Now + (Est's wait) × Bytes / Reference, Est's confidence.
func (s SizeWeighted) NextUse(model, gateway string) (time.Time, float64) {
	next, conf := s.Est.NextUse(model, gateway)
	wait := max(next.Sub(s.Now), 0)
	scaled := float64(wait) * float64(s.Bytes(model, gateway)) / float64(max(s.Reference, 1))
	return s.Now.Add(time.Duration(min(scaled, float64(maxWait)))), conf
}

// maxWait bounds a scaled wait below time.Duration's overflow: a century.
const maxWait = 100 * 365 * 24 * time.Hour

var _ NextUseEstimator = SizeWeighted{}
