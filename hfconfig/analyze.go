package hfconfig

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

// AnalyzeOptions tune the memory estimate of [Analyze]. A zero field takes
// its default: ContextLength [DefaultContextLength] (capped by the model's
// max_position_embeddings), Sequences [DefaultSequences]. A given
// ContextLength is used as is, even beyond max_position_embeddings (RoPE
// scaling may allow it).
type AnalyzeOptions struct {
	ContextLength int64
	Sequences     int64
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

// analyze fills the descriptive fields and returns the config-based
// parameter estimate (0 when it cannot be made). It sends the config to the
// estimate of its family; doc.go maps the families to their files.
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
		return e.convNet(cfg) // resnet.go
	case hasVision || (hasText && !cfg.has("hidden_size") && !cfg.has("num_hidden_layers")):
		return e.towers(cfg, text, hasText, vision, hasVision) // multimodal.go
	case cfg.has("image_size") && cfg.has("patch_size") && !cfg.has("vocab_size"):
		return e.visionTransformer(cfg, true) // vit.go
	case cfg.boolean("is_encoder_decoder", false) || (cfg.has("encoder_layers") && cfg.has("decoder_layers")):
		return e.encoderDecoder(cfg) // encdec.go, whisper.go
	}
	return e.transformer(cfg, a.ModelType, true) // decoder.go, with gpt2.go, bert.go, moe.go
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

// toInt64 converts a non-negative estimate to int64, rounding to the nearest
// whole number and saturating instead of overflowing; NaN becomes 0. It is
// the one rounding rule of the package: counts and every byte count of
// [MemoryEstimate] go through it.
func toInt64(f float64) int64 {
	switch {
	case !(f > 0):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(math.Round(f))
}

// gatedActivations are MLP activations that imply a gated MLP (three matrices).
var gatedActivations = []string{"silu", "swish", "swiglu"}

// gated reports whether o describes a gated (SwiGLU/GeGLU) MLP. Every family
// asks it: Llama-style decoders, T5 v1.1's gated-gelu, Qwen2.5-VL's vision MLP.
func gated(o object, modelType string) bool {
	act, _ := o.str("hidden_act", "activation_function", "hidden_activation")
	proj, _ := o.str("feed_forward_proj")
	return slices.Contains(gatedActivations, act) || strings.HasPrefix(modelType, "gemma") || strings.HasPrefix(proj, "gated")
}
