package hfconfig

import (
	"math"
	"strings"
)

// convNet estimates a ResNet-style convolutional network from hidden_sizes
// and depths (bottleneck blocks reduce channels 4×; basic blocks do not).
func (e *estimator) convNet(cfg object) float64 {
	sizes, okS := cfg.counts("hidden_sizes")
	depths, okD := cfg.counts("depths")
	if !okS {
		e.miss("hidden_sizes")
	}
	if !okD {
		e.miss("depths")
	}
	if !okS || !okD || len(sizes) != len(depths) {
		return 0
	}
	stem, ok := cfg.count("embedding_size")
	if !ok {
		stem = 64
	}
	channels, ok := cfg.count("num_channels")
	if !ok {
		channels = 3
	}
	layerType, _ := cfg.str("layer_type")
	block := func(in, out float64) float64 {
		if layerType == "basic" {
			return 9*in*out + 9*out*out
		}
		mid := out / 4
		return in*mid + 9*mid*mid + mid*out
	}
	params := float64(channels) * float64(stem) * 49 // the 7×7 stem
	in := float64(stem)
	var blocks int64
	// A stage's first block takes the previous stage's width; the other depth-1 blocks repeat
	// one shape, so a stage costs O(1) however large a depth the config states (up to 2^53).
	for i, size := range sizes {
		out := float64(size)
		params += block(in, out) + float64(depths[i]-1)*block(out, out)
		if in != out {
			params += in * out // projection shortcut
		}
		in = out
		if blocks > math.MaxInt64-depths[i] {
			blocks = math.MaxInt64
		} else {
			blocks += depths[i]
		}
	}
	if labels, ok := cfg["id2label"].(map[string]any); ok && strings.HasSuffix(e.a.Architecture, "ForImageClassification") {
		params += in*float64(len(labels)) + float64(len(labels))
	}
	e.a.NumLayers, e.a.HiddenSize = blocks, sizes[len(sizes)-1]
	return params
}
