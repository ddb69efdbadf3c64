package hfconfig

// encoderDecoderLearnedPositions are the encoder-decoder model types with a
// learned absolute position table in each of the two stacks.
var encoderDecoderLearnedPositions = []string{"bart", "mbart"}

// encoderDecoder estimates a sequence-to-sequence model: T5 (d_kv, d_ff,
// num_layers, gated-gelu in v1.1), BART and mBART (encoder_layers,
// decoder_layers, learned positions) and Whisper, whose audio front end is
// in whisper.go. Only the decoder's self-attention keeps a KV cache.
func (e *estimator) encoderDecoder(o object) float64 {
	a := e.a
	a.EncoderDecoder = true
	d, okD := e.need(o, "d_model", "hidden_size")
	enc, okE := e.need(o, "encoder_layers", "num_layers", "num_hidden_layers")
	dec, ok := o.count("decoder_layers", "num_decoder_layers")
	if !ok {
		dec = enc
	}
	heads, okHeads := e.need(o, "encoder_attention_heads", "num_heads", "num_attention_heads")
	decHeads, ok := o.count("decoder_attention_heads", "num_heads", "num_attention_heads")
	if !ok {
		decHeads = heads
	}
	headDim, ok := o.count("d_kv", "head_dim")
	if !ok && okHeads && okD {
		headDim = d / heads
	}
	encFF, ok := o.count("encoder_ffn_dim", "d_ff", "intermediate_size")
	if !ok {
		encFF = 4 * d
		e.assume("intermediate_size=4*d_model")
	}
	decFF, ok := o.count("decoder_ffn_dim", "d_ff", "intermediate_size")
	if !ok {
		decFF = encFF
	}
	vocab, okV := e.need(o, "vocab_size")
	maxPos, _ := o.count("max_position_embeddings", "max_target_positions", "n_positions")
	tie := o.boolean("tie_word_embeddings", true)
	a.NumLayers, a.NumDecoderLayers, a.HiddenSize, a.NumAttentionHeads = enc, dec, d, heads
	a.NumKeyValueHeads, a.HeadDim, a.VocabSize, a.IntermediateSize = decHeads, headDim, vocab, encFF
	a.TieWordEmbeddings, a.MaxPositionEmbeddings = tie, maxPos
	if !okD || !okE {
		return 0
	}
	h := float64(d)
	inner := h
	if okHeads {
		inner = float64(heads) * float64(headDim)
	}
	mats := 2.0
	if gated(o, a.ModelType) {
		mats = 3
	}
	// An encoder layer has self-attention (4 projections) and an MLP; a decoder layer adds
	// cross-attention (4 more).
	params := float64(enc)*(4*h*inner+mats*h*float64(encFF)) + float64(dec)*(8*h*inner+mats*h*float64(decFF))
	if okV {
		params += float64(vocab) * h
		if !tie {
			params += float64(vocab) * h
		}
	}
	if p, isWhisper := addWhisperInputs(params, o, h); isWhisper {
		params = p
	} else if learnedPositions(a.ModelType) {
		params += 2 * float64(maxPos) * h
	}
	e.kvPerToken = 2 * float64(decHeads) * float64(headDim)
	e.kvLayers = float64(dec)
	return params
}
