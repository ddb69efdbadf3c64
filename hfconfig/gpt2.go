package hfconfig

import "slices"

// GPT-2/NeoX-style decoders (GPT-2, GPT-Neo, GPT-NeoX and RedPajama, OPT,
// BLOOM, Falcon) go through [estimator.transformer] like the Llama-style
// ones; what sets them apart is read there and here: their field names
// (n_layer, n_embd, n_head, n_inner, n_positions), a plain two-matrix MLP
// (gelu, not gated), Falcon's multi_query, and for GPT-2, GPT-Neo and OPT a
// learned table of absolute positions.

// decoderLearnedPositions are the decoder model types with a learned
// absolute position table (the others rotate or bias their attention).
var decoderLearnedPositions = []string{"gpt2", "gpt_neo", "opt"}

// learnedPositions reports whether modelType has a learned absolute position
// table: a GPT-2-style decoder, a BERT-style encoder (bert.go), BART
// (encdec.go) or the text tower of CLIP or BLIP (multimodal.go).
func learnedPositions(modelType string) bool {
	return slices.Contains(decoderLearnedPositions, modelType) ||
		slices.Contains(encoderLearnedPositions, modelType) ||
		slices.Contains(encoderDecoderLearnedPositions, modelType) ||
		slices.Contains(towerLearnedPositions, modelType)
}

// addAbsolutePositions adds to emb the learned position table of a model
// that has one (by model type, or position_embedding_type "absolute"), and
// the token-type table of a BERT-style encoder.
func addAbsolutePositions(emb float64, o object, modelType string, maxPos int64, h float64) float64 {
	posType, _ := o.str("position_embedding_type")
	if learnedPositions(modelType) || posType == "absolute" {
		emb += float64(maxPos) * h
		emb = addTokenTypes(emb, o, h)
	}
	return emb
}
