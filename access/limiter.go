package access

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxClients bounds the clients a Limiter keeps a bucket for; past it the longest-idle
// buckets are dropped (a dropped client starts again with a full bucket).
const DefaultMaxClients = 100_000

// Limiter is a token bucket per client (a principal, or a peer address without TLS): rps tokens a
// second, up to burst at once. It is safe for concurrent use.
type Limiter struct {
	rps   rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter makes a limiter; now is the clock (nil: time.Now), maxClients bounds the buckets
// kept (0: DefaultMaxClients).
func NewLimiter(rps float64, burst, maxClients int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	return &Limiter{rps: rate.Limit(rps), burst: max(burst, 1), max: maxClients, now: now, clients: make(map[string]*client)}
}

// Allow takes a token from key's bucket: ok, or how long until the next token.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	c := l.clients[key]
	if c == nil {
		if len(l.clients) >= l.max {
			l.evict(now)
		}
		c = &client{lim: rate.NewLimiter(l.rps, l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	l.mu.Unlock()
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// evict drops the buckets idle for longer than it takes to refill one (they are full again, so
// dropping them changes nothing), or, when none is, the oldest half.
func (l *Limiter) evict(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.rps) * float64(time.Second))
	for k, c := range l.clients {
		if now.Sub(c.seen) > refill {
			delete(l.clients, k)
		}
	}
	if len(l.clients) < l.max {
		return
	}
	n := 0
	for k := range l.clients { // map order is random: a random half
		if n >= l.max/2 {
			break
		}
		delete(l.clients, k)
		n++
	}
}
