package hfconfig

import "math"

// moeBody is the layers' parameters of a mixture-of-experts decoder
// (Mixtral, Qwen2-MoE, DeepSeek-V3): every layer's attention, the dense MLP
// of the first first_k_dense_replace layers (and of the layers between
// sparse ones, moe_layer_freq / decoder_sparse_step), and in the other
// layers the routed experts, the shared experts (n_shared_experts of
// moe_intermediate_size, or Qwen's one shared_expert_intermediate_size
// expert with its gate) and the router. Every expert counts, not only the
// num_experts_per_tok that run per token: all are resident in GPU memory.
func moeBody(o object, layers, inter, experts, shared int64, mats, h, attn, dense float64) float64 {
	L := float64(layers)
	moeInter, ok := o.count("moe_intermediate_size")
	if !ok {
		moeInter = inter
	}
	expert := mats * h * float64(moeInter)
	moe := float64(experts)*expert + float64(shared)*expert + h*float64(experts)
	if sei, ok := o.count("shared_expert_intermediate_size"); ok {
		moe += mats*h*float64(sei) + h
	}
	firstDense, _ := o.count("first_k_dense_replace")
	freq, ok := o.count("moe_layer_freq", "decoder_sparse_step")
	if !ok {
		freq = 1
	}
	moeLayers := 0.0
	if layers > firstDense {
		moeLayers = math.Ceil(float64(layers-firstDense) / float64(freq))
	}
	return L*attn + (L-moeLayers)*dense + moeLayers*moe
}

// mlaAttention is a layer's attention parameters under DeepSeek's multi-head
// latent attention (DeepSeek-V2/V3/R1, found by kv_lora_rank): queries
// through an optional low-rank q_lora_rank, keys and values compressed into a
// kv_lora_rank latent plus a shared rotary key of qk_rope_head_dim. The KV
// cache holds only that latent and rotary key, so it sets kvPerToken to
// kv_lora_rank + qk_rope_head_dim, a single (not doubled) vector a token.
func (e *estimator) mlaAttention(o object, h float64, heads, kvLora int64, record bool) float64 {
	var attn float64
	nope, _ := o.count("qk_nope_head_dim")
	rope, _ := o.count("qk_rope_head_dim")
	v, ok := o.count("v_head_dim")
	if !ok {
		v = nope
	}
	H, qk := float64(heads), float64(nope+rope)
	if qLora, ok := o.count("q_lora_rank"); ok {
		attn += h*float64(qLora) + float64(qLora)*H*qk
	} else {
		attn += h * H * qk
	}
	attn += h*float64(kvLora+rope) + float64(kvLora)*H*float64(nope+v) + H*float64(v)*h
	if record {
		e.a.HeadDim = nope + rope
	}
	e.kvPerToken = float64(kvLora + rope)
	return attn
}
