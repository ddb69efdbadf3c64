package metrics

import (
	"math"
	"math/bits"
	"time"
)

// Ring geometry: 60 buckets of 5 s cover the 5-minute window in 240 bytes a model. Per-second
// buckets would cost 1.2 KiB, over the brain's budget of 1 KiB a model.
const (
	bucketWidth   = 5 * time.Second
	bucketCount   = 60
	bucketsIn1m   = int64(time.Minute / bucketWidth)
	bucketsIn5m   = int64(5 * time.Minute / bucketWidth)
	window1m      = time.Minute
	window5m      = 5 * time.Minute
	bucketWidthNs = int64(bucketWidth)
)

// ring counts requests per 5-second bucket over the last 300 s. Bucket b covers
// [b*5s, (b+1)*5s) since the Unix epoch and lives in slot b mod 60; head is the newest bucket
// written, so slots hold buckets head-59 .. head and everything older is gone.
type ring struct {
	counts [bucketCount]uint32
	head   int64
}

func bucketOf(ns int64) int64 {
	b := ns / bucketWidthNs
	if ns%bucketWidthNs < 0 {
		b--
	}
	return b
}

func slotOf(b int64) int {
	s := b % bucketCount
	if s < 0 {
		s += bucketCount
	}
	return int(s)
}

// add spreads n requests over the interval [start, end) in proportion to the time it overlaps each
// bucket; a zero-length interval puts them all in the bucket of start. Rounding is cumulative, so
// the parts always sum to n and the remainder falls in the later buckets.
func (r *ring) add(start, end, n int64) {
	if n <= 0 {
		return
	}
	if end <= start {
		r.addBucket(bucketOf(start), n)
		return
	}
	last := bucketOf(end - 1)
	r.advance(last)
	first := max(bucketOf(start), r.head-bucketCount+1)
	if first > last {
		return // entirely older than the ring
	}
	d := end - start
	prev := share(n, max(start, first*bucketWidthNs)-start, d)
	for b := first; b <= last; b++ {
		next := share(n, min(end, (b+1)*bucketWidthNs)-start, d)
		r.inc(b, next-prev)
		prev = next
	}
}

func (r *ring) addBucket(b, n int64) {
	r.advance(b)
	if b > r.head-bucketCount {
		r.inc(b, n)
	}
}

// advance makes b the newest bucket, clearing the slots that the ring reuses.
func (r *ring) advance(b int64) {
	steps := b - r.head
	if steps <= 0 {
		return
	}
	if steps >= bucketCount {
		r.counts = [bucketCount]uint32{}
	} else {
		for i := r.head + 1; i <= b; i++ {
			r.counts[slotOf(i)] = 0
		}
	}
	r.head = b
}

// inc adds n >= 0 requests to bucket b, saturating at MaxUint32. The comparison comes before the
// addition: count + n in int64 would wrap for n near MaxInt64 and leave garbage (often 0, making
// a busy model look idle).
func (r *ring) inc(b, n int64) {
	s := slotOf(b)
	if n >= math.MaxUint32-int64(r.counts[s]) {
		r.counts[s] = math.MaxUint32
		return
	}
	r.counts[s] += uint32(n)
}

// sum returns the requests in the w buckets that end with the bucket of now.
func (r *ring) sum(now, w int64) int64 {
	nowB := bucketOf(now)
	lo := max(nowB-w+1, r.head-bucketCount+1)
	hi := min(nowB, r.head)
	var total int64
	for b := lo; b <= hi; b++ {
		total += int64(r.counts[slotOf(b)])
	}
	return total
}

func (r *ring) qps1m(now int64) float64 {
	return float64(r.sum(now, bucketsIn1m)) / window1m.Seconds()
}

func (r *ring) qps5m(now int64) float64 {
	return float64(r.sum(now, bucketsIn5m)) / window5m.Seconds()
}

// share is floor(n*x/d) for 0 <= x <= d, exact for every int64 n >= 0.
func share(n, x, d int64) int64 {
	hi, lo := bits.Mul64(uint64(n), uint64(x))
	q, _ := bits.Div64(hi, lo, uint64(d))
	return int64(q)
}
