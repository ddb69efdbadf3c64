package hfconfig

// visionTransformer estimates a ViT encoder. Besides ViT's and CLIP's field names it reads
// Qwen2-VL's (depth, embed_dim, mlp_ratio, in_chans, temporal_patch_size) and its patch
// merger (spatial_merge_size, into out_hidden_size or the vision hidden_size); a tower with a
// spatial merge has no position table, so it needs no image_size.
func (e *estimator) visionTransformer(o object, record bool) float64 {
	layers, okL := e.need(o, "num_hidden_layers", "depth")
	// Qwen2-VL's vision hidden_size is the merger's output; embed_dim is the tower's width.
	hidden, okH := o.count("embed_dim")
	if !okH {
		hidden, okH = e.need(o, "hidden_size")
	}
	inter, ok := o.count("intermediate_size")
	if !ok {
		inter = 4 * hidden
		if r, ok := o.float("mlp_ratio"); ok && r > 0 {
			inter = toInt64(r * float64(hidden))
		}
	}
	heads, _ := o.count("num_attention_heads", "num_heads")
	merge, hasMerge := o.count("spatial_merge_size")
	image, okI := o.count("image_size")
	if !okI && !hasMerge {
		e.miss("image_size")
	}
	patch, okP := e.need(o, "patch_size")
	channels, ok := o.count("num_channels", "in_chans", "in_channels")
	if !ok {
		channels = 3
	}
	if record {
		a := e.a
		a.NumLayers, a.HiddenSize, a.NumAttentionHeads, a.NumKeyValueHeads, a.IntermediateSize = layers, hidden, heads, heads, inter
		if heads > 0 {
			a.HeadDim = hidden / heads
		}
	}
	if !okL || !okH {
		return 0
	}
	h := float64(hidden)
	mats := 2.0
	if gated(o, "") {
		mats = 3 // Qwen2.5-VL's vision MLP is SwiGLU
	}
	params := float64(layers) * (4*h*h + mats*h*float64(inter))
	if okP {
		proj := float64(channels) * float64(patch) * float64(patch) * h
		if t, ok := o.count("temporal_patch_size"); ok {
			proj *= float64(t) // a 3-D patch over video frames
		}
		params += proj
	}
	if okI && okP {
		side := float64(image / patch)
		params += (side*side + 2) * h // positions, class token
	}
	if hasMerge {
		// The merger's MLP takes merge² neighbouring patches to the language model's width.
		in := h * float64(merge) * float64(merge)
		out, ok := o.count("out_hidden_size")
		if _, isEmbed := o.count("embed_dim"); !ok && isEmbed {
			out, ok = o.count("hidden_size")
		}
		if ok {
			params += in*in + in*float64(out)
		}
	}
	return params
}
