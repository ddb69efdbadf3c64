package hfconfig

import "strings"

// dtype reads the weight and activation sizes: torch_dtype (or
// transformers 5's dtype), and a quantization_config's bits, 4-/8-bit
// loading or fp8 format, which shrink the weights but not the KV cache.
func (e *estimator) dtype(cfg object) {
	a := e.a
	dt, ok := cfg.str("dtype", "torch_dtype")
	if !ok {
		if text, isSub := cfg.sub("text_config"); isSub {
			dt, ok = text.str("dtype", "torch_dtype")
		}
	}
	size, known := dtypeSize(dt)
	if !ok || !known {
		size = 4
		e.assume("torch_dtype=float32")
	}
	a.DType = dt
	e.kvBytes = size
	a.BytesPerParameter = size
	q, ok := cfg.sub("quantization_config")
	if !ok {
		return
	}
	a.Quantization, _ = q.str("quant_method")
	fmtName, _ := q.str("fmt")
	switch bits, hasBits := q.count("bits", "weight_bits"); {
	case hasBits:
		a.BytesPerParameter = float64(bits) / 8
	case q.boolean("load_in_4bit", false):
		a.BytesPerParameter = 0.5
	case q.boolean("load_in_8bit", false),
		strings.Contains(strings.ToLower(a.Quantization), "fp8"),
		strings.HasPrefix(strings.ToLower(fmtName), "e4m3"), strings.HasPrefix(strings.ToLower(fmtName), "e5m2"):
		a.BytesPerParameter = 1
	}
}

// dtypeSize is the size in bytes of a torch dtype name.
func dtypeSize(dt string) (float64, bool) {
	switch strings.TrimPrefix(strings.ToLower(dt), "torch.") {
	case "float32", "fp32", "float":
		return 4, true
	case "float16", "fp16", "half", "bfloat16", "bf16":
		return 2, true
	case "float8_e4m3fn", "float8_e5m2", "fp8", "int8", "uint8":
		return 1, true
	case "float64", "double":
		return 8, true
	}
	return 0, false
}
