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
