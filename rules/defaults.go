package rules

// Names of the rules of the default table.
const (
	RuleLLMFamilies       = "llm-families"
	RuleEmbeddingEncoders = "embedding-encoders"
	RuleVisionAudio       = "vision-audio"
	RuleEncoderDecoder    = "encoder-decoder"
	RuleEverythingElse    = "everything-else"
)

// llmFamilies are decoder-only LLM families that vLLM serves. More specific
// spellings come first so that a decision quotes the most telling one
// ("gpt2" rather than "gpt").
var llmFamilies = []string{
	"gpt2", "gpt-neox", "gpt-neo", "gptj", "gpt-bigcode", "gpt",
	"llama", "llava", "mistral", "mixtral", "qwen2-moe", "qwen", "falcon",
	"opt", "bloom", "gemma", "phi3", "phi", "deepseek-v3", "deepseek",
	"mpt", "starcoder", "codegen", "baichuan", "chatglm", "internlm",
	"olmo", "stablelm", "granite", "cohere", "dbrx", "jamba", "nemotron",
	"exaone", "yi",
}

// embeddingEncoders are BERT-family encoders. The original brain sent
// "bert-base" to vLLM, which serves these models as embedding models; the
// seed's example wins over its keyword list.
var embeddingEncoders = []string{
	"bert", "distilbert", "roberta", "distilroberta", "xlm-roberta",
	"minilm", "sentence-transformers", "bge",
}

// visionAudio are image and audio model families, served by Ray Serve.
var visionAudio = []string{
	"resnet", "vit", "deit", "beit", "swin", "convnext", "efficientnet",
	"mobilenet", "regnet", "detr", "yolo", "dinov2", "segformer", "sam",
	"clip", "siglip", "blip", "whisper", "wav2vec2", "hubert", "wavlm",
}

// encoderDecoder are sequence-to-sequence text families. vLLM's support for
// them has come and gone between releases (BART was served by the V0 engine
// and is a plugin since; T5 never was), so the default sends them to Ray
// Serve, which runs any transformers model. A table that prefers vLLM for
// BART adds a rule before this one.
var encoderDecoder = []string{
	"t5", "mt5", "bart", "mbart", "pegasus", "marian", "m2m-100", "nllb",
}

// familyRule builds a rule matching families on architecture, model_type and
// (for models known only by name) name.
func familyRule(name, runtime, description string, families []string) Rule {
	return Rule{
		Name:    name,
		Runtime: runtime,
		Match: Match{
			Architectures: families,
			ModelTypes:    families,
			Names:         families,
		},
		Description: description,
	}
}

// DefaultRules returns the default runtime table, which reproduces the
// original brain and fixes its misfires:
//
//	llm-families        -> vllm  decoder-only LLM families (gpt2, llama, mixtral, qwen, falcon, opt, ...)
//	embedding-encoders  -> vllm  BERT-family encoders, served as embedding models
//	vision-audio        -> ray   image and audio models (resnet, vit, clip, blip, whisper, ...)
//	encoder-decoder     -> ray   text seq2seq (t5, bart, ...)
//	everything-else     -> ray   catch-all
//
// and, when none of those applies with an enabled runtime, the fallback
// (triton). So gpt2 -> vllm, resnet50 -> ray, bert-base -> vllm, custom-model
// -> ray, and an LLM goes to Ray Serve when vLLM is disabled. The result is a
// fresh copy that the caller may change.
func DefaultRules() []Rule {
	rs := []Rule{
		familyRule(RuleLLMFamilies, RuntimeVLLM, "LLM family", llmFamilies),
		familyRule(RuleEmbeddingEncoders, RuntimeVLLM, "BERT-family encoder, served as an embedding model", embeddingEncoders),
		familyRule(RuleVisionAudio, RuntimeRay, "vision or audio family", visionAudio),
		familyRule(RuleEncoderDecoder, RuntimeRay, "encoder-decoder text family", encoderDecoder),
		{Name: RuleEverythingElse, Runtime: RuntimeRay, Match: Match{Any: true}, Description: "any model"},
	}
	for i := range rs {
		rs[i] = rs[i].clone()
	}
	return rs
}

// defaultTable is built once; DefaultTable hands it out.
var defaultTable = MustNewTable(DefaultRules())

// DefaultTable returns the validated default table. Tables are immutable, so
// every caller may share it.
func DefaultTable() *Table { return defaultTable }
