package rules

// Identifier matching, shared by every field of a rule. The rule is stated
// on [Match]; tokenStart and tokens.split are its two implementations (byte
// by byte, and in one pass for Choose), held together by FuzzTokens.

// Byte classes, looked up in a table because Choose classifies every byte.
const (
	classLower = 1 << iota
	classUpper
	classDigit
	classAlnum = classLower | classUpper | classDigit
)

// class holds the class bits of every byte; bytes outside ASCII are 0.
var class = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = classUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	return t
}()

func isLower(c byte) bool { return class[c] == classLower }
func isUpper(c byte) bool { return class[c] == classUpper }
func isDigit(c byte) bool { return class[c] == classDigit }
func isAlnum(c byte) bool { return class[c] != 0 }

// lower folds an ASCII letter to lowercase.
func lower(c byte) byte {
	if class[c] == classUpper {
		return c + ('a' - 'A')
	}
	return c
}

// boundary reports whether a token boundary lies between s[i-1] and s[i],
// for 0 < i < len(s).
func boundary(s string, i int) bool {
	a, b := s[i-1], s[i]
	switch {
	case !isAlnum(a) || !isAlnum(b):
		return true
	case isDigit(a) != isDigit(b):
		return true
	case isLower(a) && isUpper(b):
		return true
	case isUpper(a) && isUpper(b) && i+1 < len(s) && isLower(s[i+1]):
		return true
	}
	return false
}

// tokenStart reports whether a token begins at s[i].
func tokenStart(s string, i int) bool {
	return isAlnum(s[i]) && (i == 0 || boundary(s, i))
}

// tokenEnd reports whether a token ends just before s[i] (i may be len(s)).
func tokenEnd(s string, i int) bool {
	return i == len(s) || boundary(s, i)
}

// charBit maps a lowercase letter or digit to one bit of a 64-bit mask, so
// that a field can say cheaply which characters its tokens start with.
func charBit(c byte) uint64 {
	switch {
	case isLower(c):
		return 1 << (c - 'a')
	case isDigit(c):
		return 1 << (26 + c - '0')
	}
	return 0
}

// maxStarts bounds the token starts a tokens value remembers; identifiers
// with more tokens are matched by scanning, which is slower but as exact.
const maxStarts = 24

// tokens is an identifier split once, so that every rule value is compared
// only at token starts with the right first character. It lives on the stack.
type tokens struct {
	s      string
	mask   uint64 // charBit of the (lowercased) first byte of every token
	n      int    // token starts recorded
	long   bool   // more than maxStarts tokens: scan instead
	starts [maxStarts]uint16
}

// split records the token starts of s in one pass; it applies the same
// boundaries as tokenStart.
func (t *tokens) split(s string) {
	t.s, t.mask, t.n, t.long = s, 0, 0, len(s) > 0xFFFF
	var prev uint8
	for i := 0; i < len(s); i++ {
		c := class[s[i]]
		start := c != 0 && (prev == 0 ||
			(prev == classDigit) != (c == classDigit) ||
			(prev == classLower && c == classUpper) ||
			(prev == classUpper && c == classUpper && i+1 < len(s) && class[s[i+1]] == classLower))
		prev = c
		if !start {
			continue
		}
		t.mask |= charBit(lower(s[i]))
		if t.n == maxStarts {
			t.long = true
			continue
		}
		t.starts[t.n] = uint16(i)
		t.n++
	}
}

// match reports whether the normalized word w matches s (see matchTokens).
func (t *tokens) match(w string) bool {
	if t.long {
		return matchTokens(t.s, w)
	}
	for _, i := range t.starts[:t.n] {
		if lower(t.s[i]) == w[0] && matchAt(t.s, int(i), w) {
			return true
		}
	}
	return false
}

// normalize lowercases v and drops every byte that is not an ASCII letter or
// digit; it is how a rule value is compared.
func normalize(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; isAlnum(c) {
			b = append(b, lower(c))
		}
	}
	return string(b)
}

// matchTokens reports whether the normalized, non-empty word w equals the
// concatenation of one or more consecutive tokens of s. It allocates nothing.
func matchTokens(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if lower(s[i]) != w[0] || !tokenStart(s, i) {
			continue
		}
		if matchAt(s, i, w) {
			return true
		}
	}
	return false
}

// matchAt matches w against s from the token start i, skipping separators.
func matchAt(s string, i int, w string) bool {
	j := i
	for k := 0; k < len(w); j++ {
		if j == len(s) {
			return false
		}
		c := s[j]
		if !isAlnum(c) {
			continue
		}
		if lower(c) != w[k] {
			return false
		}
		k++
	}
	return tokenEnd(s, j)
}
