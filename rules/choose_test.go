package rules_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelium/brain/rules"
)

func TestChooseSeedExamples(t *testing.T) {
	tests := []struct {
		name  string
		model string
		want  string
		rule  string
	}{
		{"gpt2 goes to vLLM as an LLM family", "gpt2", rules.RuntimeVLLM, rules.RuleLLMFamilies},
		{"resnet50 goes to Ray as a vision family", "resnet50", rules.RuntimeRay, rules.RuleVisionAudio},
		{"bert-base goes to vLLM as an embedding encoder", "bert-base", rules.RuntimeVLLM, rules.RuleEmbeddingEncoders},
		{"custom-model matches no family and goes to Ray", "custom-model", rules.RuntimeRay, rules.RuleEverythingElse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rules.DefaultTable().Choose(rules.Model{Name: tt.model}, rules.AllEnabled)
			if d.Runtime != tt.want || d.Rule != tt.rule {
				t.Errorf("Choose(%q) = %s by %q, want %s by %q", tt.model, d.Runtime, d.Rule, tt.want, tt.rule)
			}
		})
	}
}

func TestChooseEveryEnabledCombination(t *testing.T) {
	// want lists the runtime for gpt2, resnet50, bert-base, custom-model.
	tests := []struct {
		name string
		en   rules.Enabled
		want [4]string
	}{
		{"all enabled: the seed's answers", rules.Enabled{VLLM: true, Ray: true, Triton: true}, [4]string{"vllm", "ray", "vllm", "ray"}},
		{"no triton changes nothing", rules.Enabled{VLLM: true, Ray: true}, [4]string{"vllm", "ray", "vllm", "ray"}},
		{"without vllm LLMs and encoders go to ray", rules.Enabled{Ray: true, Triton: true}, [4]string{"ray", "ray", "ray", "ray"}},
		{"ray only serves everything", rules.Enabled{Ray: true}, [4]string{"ray", "ray", "ray", "ray"}},
		{"without ray the rest falls back to triton", rules.Enabled{VLLM: true, Triton: true}, [4]string{"vllm", "triton", "vllm", "triton"}},
		{"vllm only: fallback names disabled triton", rules.Enabled{VLLM: true}, [4]string{"vllm", "triton", "vllm", "triton"}},
		{"triton only serves everything as the fallback", rules.Enabled{Triton: true}, [4]string{"triton", "triton", "triton", "triton"}},
		{"nothing enabled still answers the fallback", rules.Enabled{}, [4]string{"triton", "triton", "triton", "triton"}},
	}
	models := [4]string{"gpt2", "resnet50", "bert-base", "custom-model"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, name := range models {
				d := rules.DefaultTable().Choose(rules.Model{Name: name}, tt.en)
				if d.Runtime != tt.want[i] {
					t.Errorf("%s: got %s, want %s (%s)", name, d.Runtime, tt.want[i], d.Reason())
				}
				if d.Fallback != (d.Rule == rules.FallbackRule) {
					t.Errorf("%s: Fallback=%v but rule %q", name, d.Fallback, d.Rule)
				}
				if d.Enabled != tt.en.Has(d.Runtime) {
					t.Errorf("%s: Enabled=%v for %s", name, d.Enabled, d.Runtime)
				}
			}
		})
	}
}

func TestChooseTokenMatching(t *testing.T) {
	tests := []struct {
		name string
		m    rules.Model
		want string // rule name
	}{
		{"GPT2LMHeadModel is an LLM", rules.Model{Architecture: "GPT2LMHeadModel"}, rules.RuleLLMFamilies},
		{"gpt_neox model_type is an LLM", rules.Model{ModelType: "gpt_neox"}, rules.RuleLLMFamilies},
		{"GPTNeoXForCausalLM is an LLM", rules.Model{Architecture: "GPTNeoXForCausalLM"}, rules.RuleLLMFamilies},
		{"Mixtral is an LLM", rules.Model{Architecture: "MixtralForCausalLM"}, rules.RuleLLMFamilies},
		{"Qwen2MoeForCausalLM is an LLM", rules.Model{Architecture: "Qwen2MoeForCausalLM"}, rules.RuleLLMFamilies},
		{"qwen2_moe is an LLM", rules.Model{ModelType: "qwen2_moe"}, rules.RuleLLMFamilies},
		{"DeepseekV3ForCausalLM is an LLM", rules.Model{Architecture: "DeepseekV3ForCausalLM"}, rules.RuleLLMFamilies},
		{"Phi3ForCausalLM is an LLM", rules.Model{Architecture: "Phi3ForCausalLM"}, rules.RuleLLMFamilies},
		{"upper-case name is an LLM", rules.Model{Name: "META-LLAMA/LLAMA-3.1-8B"}, rules.RuleLLMFamilies},
		{"facebook/opt-125m is an LLM", rules.Model{Name: "facebook/opt-125m"}, rules.RuleLLMFamilies},
		{"opt does not match optimizer", rules.Model{Name: "optimizer"}, rules.RuleEverythingElse},
		{"opt does not match OptimizerNet", rules.Model{Architecture: "OptimizerNet"}, rules.RuleEverythingElse},
		{"gpt does not match a word containing it", rules.Model{Name: "chatgptish"}, rules.RuleEverythingElse},
		{"bert does not match albert", rules.Model{ModelType: "albert"}, rules.RuleEverythingElse},
		{"phi does not match dolphin", rules.Model{Name: "dolphin"}, rules.RuleEverythingElse},
		{"custom-model matches nothing", rules.Model{Name: "custom-model"}, rules.RuleEverythingElse},
		{"resnet50 matches resnet", rules.Model{Name: "resnet50"}, rules.RuleVisionAudio},
		{"ResNetForImageClassification is vision", rules.Model{Architecture: "ResNetForImageClassification"}, rules.RuleVisionAudio},
		{"ViTModel is vision", rules.Model{Architecture: "ViTModel"}, rules.RuleVisionAudio},
		{"DistilBertForMaskedLM is an embedding encoder", rules.Model{Architecture: "DistilBertForMaskedLM"}, rules.RuleEmbeddingEncoders},
		{"XLMRobertaModel is an embedding encoder", rules.Model{Architecture: "XLMRobertaModel"}, rules.RuleEmbeddingEncoders},
		{"all-MiniLM-L6-v2 is an embedding encoder", rules.Model{Name: "sentence-transformers/all-MiniLM-L6-v2"}, rules.RuleEmbeddingEncoders},
		{"T5ForConditionalGeneration is encoder-decoder", rules.Model{Architecture: "T5ForConditionalGeneration"}, rules.RuleEncoderDecoder},
		{"whisper is audio", rules.Model{ModelType: "whisper"}, rules.RuleVisionAudio},
		{"architecture outranks a misleading name", rules.Model{Name: "my-llama-vision", Architecture: "ResNetForImageClassification"}, rules.RuleVisionAudio},
		{"name is ignored once model_type is known", rules.Model{Name: "gpt2-finetune", ModelType: "custom"}, rules.RuleEverythingElse},
		{"empty model goes to the catch-all", rules.Model{}, rules.RuleEverythingElse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rules.DefaultTable().Choose(tt.m, rules.AllEnabled)
			if d.Rule != tt.want {
				t.Errorf("Choose(%+v) by %q, want %q (%s)", tt.m, d.Rule, tt.want, d.Reason())
			}
		})
	}
}

func TestChooseCustomTable(t *testing.T) {
	table, err := rules.NewTable([]rules.Rule{
		{Name: "onnx-to-triton", Runtime: rules.RuntimeTriton, Match: rules.Match{Formats: []string{"onnx", "tensorrt"}}},
		{Name: "chat", Runtime: rules.RuntimeVLLM, Match: rules.Match{Tasks: []string{"text-generation"}}},
		{Name: "pinned", Runtime: rules.RuntimeRay, Match: rules.Match{Names: []string{"acme/special"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		m    rules.Model
		rule string
	}{
		{"format decides regardless of architecture", rules.Model{Architecture: "LlamaForCausalLM", Format: "ONNX"}, "onnx-to-triton"},
		{"task matches across punctuation", rules.Model{Task: "Text_Generation"}, "chat"},
		{"a name rule matches a model known only by name", rules.Model{Name: "acme/special"}, "pinned"},
		{"a name rule ignores a model with an architecture", rules.Model{Name: "acme/special", Architecture: "BertModel"}, rules.FallbackRule},
		{"nothing matches: fallback", rules.Model{Name: "x"}, rules.FallbackRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := table.Choose(tt.m, rules.AllEnabled); d.Rule != tt.rule {
				t.Errorf("rule %q, want %q", d.Rule, tt.rule)
			}
		})
	}
}

func TestDecisionReason(t *testing.T) {
	tests := []struct {
		name string
		m    rules.Model
		en   rules.Enabled
		want string
	}{
		{
			"names the field, token, rule and runtime",
			rules.Model{Architecture: "GPT2LMHeadModel"}, rules.AllEnabled,
			`architecture "GPT2LMHeadModel" matches "gpt2" of rule "llm-families" (LLM family); vLLM is enabled`,
		},
		{
			"says which rule was skipped for a disabled runtime",
			rules.Model{Name: "gpt2"}, rules.Enabled{Ray: true},
			`rule "everything-else" matches every model (any model); Ray Serve is enabled (rule "llm-families" matched first but vLLM is disabled)`,
		},
		{
			"says the fallback is disabled",
			rules.Model{Name: "custom-model"}, rules.Enabled{},
			`no rule matches with an enabled runtime, so the fallback Triton serves it although it is disabled (rule "everything-else" matched first but Ray Serve is disabled)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.DefaultTable().Choose(tt.m, tt.en).Reason(); got != tt.want {
				t.Errorf("Reason()\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNewTableErrors(t *testing.T) {
	llm := rules.Match{Architectures: []string{"llama"}}
	tests := []struct {
		name  string
		rules []rules.Rule
		want  []string // substrings of the error, in order
	}{
		{"empty table", nil, []string{"no rules"}},
		{"unknown runtime lists allowed values", []rules.Rule{{Name: "a", Runtime: "tgi", Match: llm}},
			[]string{`rule 0 "a": unknown runtime "tgi" (allowed: vllm, ray, triton)`}},
		{"empty match", []rules.Rule{{Name: "a", Runtime: "ray"}},
			[]string{`rule 0 "a": empty match`}},
		{"empty name", []rules.Rule{{Runtime: "ray", Match: llm}}, []string{`rule 0 "": empty name`}},
		{"duplicate name", []rules.Rule{{Name: "a", Runtime: "ray", Match: llm}, {Name: "a", Runtime: "vllm", Match: llm}},
			[]string{`rule 1 "a": duplicate name (also rule 0)`}},
		{"unreachable rule after a catch-all", []rules.Rule{
			{Name: "all", Runtime: "ray", Match: rules.Match{Any: true}},
			{Name: "late", Runtime: "ray", Match: llm},
		}, []string{`rule 1 "late": unreachable: catch-all rule 0 "all" already sends every model to ray`}},
		{"catch-all with values", []rules.Rule{{Name: "a", Runtime: "ray", Match: rules.Match{Any: true, Names: []string{"x"}}}},
			[]string{`rule 0 "a": a catch-all (any: true) cannot also list values`}},
		{"value without letters", []rules.Rule{{Name: "a", Runtime: "ray", Match: rules.Match{Names: []string{"--"}}}},
			[]string{`rule 0 "a": name value "--" has no letter or digit`, `rule 0 "a": empty match`}},
		{"every problem is reported", []rules.Rule{{Name: "a", Runtime: "x", Match: llm}, {Name: "b", Runtime: "y", Match: llm}},
			[]string{`rule 0 "a": unknown runtime`, `rule 1 "b": unknown runtime`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, err := rules.NewTable(tt.rules)
			if err == nil {
				t.Fatalf("NewTable succeeded (%d rules), want an error", len(table.Rules()))
			}
			msg := err.Error()
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error %q lacks %q", msg, w)
				}
				msg = msg[i+len(w):]
			}
			var re *rules.RuleError
			if !errors.As(err, &re) {
				t.Errorf("error %v is not a *RuleError", err)
			}
		})
	}
}

func TestNewTableAccepts(t *testing.T) {
	tests := []struct {
		name  string
		rules []rules.Rule
	}{
		{"the default table", rules.DefaultRules()},
		{"a rule after a catch-all of another runtime can still decide", []rules.Rule{
			{Name: "all-ray", Runtime: "ray", Match: rules.Match{Any: true}},
			{Name: "all-triton", Runtime: "triton", Match: rules.Match{Any: true}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := rules.NewTable(tt.rules); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRulesAreCopies(t *testing.T) {
	rs := rules.DefaultRules()
	rs[0].Match.Architectures[0] = "changed"
	if got := rules.DefaultRules()[0].Match.Architectures[0]; got == "changed" {
		t.Error("DefaultRules shares its slices between calls")
	}
	table := rules.MustNewTable(rs)
	out := table.Rules()
	out[0].Match.Architectures[0] = "again"
	if got := table.Rules()[0].Match.Architectures[0]; got != "changed" {
		t.Errorf("Table.Rules shares its slices: %q", got)
	}
	rs[0].Match.ModelTypes[0] = "late"
	if d := table.Choose(rules.Model{ModelType: "late"}, rules.AllEnabled); d.Rule == rules.RuleLLMFamilies {
		t.Error("NewTable keeps the caller's slices")
	}
}

func TestChooseDoesNotAllocate(t *testing.T) {
	m := rules.Model{Name: "meta-llama/Llama-3.1-8B", Architecture: "LlamaForCausalLM", ModelType: "llama"}
	allocs := testing.AllocsPerRun(100, func() { rules.DefaultTable().Choose(m, rules.Enabled{Ray: true}) })
	if allocs != 0 {
		t.Errorf("Choose allocates %v times", allocs)
	}
}

var sink rules.Decision

func BenchmarkChooseDefault(b *testing.B) {
	benches := []struct {
		name string
		m    rules.Model
	}{
		{"name-only", rules.Model{Name: "custom-model"}},
		{"full-model", rules.Model{Name: "openai/clip-vit-large-patch14", Architecture: "CLIPModel", ModelType: "clip", Format: "safetensors", Task: "zero-shot-image-classification"}},
		{"full-llm", rules.Model{Name: "meta-llama/Llama-3.1-8B", Architecture: "LlamaForCausalLM", ModelType: "llama", Format: "safetensors", Task: "text-generation"}},
	}
	table := rules.DefaultTable()
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = table.Choose(bb.m, rules.AllEnabled)
			}
		})
	}
}
