package rules

// Well-known runtime names. They are stable lowercase strings so that a rule
// table written in YAML can name them.
const (
	RuntimeVLLM   = "vllm"   // vLLM: decoder LLMs and embedding encoders
	RuntimeRay    = "ray"    // Ray Serve: any Python model, the general-purpose runtime
	RuntimeTriton = "triton" // Triton Inference Server: the fallback
)

// FallbackRuntime is the runtime a [Decision] names when no rule of the table
// matches the model with an enabled runtime. Like the original brain, the
// fallback answers Triton even when Triton itself is disabled; the decision
// then says so ([Decision.Fallback], [Decision.Reason]).
const FallbackRuntime = RuntimeTriton

// FallbackRule is the rule name a [Decision] carries when the fallback decided.
const FallbackRule = "fallback"

// runtimes lists the allowed runtime names in the order error messages show them.
var runtimes = [...]string{RuntimeVLLM, RuntimeRay, RuntimeTriton}

// Model is what the runtime decision knows about a model. Every field is
// optional; Architecture and ModelType are the config.json values
// (architectures[0] and model_type), Name is the model's id or path, Format its
// weight format (safetensors, pytorch, onnx, tensorrt, torchscript,
// savedmodel, gguf) and Task what it is served for (text-generation,
// embedding, ...).
type Model struct {
	Name         string
	Architecture string
	ModelType    string
	Format       string
	Task         string
}

// Enabled says which runtimes the deployment has switched on. A rule whose
// runtime is disabled is skipped and the next matching rule decides.
type Enabled struct {
	VLLM   bool
	Ray    bool
	Triton bool
}

// AllEnabled is the deployment with every runtime switched on.
var AllEnabled = Enabled{VLLM: true, Ray: true, Triton: true}

// Has reports whether runtime is enabled; unknown names are never enabled.
func (e Enabled) Has(runtime string) bool {
	switch runtime {
	case RuntimeVLLM:
		return e.VLLM
	case RuntimeRay:
		return e.Ray
	case RuntimeTriton:
		return e.Triton
	}
	return false
}

// runtimeTitle is how a sentence names a runtime.
func runtimeTitle(runtime string) string {
	switch runtime {
	case RuntimeVLLM:
		return "vLLM"
	case RuntimeRay:
		return "Ray Serve"
	case RuntimeTriton:
		return "Triton"
	}
	return runtime
}
