package predict

import "testing"

func TestAnyAtLeastMatchesTheByteLoop(t *testing.T) {
	for th := 1; th <= 128; th++ {
		for pos := range 8 {
			for _, b := range []int{0, 1, th - 1, th, th + 1, 127, 128, 200, 255} {
				if b < 0 || b > 255 {
					continue
				}
				// The other bytes just below the threshold: the worst case for carries.
				x := uint64(0)
				for i := range 8 {
					v := uint64(th - 1)
					if i == pos {
						v = uint64(b)
					}
					x |= v << (8 * i)
				}
				want := b >= th
				if got := anyAtLeast(x, uint8(th)); got != want {
					t.Fatalf("th %d, byte %d = %d among %d's: got %v, want %v", th, pos, b, th-1, got, want)
				}
			}
		}
	}
}

func TestNextLikelyFindsTheFirstLikelyMinute(t *testing.T) {
	cfg := DefaultConfig()
	for _, at := range []int{1, 7, 8, 9, 63, 200, 239, 240} {
		h := &History{last: 1000 + 1}
		h.plan[at-1] = probScale
		for _, from := range []int{at - 9, at - 2, at - 1} {
			m, p, ok := h.NextLikely(1000+int64(from), &cfg)
			want := from+1 <= at
			if ok != want || ok && (m != 1000+int64(at) || p != 1) {
				t.Errorf("plan set at +%d, from +%d: got %d %v %v, want minute %d: %v", at, from, m-1000, p, ok, at, want)
			}
		}
		if _, _, ok := h.NextLikely(1000+int64(at), &cfg); ok {
			t.Errorf("plan set at +%d: found one after it", at)
		}
	}
}
