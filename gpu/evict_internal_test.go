package gpu

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// These tests pin the eviction planner's pieces (cost curve, candidate order, victim choice,
// top-N selection) one by one: the planner's public tests see only a whole plan, where several
// pieces can cover for one another.

var evictNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestColdStartCostCurve(t *testing.T) {
	h := DefaultEvictionHorizon
	for _, tt := range []struct {
		name string
		wait time.Duration
		conf float64
		want float64
	}{
		{"a model wanted now costs one cold start when the estimate is sure", 0, 1, 1},
		{"a model wanted in one horizon costs half a cold start", h, 1, 0.5},
		{"a model wanted in three horizons costs a quarter", 3 * h, 1, 0.25},
		{"an unsure estimate leans to an even chance", 3 * h, 0.5, 0.5*0.25 + 0.5*0.5},
		{"no confidence is an even chance whatever the wait", 0, 0, 0.5},
		{"a wait in the past counts as now", -h, 1, 1},
		{"a confidence above one counts as one", 0, 2, 1},
		{"a confidence below zero counts as zero", 0, -1, 0.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ColdStartCost(tt.wait, tt.conf); math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("ColdStartCost(%v, %v) = %v, want %v", tt.wait, tt.conf, got, tt.want)
			}
		})
	}
}

func TestRecencyEstimateIsTheIdleTime(t *testing.T) {
	for _, tt := range []struct {
		name string
		last time.Time
		want time.Time
	}{
		{"a model idle ten minutes is expected back in ten", evictNow.Add(-10 * time.Minute), evictNow.Add(10 * time.Minute)},
		{"a model never requested is expected back in an hour", time.Time{}, evictNow.Add(time.Hour)},
		{"a last request after now (clock skew) means wanted now", evictNow.Add(time.Minute), evictNow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := LastRequestEstimator{Now: evictNow, LastRequest: func(string, string) time.Time { return tt.last }}
			next, conf := e.NextUse("m", "gw")
			if !next.Equal(tt.want) || conf != RecencyConfidence {
				t.Fatalf("NextUse = %v, %v; want %v, %v", next, conf, tt.want, RecencyConfidence)
			}
			wantIdle := int64(tt.want.Sub(evictNow))
			if got := idleNanos(evictNow.UnixNano(), lastNanos(tt.last)); got != wantIdle {
				t.Fatalf("idleNanos = %d, want %d", got, wantIdle)
			}
		})
	}
}

func TestARefusalCountsOnlyTheReasonsThatHeldModelsBack(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    blocked
		want string
	}{
		{"nothing held back says so", blocked{}, "none blocked"},
		{"one reason of one model is named alone", blocked{busy: 1}, "1 with requests in flight"},
		{"every reason is named in order", blocked{pinned: 1, busy: 2, loading: 3, reserved: 4, claimed: 5},
			"1 pinned, 2 with requests in flight, 3 not LOADED, 4 holding a reservation, 5 already promised to another placement"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.String(); got != tt.want {
				t.Fatalf("%+v.String() = %q, want %q", tt.b, got, tt.want)
			}
		})
	}
}

func TestCandidatesAreOrderedByCostThenAgeThenSize(t *testing.T) {
	residents := []Resident{
		{Model: "old", LastRequest: evictNow.Add(-time.Hour)},
		{Model: "new", LastRequest: evictNow.Add(-time.Minute)},
		{Model: "never"},
	}
	for _, tt := range []struct {
		name string
		x, y evictCand
		want int // 1: x cheaper, -1: y cheaper, 0: neither
	}{
		{"the lower cost goes first, however recent", evictCand{cost: 0.1, res: 1}, evictCand{cost: 0.2, res: 0}, 1},
		{"of equal cost the older last request goes first", evictCand{cost: 0.2, res: 0}, evictCand{cost: 0.2, res: 1}, 1},
		{"of equal cost a model never requested goes before one requested", evictCand{cost: 0.2, res: 2}, evictCand{cost: 0.2, res: 0}, 1},
		{"of equal cost and age the larger goes first (fewer victims)", evictCand{cost: 0.2, res: 0, bytes: 2}, evictCand{cost: 0.2, res: 0, bytes: 1}, 1},
		{"equal candidates are neither cheaper", evictCand{cost: 0.2, res: 0, bytes: 1}, evictCand{cost: 0.2, res: 0, bytes: 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x, y := withLast(tt.x, residents), withLast(tt.y, residents)
			xy, yx := cheaper(&x, &y), cheaper(&y, &x)
			got := 0
			switch {
			case xy && !yx:
				got = 1
			case yx && !xy:
				got = -1
			case xy && yx:
				t.Fatalf("each cheaper than the other")
			}
			if got != tt.want {
				t.Fatalf("order %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPlansAreOrderedByCostThenNewestVictimThenExcess(t *testing.T) {
	for _, tt := range []struct {
		name string
		x, y gpuPlan
		want int
	}{
		{"of two victims expected back equally late the cheaper plan wins", gpuPlan{cost: 0.3, newest: 9, excess: 9}, gpuPlan{cost: 0.4, newest: 1, excess: 1}, -1},
		{"of equal cost the plan whose newest victim is older wins", gpuPlan{cost: 0.3, newest: 2, excess: 9}, gpuPlan{cost: 0.3, newest: 1, excess: 1}, 1},
		{"of equal cost and age the plan freeing fewer bytes beyond the need wins", gpuPlan{cost: 0.3, newest: 1, excess: 1}, gpuPlan{cost: 0.3, newest: 1, excess: 2}, -1},
		{"equal plans are equal", gpuPlan{cost: 0.3, newest: 1, excess: 1, dev: 1}, gpuPlan{cost: 0.3, newest: 1, excess: 1, dev: 0}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := comparePlans(&tt.x, &tt.y); got != tt.want {
				t.Fatalf("comparePlans = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPickVictims(t *testing.T) {
	old, mid := evictNow.Add(-30*time.Minute), evictNow.Add(-10*time.Minute)
	residents := []Resident{
		{Model: "a", LastRequest: old},
		{Model: "b", LastRequest: mid},
		{Model: "c"},
	}
	for _, tt := range []struct {
		name       string
		cands      []evictCand
		need       int64
		byRecency  bool
		want       []int32 // chosen residents
		wantCost   float64
		wantNewest int64
		wantExcess int64
	}{
		{
			name:  "a victim that exactly covers the need is enough",
			cands: []evictCand{{cost: 0.1, bytes: 10, res: 0}, {cost: 0.2, bytes: 10, res: 1}},
			need:  10, want: []int32{0}, wantCost: 0.1, wantNewest: old.UnixNano(),
		},
		{
			name:  "a cheap victim the next one makes unneeded is dropped, even when the rest then frees exactly the need",
			cands: []evictCand{{cost: 0.1, bytes: 5, res: 0}, {cost: 0.2, bytes: 10, res: 1}},
			need:  10, want: []int32{1}, wantCost: 0.2, wantNewest: mid.UnixNano(),
		},
		{
			name:  "a cheap victim still needed with the next is kept, and the bytes beyond the need are counted",
			cands: []evictCand{{cost: 0.1, bytes: 5, res: 0}, {cost: 0.2, bytes: 10, res: 1}},
			need:  12, want: []int32{0, 1}, wantCost: 0.1 + 0.2, wantNewest: mid.UnixNano(), wantExcess: 3,
		},
		{
			name:  "the newest victim ignores a model never requested",
			cands: []evictCand{{cost: 0.1, bytes: 5, res: 2}, {cost: 0.2, bytes: 5, res: 0}},
			need:  10, want: []int32{2, 0}, wantCost: 0.1 + 0.2, wantNewest: old.UnixNano(),
		},
		{
			name:  "by recency the chosen victims' cost is computed from their idle time",
			cands: []evictCand{{cost: -2, bytes: 5, res: 0}, {cost: -1, bytes: 5, res: 1}},
			need:  5, byRecency: true, want: []int32{0},
			wantCost: ColdStartCost(30*time.Minute, RecencyConfidence), wantNewest: old.UnixNano(),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cands := slices.Clone(tt.cands)
			for k := range cands {
				cands[k] = withLast(cands[k], residents)
			}
			p := pickVictims(cands, tt.need, evictNow, tt.byRecency)
			var got []int32
			var freed int64
			for _, c := range cands {
				if c.chosen {
					got = append(got, c.res)
					freed += c.bytes
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("victims %v, want %v", got, tt.want)
			}
			if math.Abs(p.cost-tt.wantCost) > 1e-12 || p.newest != tt.wantNewest || p.excess != tt.wantExcess {
				t.Fatalf("plan cost %v newest %d excess %d, want %v %d %d", p.cost, p.newest, p.excess, tt.wantCost, tt.wantNewest, tt.wantExcess)
			}
			if freed-tt.need != p.excess {
				t.Fatalf("excess %d, but victims free %d for a need of %d", p.excess, freed, tt.need)
			}
		})
	}
}

// TestTopCandidatesAreTheCheapestInOrder holds the one-pass top-N against sorting every candidate:
// the same first topN, in the same order (ties in residents' order), and the same eligible bytes,
// with one short list reused round after round as the planner reuses it from GPU to GPU.
func TestTopCandidatesAreTheCheapestInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 17))
	var top topCands
	for round := range 400 {
		a, residents, minutes := randomResidents(r)
		for _, est := range []NextUseEstimator{minutesEstimate(minutes), nil} {
			eligible := a.topLocked(&top, residents, "GPU-x", evictNow, est, math.MaxInt64)
			all, allEligible := a.gatherLocked(residents, "GPU-x", evictNow, est, nil)
			sortCheapestFirst(all)
			want := all[:min(len(all), topN)]
			if !slices.Equal(top.c[:top.n], want) || eligible != allEligible {
				t.Fatalf("round %d (estimator %v): top %v eligible %d, want %v eligible %d", round, est != nil, top.c[:top.n], eligible, want, allEligible)
			}
			var sum int64
			for _, c := range want {
				sum += c.bytes
			}
			if top.bytes() != sum {
				t.Fatalf("round %d: top bytes %d, want %d", round, top.bytes(), sum)
			}
			for _, c := range all {
				rs := residents[c.res]
				if rs.State != ResidentLoaded || rs.Pinned || rs.InFlight > 0 || rs.ReservedBytes > 0 || rs.MemoryBytes <= 0 {
					t.Fatalf("round %d: %+v is a candidate", round, rs)
				}
				if _, ok := a.claimed[victimKey{rs.Model, "gw", "GPU-x"}]; ok {
					t.Fatalf("round %d: claimed %s is a candidate", round, rs.Model)
				}
			}
		}
	}
}

// randomResidents is an allocator and the residents of its GPU "GPU-x" (up to 3 x topN, each
// eligible or not for every reason, some claimed, with few distinct last requests and sizes so
// that ties are common), with minutes for minutesEstimate.
func randomResidents(r *rand.Rand) (*Allocator, []Resident, map[string]int) {
	a := NewAllocator(nil, AllocatorConfig{})
	n := r.IntN(3 * topN)
	residents := make([]Resident, n)
	minutes := map[string]int{}
	for k := range residents {
		m := fmt.Sprintf("m%d", k)
		residents[k] = Resident{Model: m, Gateway: "gw", MemoryBytes: int64(r.IntN(4)), State: ResidentState(r.IntN(4) / 3),
			Pinned: r.IntN(10) == 0, InFlight: int64(r.IntN(10) / 9)}
		if r.IntN(10) == 0 {
			residents[k].ReservedBytes = 1
		}
		if r.IntN(4) != 0 {
			residents[k].LastRequest = evictNow.Add(-time.Duration(r.IntN(3)) * time.Minute)
		}
		minutes[m] = r.IntN(3)
		if r.IntN(8) == 0 {
			a.claimed[victimKey{m, "gw", "GPU-x"}] = "res-1"
		}
	}
	return a, residents, minutes
}

// TestRecencyShortListStopsWhereTheCheapestCoverTheNeed: with the recency default the short list
// keeps the cheapest candidates up to the first that brings their bytes to the need (at most
// topN), and a plan made from it takes the same victims, at the same cost, as one made from every
// candidate.
func TestRecencyShortListStopsWhereTheCheapestCoverTheNeed(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 19))
	var top topCands
	for round := range 2000 {
		a, residents, _ := randomResidents(r)
		all, eligible := a.gatherLocked(residents, "GPU-x", evictNow, nil, nil)
		need := 1 + r.Int64N(eligible+2)
		if r.IntN(10) == 0 {
			need = math.MaxInt64
		}
		if got := a.topLocked(&top, residents, "GPU-x", evictNow, nil, need); got != eligible {
			t.Fatalf("round %d: eligible %d, want %d", round, got, eligible)
		}
		sortCheapestFirst(all)
		want := all[:min(len(all), topN)]
		var sum int64
		for k, c := range want {
			if sum += c.bytes; sum >= need {
				want = want[:k+1]
				break
			}
		}
		if !slices.Equal(top.c[:top.n], want) {
			t.Fatalf("round %d (need %d): top %v, want %v", round, need, top.c[:top.n], want)
		}
		if sum < need || eligible < need {
			continue // the planner gathers every candidate then, or has no plan
		}
		fromTop := slices.Clone(top.c[:top.n])
		pTop := pickVictims(fromTop, need, evictNow, true)
		fromAll, _ := a.gatherLocked(residents, "GPU-x", evictNow, nil, nil)
		pAll := pickVictims(fromAll, need, evictNow, true)
		var victimsTop, victimsAll []int32
		for _, c := range fromTop {
			if c.chosen {
				victimsTop = append(victimsTop, c.res)
			}
		}
		for _, c := range fromAll {
			if c.chosen {
				victimsAll = append(victimsAll, c.res)
			}
		}
		slices.Sort(victimsTop)
		if !slices.Equal(victimsTop, victimsAll) || pTop.cost != pAll.cost || pTop.newest != pAll.newest || pTop.excess != pAll.excess {
			t.Fatalf("round %d (need %d): from the short list victims %v plan %+v; from every candidate %v %+v",
				round, need, victimsTop, pTop, victimsAll, pAll)
		}
	}
}

// minutesEstimate expects each model back in its minutes from evictNow, with confidence 0.9.
type minutesEstimate map[string]int

func (m minutesEstimate) NextUse(model, _ string) (time.Time, float64) {
	return evictNow.Add(time.Duration(m[model]) * time.Minute), 0.9
}

// TestNoCreditLingersAfterItsClaimsEnd: once every claimed victim on a GPU has gone, the GPU has
// no credit entry left (the fit check reads credit only while some GPU has any).
func TestNoCreditLingersAfterItsClaimsEnd(t *testing.T) {
	a := NewAllocator(nil, AllocatorConfig{})
	v1 := Eviction{Model: "a", Gateway: "gw", UUID: "GPU-x", MemoryBytes: 10}
	v2 := Eviction{Model: "b", Gateway: "gw", UUID: "GPU-x", MemoryBytes: 5}
	a.claimLocked(v1, "r1")
	a.claimLocked(v2, "r1")
	a.unclaimLocked(v1, "r2")
	if a.credit["GPU-x"] != 15 {
		t.Fatalf("another reservation's unclaim changed the credit to %d", a.credit["GPU-x"])
	}
	a.unclaimLocked(v1, "r1")
	if a.credit["GPU-x"] != 5 {
		t.Fatalf("credit %d after one victim left, want 5", a.credit["GPU-x"])
	}
	a.unclaimLocked(v2, "r1")
	if len(a.credit) != 0 || len(a.claimed) != 0 {
		t.Fatalf("credit %v, claims %v after every victim left; want none", a.credit, a.claimed)
	}
}

// TestNoReservedEntryLingersAfterItsReservationsEnd: a GPU's reserved bytes drop to no entry once
// its reservations end, and part of them stays while one is left.
func TestNoReservedEntryLingersAfterItsReservationsEnd(t *testing.T) {
	a := NewAllocator(nil, AllocatorConfig{})
	d := &Device{UUID: "GPU-x"}
	r1 := a.reserveLocked(d, &Request{Model: "a", RequiredBytes: 10}, evictNow, time.Minute)
	r2 := a.reserveLocked(d, &Request{Model: "b", RequiredBytes: 5}, evictNow, time.Minute)
	a.removeLocked(r1, false)
	if a.reserved["GPU-x"] != 5 {
		t.Fatalf("reserved %d after one of two ended, want 5", a.reserved["GPU-x"])
	}
	a.removeLocked(r2, false)
	if len(a.reserved) != 0 {
		t.Fatalf("reserved %v after every reservation ended, want none", a.reserved)
	}
}

// withLast is c with its last request taken from the resident it names, as the planner fills it.
func withLast(c evictCand, residents []Resident) evictCand {
	c.last = lastNanos(residents[c.res].LastRequest)
	return c
}

// sortCheapestFirst sorts candidates the slow way, as the short lists keep them: cheapest first,
// ties in residents' order.
func sortCheapestFirst(all []evictCand) {
	slices.SortStableFunc(all, func(x, y evictCand) int {
		switch {
		case cheaper(&x, &y):
			return -1
		case cheaper(&y, &x):
			return 1
		}
		return cmp.Compare(x.res, y.res)
	})
}
