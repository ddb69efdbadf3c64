// Package predict holds the predictive keep-alive and pre-warming policy: from the minutes in
// which each model was busy, it estimates the probability of a request in the coming minute and
// decides, at every evaluation cycle, whether a loaded model stays loaded or is unloaded, and
// whether an unloaded model with history is loaded now (pre-warmed) so that it is resident a
// minute before its expected next request.
//
// A model's [History] is bounded (about 1.3 KiB): a histogram of the gaps between its busy
// minutes (a renewal estimate: the probability of a request given how long it has been quiet), a
// histogram of the lags between any two of its busy minutes (periodic evidence: timers fire at a
// fixed lag from earlier requests, not only from the latest), and a plan, recomputed once per new
// busy minute, of the probability for each of the next [Horizon] minutes. A decision reads the
// plan: no arithmetic over the history, no allocation.
//
// The [Policy] keeps one History per model and gateway ([Key]: a pre-warm is a load on one
// gateway), fed from what the brain observes each cycle (the last request time there); with fewer than [Config.MinHistory] gaps it defers to the fixed
// policy ([rules.UnloadPolicy]), which also keeps deciding pinned models, per-model keep_alive and
// requests in flight. Histories are saved and restored with [Policy.WriteFile] and
// [Policy.ReadFile] (one file, written atomically).
//
// A "minute" is [Config.Step]: a minute by default, the unit the defaults were tuned in; a step of
// a few seconds only lets a demo or a test show a rhythm quickly (configs/predictive-demo.yaml).
//
// The package does not read the clock, the tracker or the network, and knows nothing of gRPC: the
// caller passes times and observations in and publishes the decisions.
package predict
