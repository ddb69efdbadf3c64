// Package replay answers "what would the brain have done with this traffic?": it reads a trace of
// per-minute request counts (the Azure Functions 2019 layouts, or a gateway's own request log) and
// replays it through the brain's own code on a virtual clock — the [metrics.Tracker] that the
// ReportModelState and ReportTraffic RPCs feed, the policy (recommend.FixedPolicy over
// rules.UnloadPolicy, or any recommend.Policy), and the evaluation cycle of [recommend.Engine] at the
// configured decision interval — with a simulated gateway that loads a
// model when a request finds it unloaded (a cold start), unloads it when the brain recommends so,
// and loads it when the brain recommends a pre-warm. It counts what that cost: cold starts, loads,
// idle model-minutes and idle memory.
//
// The package decides nothing itself: every keep or unload comes from the brain's evaluation cycle,
// so a change of policy or threshold changes the figures exactly as it would change the daemon's
// behaviour. It knows nothing of the wire format (no gen, no grpc).
//
// # Semantics (DESIGN.md, "Replay")
//
// A minute with at least one request is an invocation minute; models start unloaded. The requests
// of minute b reach the gateway at the minute's start, before the cycle that runs at that instant:
// the gateway reports one request in flight then, and at second 59 the minute's requests, none in
// flight (so the last request falls strictly inside its minute and a fixed keep-alive of T minutes
// unloads at the first cycle of minute a+T+1 after an invocation minute a). A request finds the
// model loaded, and is warm, iff minute b−1 was an invocation minute or the model was resident in
// minute b−1; otherwise it is a cold start and the gateway loads the model. A model is resident in
// minute m iff it is loaded at the start of minute m, after that instant's cycle. Idle
// model-minutes are resident minutes without a request, up to the end of the trace; loads are cold
// starts plus pre-warm loads. Counts are per invocation minute, not per request.
//
// With a decision interval that divides a minute (the default 10 s) the fixed policy reproduces
// DESIGN.md's fixed keep-alive figures exactly. With one that does not, an unload lands at the first
// cycle after the threshold, inside a minute, as it would in the daemon, and the model counts as
// resident in that minute.
//
// # Under a GPU memory cap (cap.go, victims.go)
//
// With Config.Cap the gateway has only so much GPU memory (a static inventory, one device for a
// cap given as bytes) and places every load through gpu.Allocator, the code behind ChooseGPU. A
// cold start that does not fit asks for an eviction plan (allow_eviction) and unloads its victims
// at once, before its own load: Evictions counts them, ColdStartsAfterEviction the cold starts of
// models whose latest unload was an eviction. A model requested in the current minute is in flight
// (its requests arrive at the minute's start), so it is never a victim; a cold start that finds no
// room even so stays unloaded (PlacementFailures) and its next invocation minute is cold again. A
// pre-warm is carried out only where it fits without evicting. Sizes come from the memory file
// (AverageAllocatedMb of the model's application); a model the file lacks gets the median of the
// others. The victim choice (Victims) is a gpu.NextUseEstimator handed to the same planner: the
// brain's (the predictive policy's next-request estimate, weighted by size) or a baseline's (LRU,
// size-weighted LRU as in ModelMesh, largest first as in LocalAI, shortest keep-alive first as in
// Ollama). The keep-alive policy is the same for every victim choice of a comparison.
package replay
