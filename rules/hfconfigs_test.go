package rules_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/modelium/brain/hfconfig"
	"github.com/modelium/brain/rules"
)

// hfConfigs is the folder of real Hugging Face configs copied into the repository
// (testdata/hf-configs/SOURCES.md). Tests run in rules/.
const hfConfigs = "../testdata/hf-configs"

// TestRealConfigs: the default table sends every real config, as hfconfig reads its
// architecture and model_type, to the runtime its family is served by.
func TestRealConfigs(t *testing.T) {
	want := map[string]struct{ runtime, rule string }{
		"Qwen__Qwen2.5-0.5B":                         {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"Qwen__Qwen2.5-1.5B-Instruct":                {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"Salesforce__blip-image-captioning-base":     {rules.RuntimeRay, rules.RuleVisionAudio},
		"bigscience__bloom-560m":                     {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"deepseek-ai__DeepSeek-R1":                   {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"distilbert__distilbert-base-uncased":        {rules.RuntimeVLLM, rules.RuleEmbeddingEncoders},
		"distilbert__distilroberta-base":             {rules.RuntimeVLLM, rules.RuleEmbeddingEncoders},
		"facebook__bart-large-cnn":                   {rules.RuntimeRay, rules.RuleEncoderDecoder},
		"facebook__opt-125m":                         {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"google-bert__bert-base-uncased":             {rules.RuntimeVLLM, rules.RuleEmbeddingEncoders},
		"google-t5__t5-base":                         {rules.RuntimeRay, rules.RuleEncoderDecoder},
		"google__gemma-2b-it":                        {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"google__vit-base-patch16-224-in21k":         {rules.RuntimeRay, rules.RuleVisionAudio},
		"meta-llama__Llama-2-70b-chat-hf":            {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"meta-llama__Llama-3.1-8B":                   {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"meta-llama__Llama-3.2-1B":                   {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"microsoft__Phi-3-mini-128k-instruct":        {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"microsoft__phi-2":                           {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"microsoft__resnet-50":                       {rules.RuntimeRay, rules.RuleVisionAudio},
		"mistralai__Mistral-7B-Instruct-v0.3":        {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"mistralai__Mixtral-8x7B-v0.1":               {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"openai-community__gpt2":                     {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"openai-community__gpt2-xl":                  {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"openai__clip-vit-large-patch14":             {rules.RuntimeRay, rules.RuleVisionAudio},
		"openai__whisper-base":                       {rules.RuntimeRay, rules.RuleVisionAudio},
		"sentence-transformers__all-MiniLM-L6-v2":    {rules.RuntimeVLLM, rules.RuleEmbeddingEncoders},
		"tiiuae__falcon-7b-instruct":                 {rules.RuntimeVLLM, rules.RuleLLMFamilies},
		"togethercomputer__RedPajama-INCITE-7B-Base": {rules.RuntimeVLLM, rules.RuleLLMFamilies},
	}
	entries, err := os.ReadDir(hfConfigs)
	if err != nil {
		t.Fatalf("the Hugging Face configs in testdata/hf-configs are required: %v", err)
	}
	folders := 0
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		folders++
		dir := ent.Name()
		t.Run(dir, func(t *testing.T) {
			w, ok := want[dir]
			if !ok {
				t.Fatalf("no expected runtime for %s: add it to this test", dir)
			}
			cfg, err := os.ReadFile(filepath.Join(hfConfigs, dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			a, err := hfconfig.Analyze(cfg, nil, hfconfig.AnalyzeOptions{})
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			d := rules.DefaultTable().Choose(rules.Model{Architecture: a.Architecture, ModelType: a.ModelType}, rules.AllEnabled)
			if d.Runtime != w.runtime || d.Rule != w.rule {
				t.Errorf("Choose = %s by %q, want %s by %q (%s)", d.Runtime, d.Rule, w.runtime, w.rule, d.Reason())
			}
		})
	}
	if folders != len(want) {
		t.Errorf("found %d config folders, the test expects %d", folders, len(want))
	}
}
