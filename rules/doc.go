// Package rules holds the brain's decisions as pure functions over plain Go
// values: which inference runtime serves a model, whether a loaded model
// should be unloaded, and, from a Hugging Face config.json, how large a model
// is and how much GPU memory it needs.
//
// The runtime decision is an ordered [Table] of named [Rule] values: the first
// rule that matches the model and whose runtime is enabled decides, and every
// [Decision] names that rule and explains itself in one sentence
// ([Decision.Reason]). [DefaultRules] reproduces the original brain: LLM
// families and BERT-family encoders go to vLLM, everything else to Ray Serve,
// and Triton is the fallback. [Analyze] reads config.json (and optionally a
// shard index) into an [Analysis]: architecture, shape, a parameter count and
// a [MemoryEstimate]. [UnloadPolicy] decides unloads from the idle time and
// traffic a caller observed.
//
// The package does not choose a GPU, observe traffic, read files, the clock
// or the network, or know about gRPC: callers pass plain values in (time
// included) and get plain values back, so every decision can be pinned
// exactly by a test.
package rules
