package hfconfig

import "math"

// Defaults and constants of the memory estimate.
const (
	// DefaultContextLength caps the context of the KV-cache estimate when the
	// caller gives none: the context is min(max_position_embeddings, 4096),
	// or 4096 when the config states no maximum. Long-context models
	// (131,072 positions) are rarely served at full length, and 4096 tokens
	// is the common serving default.
	DefaultContextLength = 4096
	// DefaultSequences is the number of sequences the KV cache holds when
	// the caller gives none.
	DefaultSequences = 1
	// OverheadFixedBytes is the fixed part of the overhead: the CUDA
	// context, the runtime's own buffers and the allocator's reserve.
	OverheadFixedBytes = 512 << 20
	// OverheadWeightsFraction is the part of the overhead that grows with
	// the weights: activations, workspaces and fragmentation.
	OverheadWeightsFraction = 0.10
)

// MemoryEstimate is the GPU memory a model needs to serve, in bytes:
//
//	WeightsBytes  = ParameterCount × BytesPerParameter
//	KVCacheBytes  = 2 × layers × kv_heads × head_dim × ContextLength × Sequences × kv_bytes
//	                (MLA models such as DeepSeek-V3 cache a compressed latent instead:
//	                 layers × (kv_lora_rank + qk_rope_head_dim) × ContextLength × Sequences × kv_bytes)
//	OverheadBytes = OverheadFixedBytes + OverheadWeightsFraction × WeightsBytes
//	TotalBytes    = WeightsBytes + KVCacheBytes + OverheadBytes, exactly
//
// where kv_bytes is the size of the model's dtype (the KV cache stays in the
// activation dtype when weights are quantized) and layers are the decoder
// layers. Models that do not generate tokens (encoders, vision models) have
// no KV cache; for encoder-decoders only the decoder's self-attention is
// counted; a vision-language model (…ForConditionalGeneration with a
// decoder-only text part) has its language model's.
//
// Each part is rounded once, to the nearest byte, and TotalBytes is the sum
// of the rounded parts, so a caller that adds the parts gets the total. A
// total beyond math.MaxInt64 (8 EiB, an absurd config) saturates there: the
// parts are then cut, in the order weights, KV cache, overhead, to what the
// parts before them leave, so the sum still holds.
type MemoryEstimate struct {
	WeightsBytes  int64
	KVCacheBytes  int64
	OverheadBytes int64
	TotalBytes    int64
	ContextLength int64 // the context the KV cache was sized for
	Sequences     int64 // the sequences the KV cache was sized for
}

// memory fills a.Memory from params and the KV-cache shape.
func (e *estimator) memory(opt AnalyzeOptions, params float64) {
	a := e.a
	m := &a.Memory
	m.ContextLength = opt.ContextLength
	if m.ContextLength == 0 {
		m.ContextLength = DefaultContextLength
		if a.MaxPositionEmbeddings > 0 {
			m.ContextLength = min(a.MaxPositionEmbeddings, DefaultContextLength)
		}
	}
	m.Sequences = opt.Sequences
	if m.Sequences == 0 {
		m.Sequences = DefaultSequences
	}
	var kv float64
	if a.IsLLM || a.EncoderDecoder || e.generates {
		if e.kvPerToken == 0 || e.kvLayers == 0 {
			e.miss("num_attention_heads")
		}
		kv = e.kvLayers * e.kvPerToken * float64(m.ContextLength) * float64(m.Sequences) * e.kvBytes
	}
	weights := toInt64(params * a.BytesPerParameter)
	overhead := toInt64(OverheadFixedBytes + OverheadWeightsFraction*float64(weights))
	m.WeightsBytes, m.KVCacheBytes, m.OverheadBytes, m.TotalBytes = sumParts(weights, toInt64(kv), overhead)
}

// sumParts returns the parts and their total, each part cut to the room the
// parts before it leave under math.MaxInt64, so that w+kv+o == total always
// (all inputs are non-negative).
func sumParts(w, kv, o int64) (int64, int64, int64, int64) {
	kv = min(kv, math.MaxInt64-w)
	o = min(o, math.MaxInt64-w-kv)
	return w, kv, o, w + kv + o
}
