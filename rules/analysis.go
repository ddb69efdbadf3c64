package rules

import (
	"errors"
	"math"
	"slices"
	"strings"
)

// ParamSource says where Analysis.ParameterCount comes from.
type ParamSource string

// Parameter count sources.
const (
	// ParamSourceNone: no count; the analysis is partial.
	ParamSourceNone ParamSource = "none"
	// ParamSourceConfig: estimated from the shape in config.json.
	ParamSourceConfig ParamSource = "config"
	// ParamSourceShardIndex: metadata.total_size of a shard index
	// (model.safetensors.index.json or pytorch_model.bin.index.json, which
	// share the format) divided by the bytes a stored parameter takes.
	ParamSourceShardIndex ParamSource = "shard_index"
)

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

// AnalyzeOptions tune the memory estimate of [Analyze]. A zero field takes
// its default: ContextLength [DefaultContextLength] (capped by the model's
// max_position_embeddings), Sequences [DefaultSequences]. A given
// ContextLength is used as is, even beyond max_position_embeddings (RoPE
// scaling may allow it).
type AnalyzeOptions struct {
	ContextLength int64
	Sequences     int64
}

// MemoryEstimate is the GPU memory a model needs to serve, in bytes:
//
//	WeightsBytes  = ParameterCount × BytesPerParameter
//	KVCacheBytes  = 2 × layers × kv_heads × head_dim × ContextLength × Sequences × kv_bytes
//	                (MLA models such as DeepSeek-V3 cache a compressed latent instead:
//	                 layers × (kv_lora_rank + qk_rope_head_dim) × ContextLength × Sequences × kv_bytes)
//	OverheadBytes = OverheadFixedBytes + OverheadWeightsFraction × WeightsBytes
//	TotalBytes    = WeightsBytes + KVCacheBytes + OverheadBytes
//
// where kv_bytes is the size of the model's dtype (the KV cache stays in the
// activation dtype when weights are quantized) and layers are the decoder
// layers. Models that do not generate tokens (encoders, vision models) have
// no KV cache; for encoder-decoders only the decoder's self-attention is
// counted; a vision-language model (…ForConditionalGeneration with a
// decoder-only text part) has its language model's.
type MemoryEstimate struct {
	WeightsBytes  int64
	KVCacheBytes  int64
	OverheadBytes int64
	TotalBytes    int64
	ContextLength int64 // the context the KV cache was sized for
	Sequences     int64 // the sequences the KV cache was sized for
}

// Analysis is what [Analyze] reads from a Hugging Face config.json. Shape
// fields are 0 when the config does not state them (and nothing implies
// them); for an encoder-decoder NumLayers counts the encoder and
// NumDecoderLayers the decoder; for a model with text and vision towers
// (CLIP, BLIP) or a vision-language model (Llava, Qwen2-VL) the shape is the
// text part's and ParameterCount covers both.
type Analysis struct {
	Architecture string // architectures[0]
	ModelType    string
	DType        string // dtype or torch_dtype, as written
	Quantization string // quantization_config.quant_method, when quantized

	// BytesPerParameter is what a weight takes in GPU memory: the
	// quantized size when the config declares a quantization, else the
	// dtype's size (float32 assumed when no dtype is stated).
	BytesPerParameter float64

	NumLayers             int64
	NumDecoderLayers      int64
	HiddenSize            int64
	NumAttentionHeads     int64
	NumKeyValueHeads      int64
	HeadDim               int64
	VocabSize             int64
	IntermediateSize      int64
	TieWordEmbeddings     bool
	NumExperts            int64 // routed experts of an MoE model
	NumExpertsPerToken    int64
	NumSharedExperts      int64
	MaxPositionEmbeddings int64

	// ParameterCount is the number of parameters, from ParameterSource.
	// ConfigParameterCount is the estimate from config.json alone, kept
	// even when a shard index gives the count. Both saturate at
	// math.MaxInt64 (the analysis is then Partial), as do the byte counts
	// of Memory.
	ParameterCount       int64
	ParameterSource      ParamSource
	ConfigParameterCount int64

	Memory MemoryEstimate

	// Partial is true when a part of the estimate could not be made;
	// MissingFields names the config.json fields that would have made it.
	Partial       bool
	MissingFields []string
	// Assumed lists the defaults the analysis supplied, such as
	// "torch_dtype=float32".
	Assumed []string

	// IsLLM is true for a decoder-only text generator: an architecture that
	// ends in ForCausalLM or LMHeadModel.
	IsLLM bool
	// EncoderDecoder is true for sequence-to-sequence models (T5, BART, Whisper).
	EncoderDecoder bool
}

// Model returns the fields of a that the runtime decision reads, under name.
func (a Analysis) Model(name string) Model {
	return Model{Name: name, Architecture: a.Architecture, ModelType: a.ModelType}
}

// Analyze reads a Hugging Face config.json and, when indexJSON is not empty,
// a shard index (model.safetensors.index.json or pytorch_model.bin.index.json),
// and estimates the model's size and serving memory.
//
// The parameter count is metadata.total_size of the index divided by the
// bytes a stored parameter takes, when an index is given; otherwise it is
// estimated from the shape in config.json (embeddings, attention including
// grouped-query and DeepSeek's multi-head latent attention, dense or gated
// MLPs, MoE experts with shared experts and dense first layers, learned
// position embeddings; biases and norms are left out, which costs well under
// 1 %). Checkpoints often store another dtype than torch_dtype (float32 files
// of a float16 model) or mix dtypes (fp8 weights with float32 scales): when
// the config estimate exists, the stored size per parameter is taken as the
// one of 0.5, 1, 2 or 4 bytes closest to total_size / estimate, so the count
// stays right; the estimate from config.json stays in ConfigParameterCount.
//
// Missing fields never fail the analysis: the result is marked Partial and
// names them. Only unreadable input fails, with a *[ConfigError] that gives
// the byte offset, line and column; so does an index without a positive
// metadata.total_size, and negative options give a plain error.
func Analyze(configJSON, indexJSON []byte, opt AnalyzeOptions) (Analysis, error) {
	if opt.ContextLength < 0 || opt.Sequences < 0 {
		return Analysis{}, errors.New("analyze: context length and sequences must not be negative")
	}
	cfg, err := parseObject(InputConfig, configJSON)
	if err != nil {
		return Analysis{}, err
	}
	var totalSize float64
	if len(indexJSON) > 0 {
		idx, err := parseObject(InputIndex, indexJSON)
		if err != nil {
			return Analysis{}, err
		}
		meta, _ := idx.sub("metadata")
		ts, ok := meta.float("total_size")
		if !ok || ts <= 0 {
			return Analysis{}, &ConfigError{Input: InputIndex, Field: "metadata.total_size", Msg: "missing or not a positive number"}
		}
		totalSize = ts
	}

	e := estimator{a: &Analysis{}}
	params := e.analyze(cfg)
	if !(params > 0) {
		params = 0 // never a negative or NaN estimate into the counts and the memory
	}
	a := e.a
	a.ConfigParameterCount = toInt64(params)
	a.ParameterSource = ParamSourceNone
	if params > 0 {
		a.ParameterSource = ParamSourceConfig
	}
	if totalSize > 0 {
		stored := a.BytesPerParameter
		if usableCount(params) {
			stored = closestSize(totalSize / params)
			if stored != a.BytesPerParameter {
				e.assume("stored_bytes_per_parameter=" + formatBytes(stored))
			}
		}
		params = totalSize / stored
		a.ParameterSource = ParamSourceShardIndex
	}
	a.ParameterCount = toInt64(params)
	if !usableCount(params) {
		// No count, or one beyond int64 (ParameterCount saturates): either way it is not a
		// count to trust.
		a.Partial = true
	}
	e.memory(opt, params)
	return *a, nil
}

// usableCount reports whether a parameter estimate is a positive number that fits in int64:
// not 0, negative, NaN, infinite or saturated.
func usableCount(params float64) bool {
	return params > 0 && params < math.MaxInt64
}

// closestSize is the storage size per parameter (0.5, 1, 2 or 4 bytes)
// closest, by ratio, to r.
func closestSize(r float64) float64 {
	best, bestDist := 2.0, math.Inf(1)
	for _, s := range []float64{0.5, 1, 2, 4} {
		if d := math.Abs(math.Log(r / s)); d < bestDist {
			best, bestDist = s, d
		}
	}
	return best
}

// formatBytes writes a per-parameter size for Assumed.
func formatBytes(b float64) string {
	switch b {
	case 0.5:
		return "0.5"
	case 1:
		return "1"
	case 2:
		return "2"
	}
	return "4"
}

// toInt64 converts a non-negative estimate to int64, saturating instead of
// overflowing; NaN becomes 0.
func toInt64(f float64) int64 {
	switch {
	case !(f > 0):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(math.Round(f))
}

// estimator accumulates an Analysis and what it lacks.
type estimator struct {
	a       *Analysis
	kvBytes float64
	// kvPerToken is the KV-cache elements one token takes in one decoder
	// layer (2 × kv_heads × head_dim, or MLA's latent size); 0 = unknown.
	kvPerToken float64
	kvLayers   float64
	// generates is set for a vision-language model whose text part is a decoder: it keeps a
	// KV cache like an LLM.
	generates bool
}

// miss records that a field the estimate needs is absent.
func (e *estimator) miss(name string) {
	e.a.Partial = true
	if !slices.Contains(e.a.MissingFields, name) {
		e.a.MissingFields = append(e.a.MissingFields, name)
	}
}

// assume records a default the analysis supplied.
func (e *estimator) assume(what string) {
	if !slices.Contains(e.a.Assumed, what) {
		e.a.Assumed = append(e.a.Assumed, what)
	}
}

// need returns the first of keys that holds a positive whole number, or
// records the first key as missing.
func (e *estimator) need(o object, keys ...string) (int64, bool) {
	v, ok := o.count(keys...)
	if !ok {
		e.miss(keys[0])
	}
	return v, ok
}

// analyze fills the descriptive fields and returns the config-based
// parameter estimate (0 when it cannot be made).
func (e *estimator) analyze(cfg object) float64 {
	a := e.a
	if archs, ok := cfg["architectures"].([]any); ok && len(archs) > 0 {
		a.Architecture, _ = archs[0].(string)
	}
	a.ModelType, _ = cfg.str("model_type")
	if a.Architecture == "" && a.ModelType == "" {
		e.miss("architectures")
	}
	a.IsLLM = strings.HasSuffix(a.Architecture, "ForCausalLM") || strings.HasSuffix(a.Architecture, "LMHeadModel")
	e.dtype(cfg)

	text, hasText := cfg.sub("text_config")
	vision, hasVision := cfg.sub("vision_config")
	switch {
	case cfg.has("hidden_sizes"):
		return e.convNet(cfg)
	case hasVision || (hasText && !cfg.has("hidden_size") && !cfg.has("num_hidden_layers")):
		return e.towers(cfg, text, hasText, vision, hasVision)
	case cfg.has("image_size") && cfg.has("patch_size") && !cfg.has("vocab_size"):
		return e.visionTransformer(cfg, true)
	case cfg.boolean("is_encoder_decoder", false) || (cfg.has("encoder_layers") && cfg.has("decoder_layers")):
		return e.encoderDecoder(cfg)
	}
	return e.transformer(cfg, a.ModelType, true)
}

// dtype reads the weight and activation sizes.
func (e *estimator) dtype(cfg object) {
	a := e.a
	dt, ok := cfg.str("dtype", "torch_dtype")
	if !ok {
		if text, isSub := cfg.sub("text_config"); isSub {
			dt, ok = text.str("dtype", "torch_dtype")
		}
	}
	size, known := dtypeSize(dt)
	if !ok || !known {
		size = 4
		e.assume("torch_dtype=float32")
	}
	a.DType = dt
	e.kvBytes = size
	a.BytesPerParameter = size
	q, ok := cfg.sub("quantization_config")
	if !ok {
		return
	}
	a.Quantization, _ = q.str("quant_method")
	fmtName, _ := q.str("fmt")
	switch bits, hasBits := q.count("bits", "weight_bits"); {
	case hasBits:
		a.BytesPerParameter = float64(bits) / 8
	case q.boolean("load_in_4bit", false):
		a.BytesPerParameter = 0.5
	case q.boolean("load_in_8bit", false),
		strings.Contains(strings.ToLower(a.Quantization), "fp8"),
		strings.HasPrefix(strings.ToLower(fmtName), "e4m3"), strings.HasPrefix(strings.ToLower(fmtName), "e5m2"):
		a.BytesPerParameter = 1
	}
}

// dtypeSize is the size in bytes of a torch dtype name.
func dtypeSize(dt string) (float64, bool) {
	switch strings.TrimPrefix(strings.ToLower(dt), "torch.") {
	case "float32", "fp32", "float":
		return 4, true
	case "float16", "fp16", "half", "bfloat16", "bf16":
		return 2, true
	case "float8_e4m3fn", "float8_e5m2", "fp8", "int8", "uint8":
		return 1, true
	case "float64", "double":
		return 8, true
	}
	return 0, false
}

// learnedPositions are model types with a learned absolute position table.
var learnedPositions = []string{
	"gpt2", "gpt_neo", "opt", "bert", "roberta", "xlm-roberta", "distilbert",
	"camembert", "electra", "bart", "mbart", "clip_text_model", "blip_text_model",
}

// gatedActivations are MLP activations that imply a gated MLP (three matrices).
var gatedActivations = []string{"silu", "swish", "swiglu"}

// gated reports whether o describes a gated (SwiGLU/GeGLU) MLP.
func gated(o object, modelType string) bool {
	act, _ := o.str("hidden_act", "activation_function", "hidden_activation")
	proj, _ := o.str("feed_forward_proj")
	return slices.Contains(gatedActivations, act) || strings.HasPrefix(modelType, "gemma") || strings.HasPrefix(proj, "gated")
}

// transformer estimates an encoder-only or decoder-only transformer with a
// vocabulary. record says whether its shape is the Analysis's shape.
func (e *estimator) transformer(o object, modelType string, record bool) float64 {
	layers, okL := e.need(o, "num_hidden_layers", "n_layer", "n_layers", "num_layers")
	hidden, okH := e.need(o, "hidden_size", "n_embd", "n_embed", "d_model", "dim")
	vocab, okV := e.need(o, "vocab_size", "padded_vocab_size", "n_vocab")
	heads, okHeads := e.need(o, "num_attention_heads", "n_head", "n_heads", "num_heads")
	kv, ok := o.count("num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num")
	if !ok {
		kv = heads
		if o.boolean("multi_query", false) {
			kv = 1
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
		body = L*attn + (L-moeLayers)*dense + moeLayers*moe
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
	posType, _ := o.str("position_embedding_type")
	if slices.Contains(learnedPositions, modelType) || posType == "absolute" {
		emb += float64(maxPos) * h
		if tv, ok := o.count("type_vocab_size"); ok {
			emb += float64(tv) * h
		}
	}
	return body + emb
}

// encoderDecoder estimates a sequence-to-sequence model (T5, BART, Whisper).
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
	params := float64(enc)*(4*h*inner+mats*h*float64(encFF)) + float64(dec)*(8*h*inner+mats*h*float64(decFF))
	if okV {
		params += float64(vocab) * h
		if !tie {
			params += float64(vocab) * h
		}
	}
	if src, ok := o.count("max_source_positions"); ok {
		tgt, _ := o.count("max_target_positions")
		params += float64(src+tgt) * h
		if mel, ok := o.count("num_mel_bins"); ok {
			params += 3*float64(mel)*h + 3*h*h // Whisper's two input convolutions
		}
	} else if slices.Contains(learnedPositions, a.ModelType) {
		params += 2 * float64(maxPos) * h
	}
	e.kvPerToken = 2 * float64(decHeads) * float64(headDim)
	e.kvLayers = float64(dec)
	return params
}

// visionTransformer estimates a ViT encoder. Besides ViT's and CLIP's field names it reads
// Qwen2-VL's (depth, embed_dim, mlp_ratio, in_chans, temporal_patch_size) and its patch
// merger (spatial_merge_size, into out_hidden_size or the vision hidden_size); a tower with a
// spatial merge has no position table, so it needs no image_size.
func (e *estimator) visionTransformer(o object, record bool) float64 {
	layers, okL := e.need(o, "num_hidden_layers", "depth")
	// Qwen2-VL's vision hidden_size is the merger's output; embed_dim is the tower's width.
	hidden, okH := o.count("embed_dim")
	if !okH {
		hidden, okH = e.need(o, "hidden_size")
	}
	inter, ok := o.count("intermediate_size")
	if !ok {
		inter = 4 * hidden
		if r, ok := o.float("mlp_ratio"); ok && r > 0 {
			inter = toInt64(r * float64(hidden))
		}
	}
	heads, _ := o.count("num_attention_heads", "num_heads")
	merge, hasMerge := o.count("spatial_merge_size")
	image, okI := o.count("image_size")
	if !okI && !hasMerge {
		e.miss("image_size")
	}
	patch, okP := e.need(o, "patch_size")
	channels, ok := o.count("num_channels", "in_chans", "in_channels")
	if !ok {
		channels = 3
	}
	if record {
		a := e.a
		a.NumLayers, a.HiddenSize, a.NumAttentionHeads, a.NumKeyValueHeads, a.IntermediateSize = layers, hidden, heads, heads, inter
		if heads > 0 {
			a.HeadDim = hidden / heads
		}
	}
	if !okL || !okH {
		return 0
	}
	h := float64(hidden)
	mats := 2.0
	if gated(o, "") {
		mats = 3 // Qwen2.5-VL's vision MLP is SwiGLU
	}
	params := float64(layers) * (4*h*h + mats*h*float64(inter))
	if okP {
		proj := float64(channels) * float64(patch) * float64(patch) * h
		if t, ok := o.count("temporal_patch_size"); ok {
			proj *= float64(t) // a 3-D patch over video frames
		}
		params += proj
	}
	if okI && okP {
		side := float64(image / patch)
		params += (side*side + 2) * h // positions, class token
	}
	if hasMerge {
		// The merger's MLP takes merge² neighbouring patches to the language model's width.
		in := h * float64(merge) * float64(merge)
		out, ok := o.count("out_hidden_size")
		if _, isEmbed := o.count("embed_dim"); !ok && isEmbed {
			out, ok = o.count("hidden_size")
		}
		if ok {
			params += in*in + in*float64(out)
		}
	}
	return params
}

// decoderTypes are model types of decoder-only language models, for the text part of a
// vision-language model.
var decoderTypes = []string{
	"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2",
	"gemma3_text", "phi", "phi3", "granite", "cohere", "olmo", "olmo2", "internlm2", "gpt2", "opt",
}

// towers estimates a model with separate text and vision towers (CLIP, BLIP), or a
// vision-language model: a language model and a vision tower, the language model's fields in
// text_config (Llava) or at the top level beside vision_config (Qwen2-VL, Qwen2.5-VL). When the
// architecture generates text (…ForConditionalGeneration) with a decoder-only text part, its
// KV cache is kept.
func (e *estimator) towers(cfg, text object, hasText bool, vision object, hasVision bool) float64 {
	var params, textHidden, visionHidden float64
	// A language model's fields at the top level beside vision_config make it the text part.
	topText := !hasText && (cfg.has("num_hidden_layers") || cfg.has("hidden_size"))
	textDecoder := topText
	if topText {
		params += e.transformer(cfg, e.a.ModelType, true)
		textHidden = float64(e.a.HiddenSize)
	}
	if hasText {
		mt, _ := text.str("model_type")
		params += e.transformer(text, mt, true)
		if e.a.ModelType == "blip" {
			// BLIP's text decoder cross-attends to the image in every layer.
			params += float64(e.a.NumLayers) * 2 * float64(e.a.HiddenSize) * float64(e.a.HiddenSize+visionHiddenSize(vision))
		}
		textHidden = float64(e.a.HiddenSize)
		arch := ""
		if archs, ok := text["architectures"].([]any); ok && len(archs) > 0 {
			arch, _ = archs[0].(string)
		}
		textDecoder = slices.Contains(decoderTypes, mt) || strings.HasSuffix(arch, "ForCausalLM")
	}
	if hasVision {
		params += e.visionTransformer(vision, !hasText && !topText)
		visionHidden = float64(visionHiddenSize(vision))
	}
	if proj, ok := cfg.count("projection_dim"); ok && strings.Contains(e.a.ModelType, "clip") {
		params += (textHidden + visionHidden) * float64(proj)
	}
	e.generates = textDecoder && strings.HasSuffix(e.a.Architecture, "ForConditionalGeneration")
	if !e.a.IsLLM && !e.generates {
		e.kvPerToken = 0 // an image-text encoder keeps no KV cache
	}
	return params
}

// visionHiddenSize is the hidden size of a vision tower, 0 if unknown.
func visionHiddenSize(vision object) int64 {
	h, _ := vision.count("hidden_size")
	return h
}

// convNet estimates a ResNet-style convolutional network from hidden_sizes
// and depths (bottleneck blocks reduce channels 4×; basic blocks do not).
func (e *estimator) convNet(cfg object) float64 {
	sizes, okS := cfg.counts("hidden_sizes")
	depths, okD := cfg.counts("depths")
	if !okS {
		e.miss("hidden_sizes")
	}
	if !okD {
		e.miss("depths")
	}
	if !okS || !okD || len(sizes) != len(depths) {
		return 0
	}
	stem, ok := cfg.count("embedding_size")
	if !ok {
		stem = 64
	}
	channels, ok := cfg.count("num_channels")
	if !ok {
		channels = 3
	}
	layerType, _ := cfg.str("layer_type")
	block := func(in, out float64) float64 {
		if layerType == "basic" {
			return 9*in*out + 9*out*out
		}
		mid := out / 4
		return in*mid + 9*mid*mid + mid*out
	}
	params := float64(channels) * float64(stem) * 49 // the 7×7 stem
	in := float64(stem)
	var blocks int64
	// A stage's first block takes the previous stage's width; the other depth-1 blocks repeat
	// one shape, so a stage costs O(1) however large a depth the config states (up to 2^53).
	for i, size := range sizes {
		out := float64(size)
		params += block(in, out) + float64(depths[i]-1)*block(out, out)
		if in != out {
			params += in * out // projection shortcut
		}
		in = out
		if blocks > math.MaxInt64-depths[i] {
			blocks = math.MaxInt64
		} else {
			blocks += depths[i]
		}
	}
	if labels, ok := cfg["id2label"].(map[string]any); ok && strings.HasSuffix(e.a.Architecture, "ForImageClassification") {
		params += in*float64(len(labels)) + float64(len(labels))
	}
	e.a.NumLayers, e.a.HiddenSize = blocks, sizes[len(sizes)-1]
	return params
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
	weights := params * a.BytesPerParameter
	var kv float64
	if a.IsLLM || a.EncoderDecoder || e.generates {
		if e.kvPerToken == 0 || e.kvLayers == 0 {
			e.miss("num_attention_heads")
		}
		kv = e.kvLayers * e.kvPerToken * float64(m.ContextLength) * float64(m.Sequences) * e.kvBytes
	}
	overhead := OverheadFixedBytes + OverheadWeightsFraction*weights
	m.WeightsBytes, m.KVCacheBytes, m.OverheadBytes = toInt64(weights), toInt64(kv), toInt64(overhead)
	m.TotalBytes = toInt64(weights + kv + overhead)
}
