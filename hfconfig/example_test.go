package hfconfig_test

import (
	"fmt"

	"github.com/modelium/brain/hfconfig"
	"github.com/modelium/brain/rules"
)

func ExampleAnalyze() {
	config := []byte(`{
	  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
	  "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
	  "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
	  "max_position_embeddings": 131072, "tie_word_embeddings": false, "hidden_act": "silu"
	}`)
	a, err := hfconfig.Analyze(config, nil, hfconfig.AnalyzeOptions{Sequences: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.2fB parameters from %s\n", float64(a.ParameterCount)/1e9, a.ParameterSource)
	fmt.Printf("weights %.1f GiB, KV cache %.1f GiB for %d tokens x %d sequences\n",
		float64(a.Memory.WeightsBytes)/(1<<30), float64(a.Memory.KVCacheBytes)/(1<<30), a.Memory.ContextLength, a.Memory.Sequences)
	// The runtime choice reads what the analysis found.
	m := rules.Model{Name: "meta-llama/Llama-3.1-8B", Architecture: a.Architecture, ModelType: a.ModelType}
	fmt.Println(rules.DefaultTable().Choose(m, rules.AllEnabled).Runtime)
	// Output:
	// 8.03B parameters from config
	// weights 15.0 GiB, KV cache 2.0 GiB for 4096 tokens x 4 sequences
	// vllm
}
