package access

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func keys(l *Limiter) []string {
	var out []string
	for k := range l.clients {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestTheBucketCapDropsIdleBucketsFirst pins which buckets a limiter at its cap drops: those idle
// longer than a full refill (exactly a refill is kept), and only when none is, half of them.
func TestTheBucketCapDropsIdleBucketsFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("a bucket idle longer than a refill goes, one idle exactly a refill stays", func(t *testing.T) {
		now := t0
		l := NewLimiter(2, 3, 4, func() time.Time { return now }) // a refill takes 3/2 s
		l.Allow("a")
		now = t0.Add(time.Second)
		for _, k := range []string{"b", "c", "d"} {
			l.Allow(k)
		}
		now = t0.Add(2500 * time.Millisecond)
		l.Allow("e")
		if got := keys(l); !slices.Equal(got, []string{"b", "c", "d", "e"}) {
			t.Fatalf("buckets %v, want b, c, d (idle exactly 1.5 s) and e", got)
		}
	})
	t.Run("when none is idle, half the cap goes and the new client gets a bucket", func(t *testing.T) {
		l := NewLimiter(2, 3, 4, func() time.Time { return t0 })
		for i := range 4 {
			l.Allow(strconv.Itoa(i))
		}
		if len(l.clients) != 4 {
			t.Fatalf("%d buckets under the cap of 4, want 4", len(l.clients))
		}
		l.Allow("new")
		if got := keys(l); len(got) != 3 || !slices.Contains(got, "new") {
			t.Fatalf("buckets %v, want 2 of the 4 and new", got)
		}
	})
	t.Run("a known client past the cap drops nothing", func(t *testing.T) {
		l := NewLimiter(2, 3, 2, func() time.Time { return t0 })
		l.Allow("a")
		l.Allow("b")
		l.Allow("a")
		if got := keys(l); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("buckets %v, want a and b", got)
		}
	})
}

func TestLimiterDefaults(t *testing.T) {
	for _, tt := range []struct {
		name               string
		burst, maxClients  int
		wantBurst, wantMax int
	}{
		{"no cap means the default cap", 3, 0, 3, DefaultMaxClients},
		{"a negative cap means the default cap", 3, -1, 3, DefaultMaxClients},
		{"a cap of one is kept", 3, 1, 3, 1},
		{"a burst under one is one", 0, 5, 1, 5},
		{"a burst of one is kept", 1, 5, 1, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(1, tt.burst, tt.maxClients, nil)
			if l.burst != tt.wantBurst || l.max != tt.wantMax || l.now == nil {
				t.Fatalf("burst %d, max %d; want %d, %d and a clock", l.burst, l.max, tt.wantBurst, tt.wantMax)
			}
		})
	}
}
