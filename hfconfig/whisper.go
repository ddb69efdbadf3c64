package hfconfig

// addWhisperInputs adds to params what Whisper's audio encoder-decoder has
// beside the layers encdec.go counts: a position table for each side
// (max_source_positions audio frames, max_target_positions tokens) and, when
// num_mel_bins is stated, the two input convolutions over the mel
// spectrogram (kernel 3: mel→d_model, then d_model→d_model). A config
// without max_source_positions is not Whisper-shaped: ok is false and params
// is returned unchanged.
func addWhisperInputs(params float64, o object, h float64) (_ float64, ok bool) {
	src, ok := o.count("max_source_positions")
	if !ok {
		return params, false
	}
	tgt, _ := o.count("max_target_positions")
	params += float64(src+tgt) * h
	if mel, ok := o.count("num_mel_bins"); ok {
		params += 3*float64(mel)*h + 3*h*h // Whisper's two input convolutions
	}
	return params, true
}
