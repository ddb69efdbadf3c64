package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAVictimsReasonSaysWhyWithTheNumbers pins the sentence a victim's reason reads as, against the
// same sentence written with fmt.
func TestAVictimsReasonSaysWhyWithTheNumbers(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	d := &Device{Index: 3, UUID: "GPU-abc"}
	for _, tt := range []struct {
		name       string
		last, next time.Time
		conf, cost float64
	}{
		{"a model requested a while ago, expected back in an hour", now.Add(-90 * time.Second), now.Add(time.Hour), 0.9, 0.12345},
		{"a model never requested, expected back in the past", time.Time{}, now.Add(-time.Minute), 0.5, 1},
		{"odd numbers print as fmt prints them", now.Add(-time.Millisecond), now.Add(1500 * time.Millisecond), math.NaN(), math.Inf(1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &Resident{Model: "llama-8b", Gateway: "gw-1", MemoryBytes: 16 << 30, LastRequest: tt.last}
			last := "never requested"
			if !tt.last.IsZero() {
				last = "last request " + now.Sub(tt.last).Round(time.Second).String() + " ago"
			}
			want := fmt.Sprintf("unload %s from gateway %s to make room for %s on GPU %d (%s): expected back in %s (confidence %.2f, %s), %.2f expected cold starts; the plan counts its reported memory_bytes (%s) as what the unload frees, since the GPU backend sees only device-wide free memory",
				r.Model, r.Gateway, "big", d.Index, d.UUID, max(tt.next.Sub(now), 0).Round(time.Second), tt.conf, last, tt.cost, FormatBytes(r.MemoryBytes))
			if got := string(appendVictimReason(nil, r, "big", d, now, tt.next, tt.conf, tt.cost)); got != want {
				t.Fatalf("reason\\n%s\\nwant\\n%s", got, want)
			}
		})
	}
}

// TestWholeSecondsPrintAsDurationStringPrintsThem holds appendSeconds to time.Duration's String
// for durations rounded to the second, and for those it hands on (not whole seconds).
func TestWholeSecondsPrintAsDurationStringPrintsThem(t *testing.T) {
	ds := []time.Duration{0, time.Second, 59 * time.Second, time.Minute, 61 * time.Second, 59*time.Minute + 59*time.Second,
		time.Hour, time.Hour + time.Second, 25*time.Hour + 3*time.Minute, -time.Second, -time.Hour - 61*time.Second,
		math.MaxInt64 / time.Second * time.Second, math.MinInt64 / time.Second * time.Second,
		time.Duration(math.MaxInt64), time.Duration(math.MinInt64), 1500 * time.Millisecond, -time.Nanosecond}
	for s := int64(-7300); s <= 7300; s += 7 {
		ds = append(ds, time.Duration(s)*time.Second)
	}
	for _, d := range ds {
		if got, want := string(appendSeconds([]byte("x"), d)), "x"+d.String(); got != want {
			t.Errorf("appendSeconds(%d) = %q, want %q", int64(d), got, want)
		}
	}
}

// TestFixedDecimalsPrintAsStrconvPrintsThem holds appendFixed to strconv.AppendFloat(x, 'f', prec)
// on the numbers a reason prints (costs, confidences, sizes in their unit), on exact halves that
// must round to even, and on what it hands on to strconv (negative, huge, NaN, infinite).
func TestFixedDecimalsPrintAsStrconvPrintsThem(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 0.005, 0.015, 0.125, 0.375, 0.25, 0.75, 0.05, 0.45, 0.5, 1, 1023.95, 1023.96,
		1<<20 - 0.001, 1 << 20, 1e300, -0.5, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1),
		ColdStartCost(10*time.Minute, RecencyConfidence), ColdStartCost(0, 1), RecencyConfidence}
	for k := range 4096 {
		xs = append(xs, float64(k)/1024, float64(k)/8+0.005, float64(k)/200, float64(k)/20)
	}
	r := rand.New(rand.NewPCG(20, 21))
	for range 50000 {
		xs = append(xs, r.Float64(), r.Float64()*1024, math.Ldexp(r.Float64(), r.IntN(60)-40), math.Float64frombits(r.Uint64()))
	}
	for _, x := range xs {
		for _, prec := range []int{1, 2} {
			if got, want := string(appendFixed([]byte("x"), x, prec)), "x"+strconv.FormatFloat(x, 'f', prec, 64); got != want {
				t.Fatalf("appendFixed(%v [%#x], %d) = %q, want %q", x, math.Float64bits(x), prec, got, want)
			}
		}
	}
}
