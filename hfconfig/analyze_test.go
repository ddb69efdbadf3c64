package hfconfig_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelium/brain/hfconfig"
	"github.com/modelium/brain/rules"
)

// llamaConfig is a Llama-3.1-8B-shaped config.json.
var llamaConfig = []byte(`{
  "architectures": ["LlamaForCausalLM"],
  "hidden_act": "silu",
  "hidden_size": 4096,
  "intermediate_size": 14336,
  "max_position_embeddings": 131072,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "vocab_size": 128256
}`)

func TestAnalyzeMalformedJSON(t *testing.T) {
	tests := []struct {
		name         string
		config       []byte
		index        []byte
		input        string
		line, column int
		offset       int64
	}{
		{"syntax error names line and column", []byte("{\n  \"a\": 1,\n  \"b\": ]\n}"), nil, hfconfig.InputConfig, 3, 8, 19},
		{"truncated input points at its end", []byte(`{"a": 1`), nil, hfconfig.InputConfig, 1, 8, 7},
		{"top-level array is not an object", []byte(`  [1, 2]`), nil, hfconfig.InputConfig, 1, 3, 2},
		{"trailing data is an error", []byte(`{"a": 1} x`), nil, hfconfig.InputConfig, 1, 10, 9},
		{"empty config", []byte(``), nil, hfconfig.InputConfig, 1, 1, 0},
		{"a bad index is named as the index", llamaConfig, []byte(`{"metadata": {"total_size": 1,}}`), hfconfig.InputIndex, 1, 31, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hfconfig.Analyze(tt.config, tt.index, hfconfig.AnalyzeOptions{})
			var ce *hfconfig.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.Input != tt.input || ce.Line != tt.line || ce.Column != tt.column || ce.Offset != tt.offset {
				t.Errorf("got %s line %d column %d offset %d, want %s line %d column %d offset %d (%v)",
					ce.Input, ce.Line, ce.Column, ce.Offset, tt.input, tt.line, tt.column, tt.offset, err)
			}
			if !strings.Contains(err.Error(), "line") {
				t.Errorf("message %q does not give the position", err)
			}
		})
	}
}

func TestAnalyzeIndexWithoutTotalSize(t *testing.T) {
	_, err := hfconfig.Analyze(llamaConfig, []byte(`{"weight_map": {}}`), hfconfig.AnalyzeOptions{})
	var ce *hfconfig.ConfigError
	if !errors.As(err, &ce) || ce.Field != "metadata.total_size" {
		t.Fatalf("got %v, want a ConfigError for metadata.total_size", err)
	}
}

func TestAnalyzePartial(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		missing []string
		params  bool // whether a (lower-bound) count is still given
	}{
		{"empty object", `{}`, []string{"architectures", "num_hidden_layers", "hidden_size"}, false},
		{"no vocabulary counts the layers only", `{"model_type":"llama","num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4}`, []string{"vocab_size"}, true},
		{"wrong types count as missing", `{"architectures":["LlamaForCausalLM"],"num_hidden_layers":"32","hidden_size":-1,"vocab_size":1.5}`, []string{"num_hidden_layers", "hidden_size", "vocab_size", "num_attention_heads"}, false},
		{"an LLM without heads has no KV estimate", `{"architectures":["GPT2LMHeadModel"],"n_layer":2,"n_embd":64,"vocab_size":10}`, []string{"num_attention_heads"}, true},
		{"resnet without depths", `{"architectures":["ResNetModel"],"hidden_sizes":[64]}`, []string{"depths"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := hfconfig.Analyze([]byte(tt.config), nil, hfconfig.AnalyzeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !a.Partial {
				t.Error("not marked partial")
			}
			for _, m := range tt.missing {
				if !slices.Contains(a.MissingFields, m) {
					t.Errorf("MissingFields %v lacks %q", a.MissingFields, m)
				}
			}
			if got := a.ParameterCount > 0; got != tt.params {
				t.Errorf("ParameterCount = %d, want a count: %v", a.ParameterCount, tt.params)
			}
		})
	}
}

func TestAnalyzeMemory(t *testing.T) {
	tests := []struct {
		name      string
		opt       hfconfig.AnalyzeOptions
		context   int64
		sequences int64
		kv        int64
	}{
		// 2 × 32 layers × 8 KV heads × 128 head dim × 2 bytes = 128 KiB a token.
		{"defaults cap the context at 4096 tokens, one sequence", hfconfig.AnalyzeOptions{}, 4096, 1, 4096 * 128 << 10},
		{"a given context and sequence count are used as is", hfconfig.AnalyzeOptions{ContextLength: 200000, Sequences: 3}, 200000, 3, 3 * 200000 * 128 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := hfconfig.Analyze(llamaConfig, nil, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			m := a.Memory
			if m.ContextLength != tt.context || m.Sequences != tt.sequences || m.KVCacheBytes != tt.kv {
				t.Errorf("context %d, sequences %d, KV %d; want %d, %d, %d", m.ContextLength, m.Sequences, m.KVCacheBytes, tt.context, tt.sequences, tt.kv)
			}
			if m.WeightsBytes != 2*a.ParameterCount {
				t.Errorf("weights %d, want 2 bytes × %d parameters", m.WeightsBytes, a.ParameterCount)
			}
			wantOverhead := int64(hfconfig.OverheadFixedBytes) + int64(hfconfig.OverheadWeightsFraction*float64(m.WeightsBytes)+0.5)
			if d := m.OverheadBytes - wantOverhead; d < -1 || d > 1 {
				t.Errorf("overhead %d, want %d", m.OverheadBytes, wantOverhead)
			}
			if m.TotalBytes != m.WeightsBytes+m.KVCacheBytes+m.OverheadBytes {
				t.Errorf("total %d is not the sum of its parts %+v", m.TotalBytes, m)
			}
		})
	}
	if _, err := hfconfig.Analyze(llamaConfig, nil, hfconfig.AnalyzeOptions{Sequences: -1}); err == nil {
		t.Error("negative sequences accepted")
	}
}

// TestAnalyzeTotalIsSumOfParts: a caller that adds weights, KV cache and overhead gets
// total_bytes, on every answer: each part is rounded once and the total is their sum, also
// where a part is a fraction of a byte or the total saturates at MaxInt64.
func TestAnalyzeTotalIsSumOfParts(t *testing.T) {
	// 4 bits a parameter. With an index of 8,030,000,011 bytes stored 1 byte a parameter, the
	// weights are 4,015,000,005.5 bytes and the overhead's 10 % of them ends in .55: rounded
	// alone, both parts go up, and their sum is a byte more than the total rounded once.
	fourBit := strings.Replace(string(llamaConfig), `"vocab_size": 128256`, `"vocab_size": 128257, "quantization_config": {"quant_method": "gptq", "bits": 4}`, 1)
	tests := []struct {
		name      string
		config    string
		index     string
		opt       hfconfig.AnalyzeOptions
		saturated bool
	}{
		{"a Llama in bfloat16", string(llamaConfig), "", hfconfig.AnalyzeOptions{}, false},
		{"half-byte weights of a 4-bit model", fourBit, "", hfconfig.AnalyzeOptions{}, false},
		{"half-byte weights and a fractional overhead, both rounded up alone", fourBit, `{"metadata":{"total_size":8030000011}}`, hfconfig.AnalyzeOptions{}, false},
		{"a KV cache beyond int64 saturates the total", string(llamaConfig), "", hfconfig.AnalyzeOptions{ContextLength: 1 << 62, Sequences: 1 << 62}, true},
		{"weights beyond int64 saturate the total", `{"architectures":["LlamaForCausalLM"],"hidden_size":4096,"num_hidden_layers":32,"vocab_size":32000,
			"num_attention_heads":4294967296,"num_key_value_heads":4294967296,"head_dim":6442450944}`, "", hfconfig.AnalyzeOptions{}, true},
		{"a shard index of 1e300 bytes saturates the total", string(llamaConfig), `{"metadata":{"total_size":1e300}}`, hfconfig.AnalyzeOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var index []byte
			if tt.index != "" {
				index = []byte(tt.index)
			}
			a, err := hfconfig.Analyze([]byte(tt.config), index, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			m := a.Memory
			sum, ok := addInt64(m.WeightsBytes, m.KVCacheBytes, m.OverheadBytes)
			if !ok || sum != m.TotalBytes {
				t.Errorf("total %d is not the sum of its parts %+v (sum %d, fits: %v)", m.TotalBytes, m, sum, ok)
			}
			if got := m.TotalBytes == math.MaxInt64; got != tt.saturated {
				t.Errorf("total %d saturated: %v, want %v", m.TotalBytes, got, tt.saturated)
			}
			if !tt.saturated && m.OverheadBytes < hfconfig.OverheadFixedBytes {
				t.Errorf("overhead %d is below the fixed %d", m.OverheadBytes, hfconfig.OverheadFixedBytes)
			}
		})
	}
}

func TestAnalyzeFormats(t *testing.T) {
	// read takes the subtest's t: a subtest must not call FailNow on its parent.
	read := func(t *testing.T, dir, file string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(hfConfigs, dir, file))
		if err != nil {
			t.Fatalf("the Hugging Face configs in testdata/hf-configs are required: %v", err)
		}
		return b
	}
	t.Run("transformers-5 dtype is read like torch_dtype", func(t *testing.T) {
		a, err := hfconfig.Analyze(read(t, "Qwen__Qwen2.5-1.5B-Instruct", "config.json"), nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.DType != "float16" || a.BytesPerParameter != 2 || a.NumKeyValueHeads != 2 || a.HeadDim != 128 {
			t.Errorf("dtype %q, %v bytes, %d KV heads, head dim %d", a.DType, a.BytesPerParameter, a.NumKeyValueHeads, a.HeadDim)
		}
	})
	t.Run("total_size written as a float is exact", func(t *testing.T) {
		dir := "togethercomputer__RedPajama-INCITE-7B-Base"
		a, err := hfconfig.Analyze(read(t, dir, "config.json"), read(t, dir, "pytorch_model.bin.index.json"), hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.ParameterCount != 13731385408/2 || a.Memory.WeightsBytes != 13731385408 {
			t.Errorf("count %d, weights %d", a.ParameterCount, a.Memory.WeightsBytes)
		}
	})
	t.Run("DeepSeek-V3 MoE with MLA and fp8 weights", func(t *testing.T) {
		a, err := hfconfig.Analyze(read(t, "deepseek-ai__DeepSeek-R1", "config.json"), nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.NumExperts != 256 || a.NumSharedExperts != 1 || a.NumExpertsPerToken != 8 || a.BytesPerParameter != 1 || a.Quantization != "fp8" {
			t.Errorf("experts %d+%d (top %d), %v bytes, quantization %q", a.NumExperts, a.NumSharedExperts, a.NumExpertsPerToken, a.BytesPerParameter, a.Quantization)
		}
		// MLA caches (512 + 64) values a layer a token, in bfloat16.
		if want := int64(61 * 576 * 4096 * 2); a.Memory.KVCacheBytes != want {
			t.Errorf("KV cache %d, want %d", a.Memory.KVCacheBytes, want)
		}
	})
	t.Run("a float32 checkpoint of a float16 model is counted right", func(t *testing.T) {
		// Stored in 4 bytes a parameter although torch_dtype says float16.
		cfg := strings.Replace(string(llamaConfig), `"bfloat16"`, `"float16"`, 1)
		a, err := hfconfig.Analyze([]byte(cfg), []byte(`{"metadata":{"total_size":32120000000}}`), hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.ParameterCount != 8030000000 || !slices.Contains(a.Assumed, "stored_bytes_per_parameter=4") {
			t.Errorf("count %d, assumed %v", a.ParameterCount, a.Assumed)
		}
	})
	t.Run("encoder-decoder is flagged and has a decoder KV cache", func(t *testing.T) {
		a, err := hfconfig.Analyze(read(t, "google-t5__t5-base", "config.json"), nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !a.EncoderDecoder || a.IsLLM || a.NumDecoderLayers != 12 || a.Memory.KVCacheBytes == 0 {
			t.Errorf("encoder-decoder %v, LLM %v, decoder layers %d, KV %d", a.EncoderDecoder, a.IsLLM, a.NumDecoderLayers, a.Memory.KVCacheBytes)
		}
	})
	t.Run("an encoder keeps no KV cache", func(t *testing.T) {
		a, err := hfconfig.Analyze(read(t, "google-bert__bert-base-uncased", "config.json"), nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.IsLLM || a.Memory.KVCacheBytes != 0 {
			t.Errorf("LLM %v, KV %d", a.IsLLM, a.Memory.KVCacheBytes)
		}
	})
}

// qwen2VLConfig is a Qwen2-VL-7B-Instruct-shaped config.json: the language model's fields at
// the top level, the vision tower's in vision_config under Qwen2-VL's own names.
var qwen2VLConfig = []byte(`{
  "architectures": ["Qwen2VLForConditionalGeneration"],
  "model_type": "qwen2_vl",
  "hidden_act": "silu",
  "hidden_size": 3584,
  "intermediate_size": 18944,
  "max_position_embeddings": 32768,
  "num_attention_heads": 28,
  "num_hidden_layers": 28,
  "num_key_value_heads": 4,
  "rope_theta": 1000000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "vocab_size": 152064,
  "vision_config": {
    "depth": 32,
    "embed_dim": 1280,
    "mlp_ratio": 4,
    "num_heads": 16,
    "in_chans": 3,
    "hidden_size": 3584,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2
  }
}`)

func TestAnalyzeVisionLanguage(t *testing.T) {
	// Qwen2.5-VL renames the vision fields again and gates the vision MLP.
	qwen25VL := strings.Replace(string(qwen2VLConfig), `"depth": 32,
    "embed_dim": 1280,
    "mlp_ratio": 4,
    "num_heads": 16,
    "in_chans": 3,
    "hidden_size": 3584,`, `"depth": 32,
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "hidden_act": "silu",
    "out_hidden_size": 3584,
    "num_heads": 16,
    "in_chans": 3,`, 1)
	qwen25VL = strings.Replace(qwen25VL, "Qwen2VL", "Qwen2_5_VL", 1)
	llava := `{"architectures":["LlavaForConditionalGeneration"],"model_type":"llava","torch_dtype":"float16",
		"text_config":{"model_type":"llama","hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,
			"num_attention_heads":32,"num_key_value_heads":32,"vocab_size":32064,"hidden_act":"silu","tie_word_embeddings":false},
		"vision_config":{"model_type":"clip_vision_model","hidden_size":1024,"intermediate_size":4096,"num_hidden_layers":24,
			"num_attention_heads":16,"image_size":336,"patch_size":14,"projection_dim":768}}`
	// 2 (K and V) × layers × KV heads × head_dim × 4096 tokens × 2 bytes.
	tests := []struct {
		name      string
		config    []byte
		published float64
		layers    int64
		kv        int64
	}{
		{"Qwen2-VL-7B: top-level language model plus vision tower", qwen2VLConfig, 8.29e9, 28, 2 * 28 * 4 * 128 * 4096 * 2},
		{"Qwen2.5-VL-7B", []byte(qwen25VL), 8.29e9, 28, 2 * 28 * 4 * 128 * 4096 * 2},
		{"Llava-1.5-7B: a llama text_config keeps its KV cache", []byte(llava), 7.06e9, 32, 2 * 32 * 32 * 128 * 4096 * 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := hfconfig.Analyze(tt.config, nil, hfconfig.AnalyzeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Partial || len(a.MissingFields) > 0 {
				t.Errorf("partial %v, missing %v", a.Partial, a.MissingFields)
			}
			if dev := (float64(a.ParameterCount) - tt.published) / tt.published; math.Abs(dev) > 0.10 {
				t.Errorf("%d parameters, %+.1f %% off the published %.3g", a.ParameterCount, 100*dev, tt.published)
			}
			if a.NumLayers != tt.layers || a.Memory.KVCacheBytes != tt.kv {
				t.Errorf("layers %d, KV cache %d; want the language model's %d layers and %d bytes", a.NumLayers, a.Memory.KVCacheBytes, tt.layers, tt.kv)
			}
		})
	}
	t.Run("an image-text encoder still keeps no KV cache", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(hfConfigs, "openai__clip-vit-large-patch14", "config.json"))
		if err != nil {
			t.Fatalf("the Hugging Face configs in testdata/hf-configs are required: %v", err)
		}
		a, err := hfconfig.Analyze(b, nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Memory.KVCacheBytes != 0 {
			t.Errorf("CLIP has a KV cache of %d bytes", a.Memory.KVCacheBytes)
		}
	})
}

// hugeDepthConfig is a 100-byte ResNet config whose one stage has 2^53-1 blocks.
var hugeDepthConfig = []byte(`{"architectures":["ResNetForImageClassification"],"model_type":"resnet","hidden_sizes":[256],"depths":[9007199254740991]}`)

// TestAnalyzeHugeCountsReturn: the work Analyze does must not grow with the counts a config
// states. The go test timeout is the time budget: each call must simply return.
func TestAnalyzeHugeCountsReturn(t *testing.T) {
	a, err := hfconfig.Analyze(hugeDepthConfig, nil, hfconfig.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.NumLayers != 1<<53-1 || !(a.ParameterCount > 0) {
		t.Errorf("layers %d, parameters %d", a.NumLayers, a.ParameterCount)
	}
	// 1100 stages of 2^53-1 blocks: the block count saturates instead of wrapping.
	const stages = 1100
	cfg := `{"hidden_sizes":[1` + strings.Repeat(",1", stages-1) + `],"depths":[9007199254740991` + strings.Repeat(",9007199254740991", stages-1) + `]}`
	if a, err = hfconfig.Analyze([]byte(cfg), nil, hfconfig.AnalyzeOptions{}); err != nil {
		t.Fatal(err)
	}
	if a.NumLayers != math.MaxInt64 {
		t.Errorf("layers %d, want saturated at MaxInt64", a.NumLayers)
	}
}

// TestAnalyzeShapeProductsDoNotWrap: every factor a config states may be up to 2^53, so a
// product of two wraps int64. The estimate must then saturate and be marked partial, never
// come out as 0 parameters, 0 bytes or a negative number taken as whole.
func TestAnalyzeShapeProductsDoNotWrap(t *testing.T) {
	tests := []struct{ name, config string }{
		{"attention heads × head_dim (a Llama-7B shape)", `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096,
			"intermediate_size":11008,"num_hidden_layers":32,"vocab_size":32000,"torch_dtype":"float16",
			"num_attention_heads":4294967296,"num_key_value_heads":4294967296,"head_dim":6442450944}`},
		{"encoder-decoder heads × d_kv", `{"architectures":["T5ForConditionalGeneration"],"model_type":"t5","is_encoder_decoder":true,
			"d_model":512,"num_layers":6,"vocab_size":32128,"num_heads":4294967296,"d_kv":6442450944}`},
		{"ViT channels × patch²", `{"architectures":["ViTModel"],"model_type":"vit","hidden_size":768,"num_hidden_layers":12,
			"image_size":3221225472,"patch_size":3221225472}`},
		{"ResNet channels × stem", `{"architectures":["ResNetModel"],"model_type":"resnet","hidden_sizes":[64],"depths":[1],
			"num_channels":4503599627370496,"embedding_size":2049}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := hfconfig.Analyze([]byte(tt.config), nil, hfconfig.AnalyzeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m := a.Memory
			if a.ParameterCount != math.MaxInt64 || a.ConfigParameterCount != math.MaxInt64 || a.ParameterSource != hfconfig.ParamSourceConfig || !a.Partial {
				t.Errorf("count %d (config %d) from %s, partial %v; want saturated at MaxInt64, from config, partial",
					a.ParameterCount, a.ConfigParameterCount, a.ParameterSource, a.Partial)
			}
			// The weights fill the int64 range, so the parts after them are cut to 0 and the
			// total is still their sum.
			if m.WeightsBytes != math.MaxInt64 || m.KVCacheBytes != 0 || m.OverheadBytes != 0 || m.TotalBytes != math.MaxInt64 {
				t.Errorf("memory %+v; want weights and total saturated at MaxInt64, KV cache and overhead cut to 0", m)
			}
		})
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add(llamaConfig, []byte(nil))
	f.Add(hugeDepthConfig, []byte(nil))
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":4096,"num_hidden_layers":32,"vocab_size":32000,"num_attention_heads":4294967296,"num_key_value_heads":4294967296,"head_dim":6442450944}`), []byte(nil))
	f.Add([]byte(`{"n_layer":1e308,"n_embd":1e308,"vocab_size":1e308,"n_head":1}`), []byte(`{"metadata":{"total_size":1e400}}`))
	f.Add([]byte(`{"hidden_sizes":[1,2],"depths":[3,4],"text_config":{},"vision_config":{"image_size":1,"patch_size":9}}`), []byte(`{}`))
	if entries, err := os.ReadDir(hfConfigs); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(hfConfigs, e.Name(), "config.json")); err == nil && len(b) < 8<<10 {
				f.Add(b, []byte(nil))
			}
		}
	}
	f.Fuzz(func(t *testing.T, config, index []byte) {
		a, err := hfconfig.Analyze(config, index, hfconfig.AnalyzeOptions{})
		if err != nil {
			var ce *hfconfig.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			return
		}
		m := a.Memory
		if a.ParameterCount < 0 || m.WeightsBytes < 0 || m.KVCacheBytes < 0 || m.OverheadBytes < 0 || m.TotalBytes < m.OverheadBytes {
			t.Fatalf("negative or inconsistent estimate: %+v", a)
		}
		if sum, ok := addInt64(m.WeightsBytes, m.KVCacheBytes, m.OverheadBytes); !ok || sum != m.TotalBytes {
			t.Fatalf("total %d is not the sum of its parts %+v (sum %d, fits in int64: %v)", m.TotalBytes, m, sum, ok)
		}
		if (a.ParameterCount == 0 || a.ParameterCount == math.MaxInt64) && !a.Partial {
			t.Fatalf("parameter count %d (none or saturated) but not partial", a.ParameterCount)
		}
		// Whatever the config names, the runtime choice over it answers.
		rules.DefaultTable().Choose(rules.Model{Architecture: a.Architecture, ModelType: a.ModelType}, rules.AllEnabled)
	})
}

// addInt64 adds non-negative numbers, reporting whether the sum fits in int64.
func addInt64(xs ...int64) (int64, bool) {
	var sum int64
	for _, x := range xs {
		if x > math.MaxInt64-sum {
			return 0, false
		}
		sum += x
	}
	return sum, true
}

var analysisSink hfconfig.Analysis

func BenchmarkAnalyzeLlama(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		a, err := hfconfig.Analyze(llamaConfig, nil, hfconfig.AnalyzeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		analysisSink = a
	}
}
