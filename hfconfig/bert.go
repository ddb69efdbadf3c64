package hfconfig

// BERT-style encoders (BERT, RoBERTa, DistilBERT, ELECTRA, MiniLM sentence
// transformers) go through [estimator.transformer]: the same layers as a
// decoder, learned absolute positions, and a token-type table. They generate
// no tokens, so they keep no KV cache (memory.go: neither IsLLM nor
// EncoderDecoder).

// encoderLearnedPositions are the encoder model types with a learned
// absolute position table.
var encoderLearnedPositions = []string{"bert", "roberta", "xlm-roberta", "distilbert", "camembert", "electra"}

// addTokenTypes adds BERT's token-type (segment) embeddings, type_vocab_size
// rows of the hidden size, when the config states them.
func addTokenTypes(emb float64, o object, h float64) float64 {
	if tv, ok := o.count("type_vocab_size"); ok {
		emb += float64(tv) * h
	}
	return emb
}
