// Package rules holds the brain's decisions as pure functions over plain Go
// values: which inference runtime serves a model, and whether a loaded model
// should be unloaded.
//
// The runtime decision is an ordered [Table] of named [Rule] values: the first
// rule that matches the model and whose runtime is enabled decides, and every
// [Decision] names that rule and explains itself in one sentence
// ([Decision.Reason]). [DefaultRules] reproduces the original brain: LLM
// families and BERT-family encoders go to vLLM, everything else to Ray Serve,
// and Triton is the fallback. [UnloadPolicy] decides unloads from the idle
// time and traffic a caller observed.
//
// The package does not read Hugging Face configs (package hfconfig does, and
// its Analysis gives the architecture and model_type a [Model] carries),
// choose a GPU, observe traffic, read files, the clock
// or the network, or know about gRPC: callers pass plain values in (time
// included) and get plain values back, so every decision can be pinned
// exactly by a test.
package rules
