package hfconfig_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelium/brain/hfconfig"
)

// TestExactParameterCounts holds small configs of each family to parameter counts worked out by
// hand in the comments, and the KV cache to its exact size per token. The real configs are held to
// their published counts within 10 % (TestRealConfigs); a defect in one part of a family (one
// layer's attention, the count of MoE layers) can hide inside those 10 %, not inside an exact count.
func TestExactParameterCounts(t *testing.T) {
	// Every case reads its KV cache at a context of 10 tokens and 3 sequences.
	opt := hfconfig.AnalyzeOptions{ContextLength: 10, Sequences: 3}
	tests := []struct {
		name    string
		config  string
		params  int64
		kvBytes int64 // the KV cache of 10 tokens × 3 sequences
		headDim int64
	}{
		{"DeepSeek-V3 shape: latent attention with a query LoRA, dense first layer, MoE every 2nd layer",
			// h=64 L=5 V=100 H=4 q_lora=16 kv_lora=8 nope=6 rope=2 v=5, gated MLP (3 matrices).
			// attention: h*q_lora + q_lora*H*(nope+rope) + h*(kv_lora+rope) + kv_lora*H*(nope+v) + H*v*h
			//          = 1024 + 512 + 640 + 352 + 1280 = 3808 a layer
			// dense MLP: 3*64*128 = 24576; an expert: 3*64*32 = 6144
			// MoE layer: 8 routed + 1 shared experts + router 64*8 = 49152 + 6144 + 512 = 55808
			// MoE layers: ceil((5 - 1 dense) / 2) = 2, so 3 dense layers
			// body: 5*3808 + 3*24576 + 2*55808 = 19040 + 73728 + 111616 = 204384
			// embeddings, untied: 2*100*64 = 12800; total 217184
			// KV: the latent kv_lora+rope = 10 elements a token a layer: 5*10*30 tokens*2 bytes = 3000
			`{"architectures":["DeepseekV3ForCausalLM"],"model_type":"deepseek_v3","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":5,"vocab_size":100,"num_attention_heads":4,"hidden_act":"silu",
			"q_lora_rank":16,"kv_lora_rank":8,"qk_nope_head_dim":6,"qk_rope_head_dim":2,"v_head_dim":5,
			"intermediate_size":128,"moe_intermediate_size":32,"n_routed_experts":8,"n_shared_experts":1,
			"num_experts_per_tok":2,"first_k_dense_replace":1,"moe_layer_freq":2,"tie_word_embeddings":false}`,
			217184, 3000, 8},
		{"DeepSeek-V2-Lite shape: latent attention without a query LoRA, v_head_dim defaults to the nope dim",
			// attention: h*H*(nope+rope) + h*(kv_lora+rope) + kv_lora*H*(nope+nope) + H*nope*h
			//          = 64*4*8 + 640 + 8*4*12 + 4*6*64 = 2048 + 640 + 384 + 1536 = 4608 a layer
			// MoE layer as above: 55808; every layer is MoE (no dense layers, frequency 1)
			// body: 3*4608 + 3*55808 = 13824 + 167424 = 181248; embeddings untied 12800; total 194048
			// KV: 3 layers*10*30*2 = 1800
			`{"architectures":["DeepseekV2ForCausalLM"],"model_type":"deepseek_v2","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":3,"vocab_size":100,"num_attention_heads":4,"hidden_act":"silu",
			"kv_lora_rank":8,"qk_nope_head_dim":6,"qk_rope_head_dim":2,
			"intermediate_size":128,"moe_intermediate_size":32,"n_routed_experts":8,"n_shared_experts":1,
			"num_experts_per_tok":2,"tie_word_embeddings":false}`,
			194048, 1800, 8},
		{"dense layers beyond the depth leave no MoE layer",
			// first_k_dense_replace 9 > 3 layers: 3*(4608 + 24576) + 12800 = 87552 + 12800 = 100352
			`{"architectures":["DeepseekV2ForCausalLM"],"model_type":"deepseek_v2","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":3,"vocab_size":100,"num_attention_heads":4,"hidden_act":"silu",
			"kv_lora_rank":8,"qk_nope_head_dim":6,"qk_rope_head_dim":2,
			"intermediate_size":128,"moe_intermediate_size":32,"n_routed_experts":8,"n_shared_experts":1,
			"first_k_dense_replace":9,"tie_word_embeddings":false}`,
			100352, 1800, 8},
		{"dense layers equal to the depth leave no MoE layer",
			// first_k_dense_replace 3 = 3 layers: as above
			`{"architectures":["DeepseekV2ForCausalLM"],"model_type":"deepseek_v2","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":3,"vocab_size":100,"num_attention_heads":4,"hidden_act":"silu",
			"kv_lora_rank":8,"qk_nope_head_dim":6,"qk_rope_head_dim":2,
			"intermediate_size":128,"moe_intermediate_size":32,"n_routed_experts":8,"n_shared_experts":1,
			"first_k_dense_replace":3,"tie_word_embeddings":false}`,
			100352, 1800, 8},
		{"Qwen2-MoE shape: one shared expert with its own size and gate, grouped-query attention",
			// h=64 L=4 H=4 kv=2 head_dim=16: attention 2*64*64 + 2*64*32 = 12288 a layer
			// an expert: 3*64*32 = 6144; MoE layer: 4*6144 + router 64*4 + shared 3*64*64 + gate 64
			//          = 24576 + 256 + 12288 + 64 = 37184; all 4 layers are MoE (decoder_sparse_step 1)
			// body: 4*12288 + 4*37184 = 49152 + 148736 = 197888; embeddings untied 12800; total 210688
			// KV: 2*kv*head_dim = 64 elements a token a layer: 4*64*30*2 = 15360
			`{"architectures":["Qwen2MoeForCausalLM"],"model_type":"qwen2_moe","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":4,"vocab_size":100,"num_attention_heads":4,"num_key_value_heads":2,
			"hidden_act":"silu","intermediate_size":128,"moe_intermediate_size":32,"num_experts":4,
			"num_experts_per_tok":2,"shared_expert_intermediate_size":64,"decoder_sparse_step":1,"tie_word_embeddings":false}`,
			210688, 15360, 16},
		{"Qwen2-MoE shape with MoE every 3rd layer",
			// MoE layers ceil(4/3) = 2, dense 2: 4*12288 + 2*24576 + 2*37184 = 49152 + 49152 + 74368
			// = 172672; embeddings 12800; total 185472
			`{"architectures":["Qwen2MoeForCausalLM"],"model_type":"qwen2_moe","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":4,"vocab_size":100,"num_attention_heads":4,"num_key_value_heads":2,
			"hidden_act":"silu","intermediate_size":128,"moe_intermediate_size":32,"num_experts":4,
			"num_experts_per_tok":2,"shared_expert_intermediate_size":64,"decoder_sparse_step":3,"tie_word_embeddings":false}`,
			185472, 15360, 16},
		{"Mixtral shape: experts of the dense MLP's size, every one counted",
			// h=64 L=2 H=kv=4: attention 4*64*64 = 16384; an expert 3*64*128 = 24576
			// MoE layer: 4*24576 + router 64*4 = 98560; body 2*(16384 + 98560) = 229888
			// embeddings untied 12800; total 242688. KV: 2*4*16 = 128: 2*128*30*2 = 15360
			`{"architectures":["MixtralForCausalLM"],"model_type":"mixtral","torch_dtype":"bfloat16",
			"hidden_size":64,"num_hidden_layers":2,"vocab_size":100,"num_attention_heads":4,"num_key_value_heads":4,
			"hidden_act":"silu","intermediate_size":128,"num_local_experts":4,"num_experts_per_tok":2,"tie_word_embeddings":false}`,
			242688, 15360, 16},
		{"T5 shape: decoder layers count cross-attention, only the decoder keeps a KV cache",
			// d=64, 3 encoder and 2 decoder layers, 4 heads of d_kv 8 (inner 32), d_ff 128, relu MLP
			// encoder layer: 4*64*32 + 2*64*128 = 8192 + 16384 = 24576
			// decoder layer: 8*64*32 + 2*64*128 = 16384 + 16384 = 32768
			// 3*24576 + 2*32768 + tied vocabulary 100*64 = 73728 + 65536 + 6400 = 145664
			// KV: 2*4*8 = 64 elements a token in each of the 2 decoder layers: 2*64*30*2 = 7680
			`{"architectures":["T5ForConditionalGeneration"],"model_type":"t5","torch_dtype":"float16","is_encoder_decoder":true,
			"d_model":64,"num_layers":3,"num_decoder_layers":2,"num_heads":4,"d_kv":8,"d_ff":128,
			"feed_forward_proj":"relu","vocab_size":100}`,
			145664, 7680, 8},
		{"BART shape: learned positions on each side, separate encoder and decoder MLPs",
			// d=64, 2 encoder and 3 decoder layers, 4 heads (head dim 16), ffn 128 and 96
			// encoder layer: 4*64*64 + 2*64*128 = 32768; decoder layer: 8*64*64 + 2*64*96 = 45056
			// 2*32768 + 3*45056 + tied vocabulary 6400 + 2 position tables 2*50*64
			// = 65536 + 135168 + 6400 + 6400 = 213504
			// KV: 2*4*16 = 128 elements a token in each of 3 decoder layers: 3*128*30*2 = 23040
			`{"architectures":["BartForConditionalGeneration"],"model_type":"bart","torch_dtype":"float16",
			"d_model":64,"encoder_layers":2,"decoder_layers":3,"encoder_attention_heads":4,"decoder_attention_heads":4,
			"encoder_ffn_dim":128,"decoder_ffn_dim":96,"vocab_size":100,"max_position_embeddings":50,
			"activation_function":"gelu"}`,
			213504, 23040, 16},
		{"Whisper shape: audio and text position tables and the two input convolutions",
			// d=64, 2+2 layers, 4 heads (16), ffn 128, gelu: encoder layer 32768, decoder 8*4096 + 2*64*128 = 49152
			// 2*32768 + 2*49152 + tied vocabulary 6400 + positions (30+20)*64 + convolutions
			// 3*8*64 + 3*64*64 = 65536 + 98304 + 6400 + 3200 + 1536 + 12288 = 187264
			// KV: 2*4*16 = 128 in each of 2 decoder layers: 2*128*30*2 = 15360
			`{"architectures":["WhisperForConditionalGeneration"],"model_type":"whisper","torch_dtype":"float16",
			"d_model":64,"encoder_layers":2,"decoder_layers":2,"encoder_attention_heads":4,"decoder_attention_heads":4,
			"encoder_ffn_dim":128,"decoder_ffn_dim":128,"vocab_size":100,"max_source_positions":30,
			"max_target_positions":20,"num_mel_bins":8,"activation_function":"gelu","is_encoder_decoder":true}`,
			187264, 15360, 16},
		{"BERT shape: learned positions and token types, no KV cache",
			// h=64 L=2 H=4 (16): attention 4*64*64 = 16384, MLP 2*64*128 = 16384; body 2*32768 = 65536
			// tied vocabulary 6400 + positions 50*64 + token types 2*64 = 9728; total 75264
			`{"architectures":["BertModel"],"model_type":"bert","torch_dtype":"float32","hidden_size":64,"num_hidden_layers":2,
			"num_attention_heads":4,"intermediate_size":128,"vocab_size":100,"max_position_embeddings":50,"type_vocab_size":2,"hidden_act":"gelu"}`,
			75264, 0, 16},
		{"GPT-2 shape: the MLP assumed 4 × n_embd, learned positions",
			// attention 16384, MLP 2*64*256 = 32768: body 2*49152 = 98304; vocabulary 6400 + positions 50*64 = 9600
			// total 107904. KV: 2*4*16 = 128 a layer: 2*128*30*4 bytes = 30720
			`{"architectures":["GPT2LMHeadModel"],"model_type":"gpt2","torch_dtype":"float32","n_layer":2,"n_embd":64,"n_head":4,
			"vocab_size":100,"n_positions":50,"activation_function":"gelu_new"}`,
			107904, 30720, 16},
		{"T5 shape without d_ff: the MLP assumed 4 × d_model",
			// inner 4*16 = 64; encoder layer 4*64*64 + 2*64*256 = 49152; decoder layer 8*64*64 + 2*64*256 = 65536
			// + tied vocabulary 6400 = 121088. KV: 2*4*16 = 128 in 1 decoder layer: 128*30*2 = 7680
			`{"architectures":["T5ForConditionalGeneration"],"model_type":"t5","torch_dtype":"float16","is_encoder_decoder":true,
			"d_model":64,"num_layers":1,"num_heads":4,"d_kv":16,"vocab_size":100}`,
			121088, 7680, 16},
		{"CLIP shape: two towers and their projections into one space",
			// text: attention 16384 + MLP 2*64*128 = 16384, vocabulary 6400 + positions 10*64 = 640: 39808
			// vision: 4*32*32 + 2*32*64 = 8192, patches 3*4*4*32 = 1536, (2*2 + 2)*32 = 192: 9920
			// projections (64 + 32)*32 = 3072; total 52800; an encoder keeps no KV cache
			`{"architectures":["CLIPModel"],"model_type":"clip","torch_dtype":"float32","projection_dim":32,
			"text_config":{"model_type":"clip_text_model","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,
			"intermediate_size":128,"vocab_size":100,"max_position_embeddings":10},
			"vision_config":{"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"image_size":8,"patch_size":4}}`,
			52800, 0, 16},
		{"BLIP shape: the text decoder cross-attends to the image in every layer",
			// text 39808 + cross-attention 1*2*64*(64 + 32) = 12288 + vision 9920 = 62016; no projection
			// (not CLIP); an empty architectures list in text_config names nothing
			`{"architectures":["BlipForConditionalGeneration"],"model_type":"blip","torch_dtype":"float32",
			"text_config":{"architectures":[],"model_type":"blip_text_model","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,
			"intermediate_size":128,"vocab_size":100,"max_position_embeddings":10},
			"vision_config":{"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"image_size":8,"patch_size":4}}`,
			62016, 0, 16},
		{"ResNet shape: the stem, a stage with a projection shortcut, the classifier with its bias",
			// stem 3*4*49 = 588; basic block 4→8: 9*4*8 + 9*8*8 = 864; shortcut 4*8 = 32; classifier 8*2 + 2 = 18
			// total 1502
			`{"architectures":["ResNetForImageClassification"],"model_type":"resnet","torch_dtype":"float32","hidden_sizes":[8],"depths":[1],
			"embedding_size":4,"layer_type":"basic","num_channels":3,"id2label":{"0":"a","1":"b"}}`,
			1502, 0, 0},
		{"ViT shape with mlp_ratio: the MLP is the ratio times the width",
			// h=32, MLP 2.5*32 = 80: 4*32*32 + 2*32*80 = 9216; one channel of 4×4 patches 1*4*4*32 = 512;
			// (2*2 patches + class token + 1)*32 = 192; total 9920
			`{"architectures":["ViTModel"],"model_type":"vit","torch_dtype":"float32","hidden_size":32,"num_hidden_layers":1,
			"num_attention_heads":2,"image_size":8,"patch_size":4,"mlp_ratio":2.5,"num_channels":1}`,
			9920, 0, 16},
		{"ViT shape without an MLP size: 4 × the width, and so with an mlp_ratio of 0",
			// MLP 128: 4096 + 2*32*128 = 12288; + 512 + 192 = 12992
			`{"architectures":["ViTModel"],"model_type":"vit","torch_dtype":"float32","hidden_size":32,"num_hidden_layers":1,
			"num_attention_heads":2,"image_size":8,"patch_size":4,"mlp_ratio":0,"num_channels":1}`,
			12992, 0, 16},
		{"Qwen2-VL vision shape: 3-D patches and a merger to the language model's width",
			// embed_dim 16, MLP 2*16 = 32: 4*16*16 + 2*16*32 = 2048; patches 3*2*2*16 * 2 frames = 384;
			// merger in 16*2*2 = 64 to hidden_size 64: 64*64 + 64*64 = 8192; total 10624
			`{"architectures":["Qwen2VLForConditionalGeneration"],"model_type":"qwen2_vl","torch_dtype":"float32",
			"vision_config":{"depth":1,"embed_dim":16,"hidden_size":64,"num_heads":2,"mlp_ratio":2,"patch_size":2,
			"temporal_patch_size":2,"spatial_merge_size":2,"in_chans":3}}`,
			10624, 0, 8},
		{"Qwen2.5-VL vision shape: the merger's output width from out_hidden_size",
			// as above with the merger 64 → 48: 64*64 + 64*48 = 7168; total 9600
			`{"architectures":["Qwen2VLForConditionalGeneration"],"model_type":"qwen2_vl","torch_dtype":"float32",
			"vision_config":{"depth":1,"embed_dim":16,"hidden_size":64,"out_hidden_size":48,"num_heads":2,"mlp_ratio":2,"patch_size":2,
			"temporal_patch_size":2,"spatial_merge_size":2,"in_chans":3}}`,
			9600, 0, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := hfconfig.Analyze([]byte(tt.config), nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			if a.Partial {
				t.Errorf("partial: missing %v", a.MissingFields)
			}
			if a.ParameterCount != tt.params || a.ConfigParameterCount != tt.params || a.ParameterSource != hfconfig.ParamSourceConfig {
				t.Errorf("parameters %d (config %d, from %s); want exactly %d from config", a.ParameterCount, a.ConfigParameterCount, a.ParameterSource, tt.params)
			}
			if a.Memory.KVCacheBytes != tt.kvBytes {
				t.Errorf("KV cache of 10 tokens × 3 sequences = %d bytes; want %d", a.Memory.KVCacheBytes, tt.kvBytes)
			}
			if a.HeadDim != tt.headDim {
				t.Errorf("head dim %d; want %d", a.HeadDim, tt.headDim)
			}
		})
	}
}

// TestAnalyzeIndexTotalSizeMustBePositive: a shard index whose total_size is 0 or negative says
// nothing about the weights; it is an error, never a count of 0 parameters.
func TestAnalyzeIndexTotalSizeMustBePositive(t *testing.T) {
	for _, idx := range []string{`{"metadata":{"total_size":0}}`, `{"metadata":{"total_size":-2}}`, `{"metadata":{"total_size":"16"}}`} {
		_, err := hfconfig.Analyze(llamaConfig, []byte(idx), hfconfig.AnalyzeOptions{})
		var ce *hfconfig.ConfigError
		if !errors.As(err, &ce) || ce.Input != hfconfig.InputIndex || ce.Field != "metadata.total_size" {
			t.Errorf("index %s: error %v; want a ConfigError naming metadata.total_size of the index", idx, err)
		}
	}
	// The smallest positive size is accepted: the stored size closest to 1 byte over the config's
	// 8e9 parameters is half a byte, so the count is 2.
	a, err := hfconfig.Analyze(llamaConfig, []byte(`{"metadata":{"total_size":1}}`), hfconfig.AnalyzeOptions{})
	if err != nil || a.ParameterSource != hfconfig.ParamSourceShardIndex || a.ParameterCount != 2 {
		t.Errorf("total_size 1: %d parameters from %s, error %v; want 2 from the shard index", a.ParameterCount, a.ParameterSource, err)
	}
}

// TestRealConfigsExactly works out the parameter count of DeepSeek-R1 (latent attention, 3 dense
// and 58 MoE layers) and the KV cache per token of the encoder-decoders from their config.json by
// hand, and holds the analysis to them exactly.
func TestRealConfigsExactly(t *testing.T) {
	opt := hfconfig.AnalyzeOptions{ContextLength: 10, Sequences: 3}
	tests := []struct {
		name    string
		dir     string
		params  int64 // 0: not checked
		kvBytes int64 // 10 tokens × 3 sequences
	}{
		{"DeepSeek-R1",
			// h=7168 L=61 V=129280 H=128 q_lora=1536 kv_lora=512 nope=128 rope=64 v=128
			// attention a layer: 7168*1536 + 1536*128*192 + 7168*576 + 512*128*256 + 128*128*7168
			//   = 11010048 + 37748736 + 4128768 + 16777216 + 117440512 = 187105280
			// dense MLP 3*7168*18432 = 396361728; an expert 3*7168*2048 = 44040192
			// MoE layer: (256 routed + 1 shared) * 44040192 + router 7168*256 = 11320164352
			// 61*187105280 + 3*396361728 + 58*11320164352 + untied 2*129280*7168 = 671025397760
			//   (the model card: 671B without the MTP module)
			// KV: kv_lora + rope = 576 elements a token a layer: 61*576*30 tokens*2 bytes = 2108160
			"deepseek-ai__DeepSeek-R1", 671025397760, 2108160},
		{"t5-base: 12 decoder layers of 12 heads × d_kv 64, float32 assumed",
			// 2*12*64 = 1536 elements a token a layer: 12*1536*30*4 bytes = 2211840
			"google-t5__t5-base", 0, 2211840},
		{"bart-large-cnn: 12 decoder layers of 16 heads × 64, float32 assumed",
			// 2*16*64 = 2048: 12*2048*30*4 = 2949120
			"facebook__bart-large-cnn", 0, 2949120},
		{"whisper-base: 6 decoder layers of 8 heads × 64 in float32",
			// 2*8*64 = 1024: 6*1024*30*4 = 737280
			"openai__whisper-base", 0, 737280},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(hfConfigs, tt.dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			a, err := hfconfig.Analyze(cfg, nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			if tt.params != 0 && a.ConfigParameterCount != tt.params {
				t.Errorf("parameters from config.json %d; want exactly %d", a.ConfigParameterCount, tt.params)
			}
			if a.Memory.KVCacheBytes != tt.kvBytes {
				t.Errorf("KV cache of 10 tokens × 3 sequences = %d bytes; want %d", a.Memory.KVCacheBytes, tt.kvBytes)
			}
		})
	}
}

// TestAnalyzeEdges pins what Analyze does at the edges of its input: no shape at all, a decoder
// without heads, an empty architectures list, the largest whole number a field may hold, a count
// exactly at the int64 limit, and the bytes of a quantized weight.
func TestAnalyzeEdges(t *testing.T) {
	analyze := func(t *testing.T, cfg, index string) hfconfig.Analysis {
		t.Helper()
		var idx []byte
		if index != "" {
			idx = []byte(index)
		}
		a, err := hfconfig.Analyze([]byte(cfg), idx, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	t.Run("a config without a shape has no parameter source", func(t *testing.T) {
		if a := analyze(t, `{"torch_dtype":"float16"}`, ""); a.ParameterSource != hfconfig.ParamSourceNone || a.ParameterCount != 0 || !a.Partial {
			t.Errorf("source %s, %d parameters, partial %v; want none, 0, partial", a.ParameterSource, a.ParameterCount, a.Partial)
		}
	})
	t.Run("without a shape, a shard index is read at the config's dtype", func(t *testing.T) {
		if a := analyze(t, `{"torch_dtype":"float32"}`, `{"metadata":{"total_size":2000}}`); a.ParameterCount != 500 || a.ParameterSource != hfconfig.ParamSourceShardIndex {
			t.Errorf("%d parameters from %s; want 500 (2000 bytes of float32) from the shard index", a.ParameterCount, a.ParameterSource)
		}
	})
	t.Run("a decoder without heads counts 4 h² of attention a layer", func(t *testing.T) {
		// 2*(4*64*64 + 2*64*128) + tied 100*64 = 65536 + 6400
		a := analyze(t, `{"model_type":"llama","num_hidden_layers":2,"hidden_size":64,"vocab_size":100,"intermediate_size":128}`, "")
		if a.ConfigParameterCount != 71936 {
			t.Errorf("%d parameters; want 71936", a.ConfigParameterCount)
		}
	})
	t.Run("an empty architectures list names no architecture", func(t *testing.T) {
		if a := analyze(t, `{"architectures":[],"model_type":"llama"}`, ""); a.Architecture != "" || a.ModelType != "llama" {
			t.Errorf("architecture %q, model type %q", a.Architecture, a.ModelType)
		}
	})
	t.Run("2^53 is past the whole numbers a field may hold, 2^53 - 1 is not", func(t *testing.T) {
		base := `{"model_type":"llama","num_hidden_layers":1,"hidden_size":1,"num_attention_heads":1,"intermediate_size":1,"vocab_size":%s}`
		a := analyze(t, fmt.Sprintf(base, "9007199254740992"), "")
		if !slices.Contains(a.MissingFields, "vocab_size") {
			t.Errorf("vocab_size 2^53: missing %v; want vocab_size missing", a.MissingFields)
		}
		a = analyze(t, fmt.Sprintf(base, "9007199254740991"), "")
		if a.VocabSize != 9007199254740991 {
			t.Errorf("vocab_size 2^53 - 1 read as %d", a.VocabSize)
		}
	})
	t.Run("an estimate of exactly 2^63 is beyond int64: partial", func(t *testing.T) {
		// h = 2^30, one head of 2^30, MLP of 2^30, vocabulary 2^31, tied:
		// 4h² + 2h·2^30 + 2^31·h = 2^62 + 2^61 + 2^61 = 2^63
		a := analyze(t, `{"architectures":["LlamaForCausalLM"],"model_type":"llama","torch_dtype":"float16","num_hidden_layers":1,
			"hidden_size":1073741824,"num_attention_heads":1,"intermediate_size":1073741824,"vocab_size":2147483648,"hidden_act":"gelu"}`, "")
		if !a.Partial || a.ParameterCount != math.MaxInt64 || len(a.MissingFields) != 0 {
			t.Errorf("partial %v, %d parameters, missing %v; want partial (saturated), nothing missing", a.Partial, a.ParameterCount, a.MissingFields)
		}
	})
	t.Run("a 4-bit quantization stores half a byte a weight", func(t *testing.T) {
		a := analyze(t, `{"model_type":"llama","torch_dtype":"float16","quantization_config":{"quant_method":"gptq","bits":4}}`, "")
		if a.BytesPerParameter != 0.5 || a.Quantization != "gptq" {
			t.Errorf("%v bytes a weight (%s); want 0.5", a.BytesPerParameter, a.Quantization)
		}
	})
}

func TestConfigErrorText(t *testing.T) {
	_, err := hfconfig.Analyze(llamaConfig, []byte(`{"metadata":{"total_size":0}}`), hfconfig.AnalyzeOptions{})
	if got, want := fmt.Sprint(err), "index field metadata.total_size: missing or not a positive number"; !strings.HasSuffix(got, want) || strings.Contains(got, "line") {
		t.Errorf("error %q; want it to end %q, without a position", got, want)
	}
	_, err = hfconfig.Analyze([]byte("{\n  \"a\": ]\n}"), nil, hfconfig.AnalyzeOptions{})
	if got := fmt.Sprint(err); !strings.Contains(got, "at line 2, column 8 (byte 9)") || strings.Contains(got, "field") {
		t.Errorf("error %q; want the position and no field", got)
	}
}
