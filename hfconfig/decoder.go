package hfconfig

// transformer estimates an encoder-only or decoder-only transformer with a
// vocabulary: the Llama-style decoders (Llama, Mistral, Qwen2, Gemma, Phi-3,
// with grouped-query attention and gated MLPs) and, through the same shape
// with their own parts, the GPT-2/NeoX-style decoders (gpt2.go), the
// BERT-style encoders (bert.go) and the MoE decoders, DeepSeek's latent
// attention included (moe.go). record says whether its shape is the
// Analysis's shape (not for the text tower of a multimodal model whose
// other tower recorded it).
func (e *estimator) transformer(o object, modelType string, record bool) float64 {
	layers, okL := e.need(o, "num_hidden_layers", "n_layer", "n_layers", "num_layers")
	hidden, okH := e.need(o, "hidden_size", "n_embd", "n_embed", "d_model", "dim")
	vocab, okV := e.need(o, "vocab_size", "padded_vocab_size", "n_vocab")
	heads, okHeads := e.need(o, "num_attention_heads", "n_head", "n_heads", "num_heads")
	kv, ok := o.count("num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num")
	if !ok {
		kv = heads
		if o.boolean("multi_query", false) {
			kv = 1 // Falcon's multi-query attention
		}
	}
	headDim, ok := o.count("head_dim", "d_kv")
	if !ok && okHeads && okH {
		headDim = hidden / heads
	}
	inter, ok := o.count("intermediate_size", "n_inner", "ffn_dim", "hidden_dim", "d_ff", "ffn_hidden_size")
	if !ok && okH {
		inter = 4 * hidden
		e.assume("intermediate_size=4*hidden_size")
	}
	maxPos, _ := o.count("max_position_embeddings", "n_positions", "n_ctx", "seq_length", "max_sequence_length")
	tie := o.boolean("tie_word_embeddings", true)
	experts, _ := o.count("num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts")
	perTok, _ := o.count("num_experts_per_tok", "num_experts_per_token", "moe_top_k")
	shared, _ := o.count("n_shared_experts", "num_shared_experts")
	kvLora, mla := o.count("kv_lora_rank")

	if record {
		a := e.a
		a.NumLayers, a.HiddenSize, a.NumAttentionHeads, a.NumKeyValueHeads = layers, hidden, heads, kv
		a.HeadDim, a.VocabSize, a.IntermediateSize, a.TieWordEmbeddings = headDim, vocab, inter, tie
		a.NumExperts, a.NumExpertsPerToken, a.NumSharedExperts, a.MaxPositionEmbeddings = experts, perTok, shared, maxPos
	}
	if !okL || !okH {
		return 0
	}
	L, h := float64(layers), float64(hidden)

	// Attention.
	var attn float64
	switch {
	case mla:
		attn = e.mlaAttention(o, h, heads, kvLora, record)
	case okHeads:
		// Shape products are taken in float64: each factor may be up to 2^53, and an int64
		// product would wrap (to a negative or a plausible-looking count).
		q := float64(heads) * float64(headDim)
		kvDim := float64(kv) * float64(headDim)
		attn = 2*h*q + 2*h*kvDim
		e.kvPerToken = 2 * kvDim
	default:
		attn = 4 * h * h
	}

	// MLP: dense layers, then MoE layers.
	mats := 2.0
	if gated(o, modelType) {
		mats = 3
	}
	dense := mats * h * float64(inter)
	body := L * (attn + dense)
	if experts > 0 {
		body = moeBody(o, layers, inter, experts, shared, mats, h, attn, dense)
	}
	e.kvLayers = L

	// Embeddings.
	emb := 0.0
	if okV {
		emb = float64(vocab) * h
		if !tie {
			emb *= 2
		}
	}
	emb = addAbsolutePositions(emb, o, modelType, maxPos, h)
	return body + emb
}
