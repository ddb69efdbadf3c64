package rules

import (
	"strings"
	"testing"
)

// FuzzTokens holds the one-pass splitter used by Choose to the boundary
// rule that matchTokens applies byte by byte.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"GPT2LMHeadModel", "gpt_neox", "GPTNeoXForCausalLM", "resnet50", "optimizer", "XLMRobertaModel", strings.Repeat("aB", 40)} {
		f.Add(s, "gpt")
	}
	f.Fuzz(func(t *testing.T, s, w string) {
		w = normalize(w)
		if w == "" {
			return
		}
		var tk tokens
		tk.split(s)
		for i := 0; i < len(s); i++ {
			if start := tokenStart(s, i); start != (tk.mask&charBit(lower(s[i])) != 0) && start {
				t.Fatalf("split misses the token start at %d of %q", i, s)
			}
		}
		if got, want := tk.match(w), matchTokens(s, w); got != want {
			t.Fatalf("tokens(%q).match(%q) = %v, matchTokens = %v", s, w, got, want)
		}
	})
}
