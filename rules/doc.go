// Package rules decides which inference runtime serves a model and estimates,
// from a Hugging Face config.json, how large a model is and how much GPU memory
// it needs.
//
// The runtime decision is an ordered [Table] of named [Rule] values: the first
// rule that matches the model and whose runtime is enabled decides, and every
// [Decision] names that rule and explains itself in one sentence
// ([Decision.Reason]). [DefaultRules] reproduces the original brain: LLM
// families and BERT-family encoders go to vLLM, everything else to Ray Serve,
// and Triton is the fallback. [Analyze] reads config.json (and optionally a
// shard index) into an [Analysis]: architecture, shape, a parameter count and
// a [MemoryEstimate].
//
// The package does not choose a GPU, decide unloads from traffic, read files,
// the clock or the network, or know about gRPC: callers pass plain values in
// and get plain values back, so every decision is a pure function that tests
// can pin exactly.
package rules
