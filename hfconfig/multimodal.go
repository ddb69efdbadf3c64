package hfconfig

import (
	"slices"
	"strings"
)

// towerLearnedPositions are the text towers with a learned absolute position table.
var towerLearnedPositions = []string{"clip_text_model", "blip_text_model"}

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
		// CLIP projects both towers into one embedding space.
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
