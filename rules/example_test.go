package rules_test

import (
	"fmt"

	"github.com/modelium/brain/rules"
)

func Example() {
	table := rules.DefaultTable()
	for _, name := range []string{"gpt2", "resnet50", "bert-base", "custom-model"} {
		d := table.Choose(rules.Model{Name: name}, rules.AllEnabled)
		fmt.Printf("%s -> %s (%s)\n", name, d.Runtime, d.Rule)
	}
	// An LLM goes to Ray Serve when vLLM is off.
	d := table.Choose(rules.Model{Architecture: "MixtralForCausalLM"}, rules.Enabled{Ray: true})
	fmt.Println(d.Reason())
	// Output:
	// gpt2 -> vllm (llm-families)
	// resnet50 -> ray (vision-audio)
	// bert-base -> vllm (embedding-encoders)
	// custom-model -> ray (everything-else)
	// rule "everything-else" matches every model (any model); Ray Serve is enabled (rule "llm-families" matched first but vLLM is disabled)
}

func ExampleAnalyze() {
	config := []byte(`{
	  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
	  "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
	  "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
	  "max_position_embeddings": 131072, "tie_word_embeddings": false, "hidden_act": "silu"
	}`)
	a, err := rules.Analyze(config, nil, rules.AnalyzeOptions{Sequences: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.2fB parameters from %s\n", float64(a.ParameterCount)/1e9, a.ParameterSource)
	fmt.Printf("weights %.1f GiB, KV cache %.1f GiB for %d tokens x %d sequences\n",
		float64(a.Memory.WeightsBytes)/(1<<30), float64(a.Memory.KVCacheBytes)/(1<<30), a.Memory.ContextLength, a.Memory.Sequences)
	fmt.Println(rules.DefaultTable().Choose(a.Model("meta-llama/Llama-3.1-8B"), rules.AllEnabled).Runtime)
	// Output:
	// 8.03B parameters from config
	// weights 15.0 GiB, KV cache 2.0 GiB for 4096 tokens x 4 sequences
	// vllm
}
