package gpu

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxGPUCount is the most GPUs one model may be split over: more than any host has.
const MaxGPUCount = 64

// PlacedGPU is one GPU of a placement over several GPUs.
type PlacedGPU struct {
	Device Device
	// AvailableBytes is the device's free memory minus earlier reservations on it.
	AvailableBytes int64
	// FreeAfterBytes is AvailableBytes minus the bytes the model puts on this GPU (plus what the
	// evictions free on it).
	FreeAfterBytes int64
}

// ReservedGPU is the bytes a reservation holds on one GPU.
type ReservedGPU struct {
	UUID  string
	Index int
	Bytes int64
}

// PerGPUBytes is what each of count GPUs holds of a model that needs required bytes: required /
// count rounded up, so that the GPUs together hold all of it. count <= 1 is one GPU.
func PerGPUBytes(required int64, count int) int64 {
	if count <= 1 {
		return required
	}
	n := int64(count)
	return required/n + min(required%n, 1)
}

// All returns every chosen GPU: GPUs, or the one Device.
func (p Placement) All() []PlacedGPU {
	if len(p.GPUs) > 0 {
		return p.GPUs
	}
	return []PlacedGPU{{Device: p.Device, AvailableBytes: p.AvailableBytes, FreeAfterBytes: p.FreeAfterBytes}}
}

// extendedReason is Reason for a placement over several GPUs or with evictions.
func (p Placement) extendedReason() string {
	var b strings.Builder
	all := p.All()
	if len(all) > 1 {
		fmt.Fprintf(&b, "%d GPUs (", len(all))
		for i, g := range all {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d %s with %s available", g.Device.Index, g.Device.UUID, FormatBytes(g.AvailableBytes))
		}
		fmt.Fprintf(&b, ") chosen by %s among %d GPU(s) that fit: %s each (%s in all) + %s headroom",
			p.Strategy, p.Fitting, FormatBytes(p.PerGPUBytes), FormatBytes(p.RequiredBytes), FormatBytes(p.HeadroomBytes))
	} else {
		fmt.Fprintf(&b, "GPU %d (%s, %s): %s available, %s required + %s headroom",
			p.Device.Index, p.Device.Name, p.Device.UUID, FormatBytes(p.AvailableBytes), FormatBytes(p.RequiredBytes), FormatBytes(p.HeadroomBytes))
	}
	if len(p.Evictions) > 0 {
		var freed int64
		for _, e := range p.Evictions {
			freed += e.MemoryBytes
		}
		fmt.Fprintf(&b, "; fits after unloading %d model(s) that free %s (their reported memory_bytes), %s left: %s expected cold starts, the cheapest of the plans on %d GPU(s)",
			len(p.Evictions), FormatBytes(freed), FormatBytes(p.FreeAfterBytes), strconv.FormatFloat(p.EvictionCost, 'f', 2, 64), p.Fitting)
	}
	return b.String()
}

// chooseManyLocked places req on req.GPUCount GPUs: the best-scored GPUs by strategy among
// those with PerGPUBytes + headroom available, ties to the lowest index. With Reserve, one
// reservation holds the bytes on all of them.
func (a *Allocator) chooseManyLocked(snap Snapshot, req *Request, strategy Strategy, now time.Time) (Placement, error) {
	per := PerGPUBytes(req.RequiredBytes, req.GPUCount)
	one := *req
	one.RequiredBytes = per
	type cand struct {
		i         int
		score     int64
		available int64
	}
	var cands []cand
	for i := range snap.Devices {
		d := &snap.Devices[i]
		if v, available := a.assessLocked(d, &one); v == fits {
			cands = append(cands, cand{i, strategy.Score(Candidate{Device: d, AvailableBytes: available, FreeAfterBytes: available - per}), available})
		}
	}
	if len(cands) < req.GPUCount {
		if req.AllowEviction {
			return a.evictLocked(snap, req, now)
		}
		return Placement{}, a.noFitManyLocked(snap, req, len(cands))
	}
	slices.SortStableFunc(cands, func(x, y cand) int { return cmp.Compare(y.score, x.score) })
	chosen := cands[:req.GPUCount]
	p := Placement{
		RequiredBytes: req.RequiredBytes,
		HeadroomBytes: a.headroom,
		Fitting:       len(cands),
		Strategy:      strategy.Name(),
		PerGPUBytes:   per,
		GPUs:          make([]PlacedGPU, len(chosen)),
	}
	for k, c := range chosen {
		p.GPUs[k] = PlacedGPU{Device: snap.Devices[c.i], AvailableBytes: c.available, FreeAfterBytes: c.available - per}
	}
	p.Device, p.AvailableBytes, p.FreeAfterBytes = p.GPUs[0].Device, p.GPUs[0].AvailableBytes, p.GPUs[0].FreeAfterBytes
	if req.Reserve {
		r := a.reserveManyLocked(p.GPUs, per, req, now, nil)
		p.ReservationID, p.ExpiresAt = r.ID, r.ExpiresAt
	}
	return p, nil
}

// reserveManyLocked holds per bytes on each of gpus under one reservation, counting on victims.
func (a *Allocator) reserveManyLocked(gpus []PlacedGPU, per int64, req *Request, now time.Time, victims []Eviction) Reservation {
	first := &gpus[0].Device
	r := a.reserveLocked(first, &Request{Model: req.Model, Gateway: req.Gateway, RequiredBytes: per}, now, a.ttl(req))
	if len(gpus) > 1 {
		r.Parts = make([]ReservedGPU, len(gpus))
		for k, g := range gpus {
			r.Parts[k] = ReservedGPU{UUID: g.Device.UUID, Index: g.Device.Index, Bytes: per}
			if k > 0 {
				a.reserved[g.Device.UUID] += per
			}
		}
	}
	if len(victims) > 0 {
		r.Victims = victims
		for _, v := range victims {
			a.claimLocked(v, r.ID)
		}
	}
	a.reservations[r.ID] = r
	return r
}

// noFitManyLocked explains why fewer than req.GPUCount GPUs could take their share.
func (a *Allocator) noFitManyLocked(snap Snapshot, req *Request, fitting int) error {
	one := *req
	one.RequiredBytes = PerGPUBytes(req.RequiredBytes, req.GPUCount)
	err := a.noFitLocked(snap, &one)
	nofit := err.(*NoFitError)
	nofit.RequiredBytes = req.RequiredBytes
	nofit.GPUCount = req.GPUCount
	for k := range nofit.Refusals {
		if nofit.Refusals[k].Reason == "" {
			nofit.Refusals[k].Reason = fmt.Sprintf("has %s available and fits its share of %s + %s headroom, but only %d of the %d GPUs needed do",
				FormatBytes(nofit.Refusals[k].AvailableBytes), FormatBytes(one.RequiredBytes), FormatBytes(a.headroom), fitting, req.GPUCount)
		}
	}
	return nofit
}

// GPUNeed is how many GPUs of the inventory's size a model needs: see Allocator.GPUsNeeded.
type GPUNeed struct {
	// Count is 0 when no GPU can be counted on (none, or all in MIG mode); Reason says so.
	Count int
	// GPUTotalBytes is the size counted: the largest GPU not in MIG mode.
	GPUTotalBytes int64
	// PerGPUBytes is required / Count, rounded up; HeadroomBytes is kept free beside it.
	PerGPUBytes, HeadroomBytes int64
	Reason                     string
}

// GPUsNeeded says how many GPUs the size of the inventory's largest (not in MIG mode) a model of
// required bytes needs when split evenly, each keeping the headroom free: the least n with
// required/n (rounded up) + headroom <= the GPU's total memory. It reads the latest snapshot's
// sizes, not what is free now.
func (a *Allocator) GPUsNeeded(required int64) GPUNeed {
	snap := a.inv.Snapshot()
	need := GPUNeed{HeadroomBytes: a.headroom}
	for _, d := range snap.Devices {
		if !d.MIGEnabled {
			need.GPUTotalBytes = max(need.GPUTotalBytes, d.TotalBytes)
		}
	}
	room := need.GPUTotalBytes - a.headroom
	switch {
	case need.GPUTotalBytes == 0:
		need.Reason = fmt.Sprintf("the %s inventory has no GPU a model can be placed on", snap.Backend)
		return need
	case required <= 0:
		need.Reason = "the memory estimate is 0 bytes"
		return need
	case room <= 0:
		need.Reason = fmt.Sprintf("the headroom of %s leaves nothing of a %s GPU", FormatBytes(a.headroom), FormatBytes(need.GPUTotalBytes))
		return need
	}
	n := required/room + min(required%room, 1)
	if n > MaxGPUCount {
		need.Reason = fmt.Sprintf("%s needs %d GPUs of %s, more than the %d a model may be split over", FormatBytes(required), n, FormatBytes(need.GPUTotalBytes), MaxGPUCount)
		return need
	}
	need.Count = int(n)
	need.PerGPUBytes = PerGPUBytes(required, need.Count)
	need.Reason = fmt.Sprintf("%s needs %d GPU(s) of %s (this host's largest): %s each + %s headroom",
		FormatBytes(required), need.Count, FormatBytes(need.GPUTotalBytes), FormatBytes(need.PerGPUBytes), FormatBytes(a.headroom))
	return need
}
