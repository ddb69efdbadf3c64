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

// TestByteClassesEndAtTheRangeEnds: letters and digits are exactly ASCII A-Z, a-z and 0-9, both
// ends of each range included; the neighbours of each end ('/', ':', '@', '[', '`', '{') and
// every byte outside ASCII are separators. The oracle is written out here, not the table.
func TestByteClassesEndAtTheRangeEnds(t *testing.T) {
	for i := 0; i < 256; i++ {
		c := byte(i)
		lowerWant := i >= 0x61 && i <= 0x7a
		upperWant := i >= 0x41 && i <= 0x5a
		digitWant := i >= 0x30 && i <= 0x39
		if isLower(c) != lowerWant || isUpper(c) != upperWant || isDigit(c) != digitWant || isAlnum(c) != (lowerWant || upperWant || digitWant) {
			t.Errorf("byte %q (%#x): lower %v upper %v digit %v alnum %v; want %v %v %v", c, i, isLower(c), isUpper(c), isDigit(c), isAlnum(c), lowerWant, upperWant, digitWant)
		}
		wantLower := c
		if upperWant {
			wantLower = c + 0x20
		}
		if lower(c) != wantLower {
			t.Errorf("lower(%q) = %q; want %q", c, lower(c), wantLower)
		}
	}
}

// TestTokenBoundariesAtTheRangeEnds pins where tokens start for identifiers built from the first
// and last byte of each class, so that a range that ends one byte early or late shows.
func TestTokenBoundariesAtTheRangeEnds(t *testing.T) {
	tests := []struct {
		name   string
		s      string
		starts string // 's' where a token starts, '.' elsewhere
	}{
		{"'z' and 'a' are lowercase: no boundary inside zaz", "zaz", "s.."},
		{"'Z' then 'z': an uppercase letter starts the lowercase run", "Zz", "s."},
		{"'z' then 'Z': lower to upper is a boundary", "zZ", "ss"},
		{"'9' then 'z': a digit run ends at a letter", "9z", "ss"},
		{"'0' and '9' are one digit run", "09a", "s.s"},
		{"'Z' then '9': a letter run ends at a digit", "Z9", "ss"},
		{"'A' 'Z' before 'a': the last uppercase letter starts the next word", "AZa", "ss."},
		{"'z' then '{': '{' is a separator", "z{z", "s.s"},
		{"'9' then ':': ':' is a separator", "9:9", "s.s"},
		{"'Z' then '[': '[' is a separator", "Z[Z", "s.s"},
		{"'@' and '`' and '/' are separators", "a@b`c/d", "s.s.s.s"},
		{"a byte outside ASCII is a separator", "a\xe9b", "s.s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			for i := range len(tt.s) {
				if tokenStart(tt.s, i) {
					got = append(got, 's')
				} else {
					got = append(got, '.')
				}
			}
			if string(got) != tt.starts {
				t.Errorf("token starts of %q = %s; want %s", tt.s, got, tt.starts)
			}
			var tk tokens
			tk.split(tt.s)
			split := []byte(strings.Repeat(".", len(tt.s)))
			for _, i := range tk.starts[:tk.n] {
				split[i] = 's'
			}
			if string(split) != tt.starts {
				t.Errorf("split(%q) starts = %s; want %s", tt.s, split, tt.starts)
			}
		})
	}
}

// TestCharBitIsOneBitPerCharacter: every lowercase letter and digit has a bit of its own, the
// last ones ('z', '9') included, so that a mask never makes two first characters collide.
func TestCharBitIsOneBitPerCharacter(t *testing.T) {
	seen := map[uint64]byte{}
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyz0123456789") {
		b := charBit(c)
		if b == 0 || b&(b-1) != 0 {
			t.Errorf("charBit(%q) = %#x; want a single bit", c, b)
		}
		if prev, ok := seen[b]; ok {
			t.Errorf("charBit(%q) = charBit(%q) = %#x", c, prev, b)
		}
		seen[b] = c
	}
	for _, c := range []byte("AZ_{`:/") {
		if b := charBit(c); b != 0 {
			t.Errorf("charBit(%q) = %#x; want 0 (only lowercase letters and digits have a bit)", c, b)
		}
	}
}

// TestLongIdentifiersMatchExactly: token starts are kept as 16-bit offsets, so an identifier
// longer than 65,535 bytes is matched by scanning; a word past that offset still matches, and a
// word at the very end of an identifier too.
func TestLongIdentifiersMatchExactly(t *testing.T) {
	long := strings.Repeat("a", 70_000) + "_llama"
	var tk tokens
	tk.split(long)
	if !tk.match("llama") {
		t.Errorf("a token at offset 70,001 does not match")
	}
	if tk.match("allama") {
		t.Errorf("a word spanning a separator matches")
	}
	for _, tt := range []struct {
		s, w string
		want bool
	}{
		{"my_llama", "llama", true},
		{"llama", "llama", true},
		{"my_llam", "llama", false},
	} {
		if got := matchTokens(tt.s, tt.w); got != tt.want {
			t.Errorf("matchTokens(%q, %q) = %v; want %v", tt.s, tt.w, got, tt.want)
		}
	}
}
