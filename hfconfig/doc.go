// Package hfconfig reads a Hugging Face model's config.json (and optionally
// its shard index) and estimates what the model is and what it needs to
// serve: architecture and shape, a parameter count, and the GPU memory for
// weights, KV cache and overhead ([Analyze], [Analysis], [MemoryEstimate]).
//
// It decides nothing: the runtime choice (rules.Table.Choose) and GPU
// placement (package gpu) take its answers as plain values. It reads no
// files, clock or network and knows no gRPC; input it cannot read is a
// [*ConfigError] with a position, and a config that lacks fields gives a
// Partial analysis that names them, never an error.
//
// Where each model family is estimated:
//
//	analyze.go     Analyze, the Analysis type, which family a config is (analyze), the one rounding rule (toInt64), gated MLPs
//	json.go        reading JSON: ConfigError with line and column, field lookups under several names
//	dtype.go       bytes per parameter: torch_dtype/dtype, quantization (bits, 4-/8-bit, fp8)
//	memory.go      MemoryEstimate: weights + KV cache + overhead, and their defaults
//	decoder.go     Llama-style decoders (Llama, Mistral, Qwen2, Gemma, Phi): grouped-query attention, gated MLP; the shape every text transformer shares
//	gpt2.go        GPT-2/NeoX-style decoders (GPT-2, GPT-Neo(X), OPT, BLOOM, Falcon): n_* names, plain MLP, learned positions
//	moe.go         mixture of experts (Mixtral, Qwen2-MoE, DeepSeek-V3/R1) and DeepSeek's multi-head latent attention (MLA)
//	bert.go        BERT-style encoders (BERT, RoBERTa, DistilBERT, MiniLM): token types, no KV cache
//	encdec.go      encoder-decoders (T5, BART, mBART): both stacks, cross-attention, the decoder's KV cache
//	whisper.go     Whisper (audio): the mel input convolutions and the two position tables
//	vit.go         vision transformers (ViT, CLIP's and Qwen2-VL's vision towers, its patch merger)
//	resnet.go      convolutional networks (ResNet): stages of basic or bottleneck blocks
//	multimodal.go  text + vision towers: CLIP, BLIP, and vision-language models (Llava, Qwen2-VL)
//
// The tests follow the same split where a family has its own cases
// (analyze_test.go); hfconfigs_test.go holds every estimate against the
// published parameter counts of the real configs in testdata/hf-configs.
package hfconfig
