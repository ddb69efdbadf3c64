// Package recommend is the recommendation engine: it holds the open set of recommendations (unload
// a model from a gateway, or load one there ahead of its next request), decides at every
// evaluation cycle which to open and which to withdraw by asking a [Policy] about every (model,
// gateway) pair the tracker knows, numbers every event in one sequence space, and fans the events
// out to subscribers through a [Hub] with snapshots, exact resume, coalescing and cut-off of slow
// subscribers.
//
// It decides when to recommend and withdraw, and it delivers; it does not decide what a model
// needs (that is the Policy's: [FixedPolicy] wraps rules.UnloadPolicy), it holds no traffic or
// state of its own (that is metrics.Tracker's), and it knows no wire format: the Hub is generic over
// the message it carries, and the server supplies the function that builds it once per event.
//
// The engine runs without a hub too: [Engine.Evaluate] returns the events it published, so that an
// in-process replay on a virtual clock can act on them synchronously.
package recommend
