package gpu

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/modelium/brain/internal/validate"
)

// HeuristicFFD names the packing heuristic of PlanFFD in a plan.
const HeuristicFFD = "first_fit_decreasing"

// PlanModel is a model to pack.
type PlanModel struct {
	Name          string
	RequiredBytes int64
	// GPUCount is how many GPUs it is split over; 0 means 1.
	GPUCount int
}

// Bin is a GPU a plan packs into, with the bytes it offers.
type Bin struct {
	UUID          string
	Index         int
	CapacityBytes int64
}

// Assignment places one model.
type Assignment struct {
	Model       string
	UUIDs       []string
	PerGPUBytes int64
}

// Unplaced is a model a plan could not place, and why.
type Unplaced struct {
	Model, Reason string
}

// Plan is a packing of models onto bins.
type Plan struct {
	// Assignments are in the order of the request's models.
	Assignments []Assignment
	Unplaced    []Unplaced
	// GPUsUsed counts the bins holding at least one model.
	GPUsUsed int
	// LowerBoundGPUs is the total bytes asked for over the largest bin's capacity, rounded up: no
	// plan uses fewer bins.
	LowerBoundGPUs int
	Heuristic      string
}

// Reason says in one sentence what the plan achieved.
func (p Plan) Reason() string {
	return fmt.Sprintf("%s placed %d model(s) on %d GPU(s) (no plan needs fewer than %d); %d unplaced",
		p.Heuristic, len(p.Assignments), p.GPUsUsed, p.LowerBoundGPUs, len(p.Unplaced))
}

// PlanFFD packs models into bins by First-Fit Decreasing: models in decreasing order of the bytes
// they put on one GPU (ties: request order), each into the first bins, by index, with room.
//
// Why FFD: the models are all known at once (an offline problem), and FFD is the simplest
// heuristic with a tight proven worst case, FFD(I) <= 11/9 OPT(I) + 6/9 bins (Dósa, 2007), where
// first-fit in arrival order only guarantees 1.7 OPT (Dósa and Sgall, 2013); it runs in
// O(n log n + n·m) for n models over m GPUs, and each choice is explainable ("the first GPU
// with room"). The bound is for equal bins and one GPU a model; a model split over k GPUs takes
// the first k bins with room for its share, and bins of unequal capacity keep the heuristic
// but not the proof.
func PlanFFD(models []PlanModel, bins []Bin) Plan {
	order := make([]int, len(models))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		return cmp.Compare(PerGPUBytes(models[y].RequiredBytes, models[y].GPUCount), PerGPUBytes(models[x].RequiredBytes, models[x].GPUCount))
	})
	p := packInOrder(models, bins, order)
	p.Heuristic = HeuristicFFD
	return p
}

// PlanFirstFit packs models in request (arrival) order, each into the first bins with room: the
// online baseline PlanFFD is measured against.
func PlanFirstFit(models []PlanModel, bins []Bin) Plan {
	order := make([]int, len(models))
	for i := range order {
		order[i] = i
	}
	p := packInOrder(models, bins, order)
	p.Heuristic = "first_fit"
	return p
}

// packInOrder places models[order[k]] one by one into the first bins with room.
func packInOrder(models []PlanModel, bins []Bin, order []int) Plan {
	left := make([]int64, len(bins))
	used := make([]bool, len(bins))
	var largest, total int64
	for i, b := range bins {
		left[i] = max(b.CapacityBytes, 0)
		largest = max(largest, left[i])
	}
	placed := make([]*Assignment, len(models))
	var p Plan
	var pick []int
	for _, m := range order {
		mod := &models[m]
		count := max(mod.GPUCount, 1)
		per := PerGPUBytes(mod.RequiredBytes, count)
		if total += mod.RequiredBytes; total < 0 {
			total = 1<<63 - 1
		}
		pick = pick[:0]
		for i := range bins {
			if left[i] >= per {
				pick = append(pick, i)
				if len(pick) == count {
					break
				}
			}
		}
		if len(pick) < count {
			p.Unplaced = append(p.Unplaced, Unplaced{Model: mod.Name, Reason: unplacedReason(per, count, len(pick), largest, len(bins))})
			continue
		}
		a := &Assignment{Model: mod.Name, UUIDs: make([]string, count), PerGPUBytes: per}
		for k, i := range pick {
			left[i] -= per
			used[i] = true
			a.UUIDs[k] = bins[i].UUID
		}
		placed[m] = a
	}
	for _, a := range placed {
		if a != nil {
			p.Assignments = append(p.Assignments, *a)
		}
	}
	for _, u := range used {
		if u {
			p.GPUsUsed++
		}
	}
	if largest > 0 {
		p.LowerBoundGPUs = int(total/largest + min(total%largest, 1))
	}
	return p
}

func unplacedReason(per int64, count, found int, largest int64, bins int) string {
	switch {
	case bins == 0:
		return "there are no GPUs to place it on"
	case per > largest:
		return fmt.Sprintf("needs %s on each of %d GPU(s), more than the largest GPU offers (%s)", FormatBytes(per), count, FormatBytes(largest))
	}
	return fmt.Sprintf("needs %s on each of %d GPU(s); only %d GPU(s) had that much left after the larger models", FormatBytes(per), count, found)
}

// MaxPlanModels bounds the models of one plan.
const MaxPlanModels = 10_000

// CheckPlan is the one check of what a plan's models mean: between 1 and MaxPlanModels, each
// with a name, a positive byte count and a GPU count from 0 (one) to MaxGPUCount. Its field
// violations use the PlanPlacement request's paths (models[3].required_bytes).
func CheckPlan(models []PlanModel) error {
	var v validate.Violations
	if n := len(models); n == 0 || n > MaxPlanModels {
		v.Add("models", "has %d entries; between 1 and %d are allowed", n, MaxPlanModels)
		return v.Err()
	}
	for i, m := range models {
		v.Name(fmt.Sprintf("models[%d].model_name", i), m.Name, true)
		if m.RequiredBytes <= 0 {
			v.Add(fmt.Sprintf("models[%d].required_bytes", i), "is %d; must be a positive number of bytes", m.RequiredBytes)
		}
		if m.GPUCount < 0 || m.GPUCount > MaxGPUCount {
			v.Add(fmt.Sprintf("models[%d].gpu_count", i), "is %d; must be between 0 (one GPU) and %d", m.GPUCount, MaxGPUCount)
		}
	}
	return v.Err()
}

// PlanPlacement packs models onto the inventory's GPUs by PlanFFD. With moving, each GPU offers
// its total memory minus headroom, as if what is loaded now may go elsewhere; without, what is
// available now (free minus reservations) minus headroom. GPUs in MIG mode are left out.
func (a *Allocator) PlanPlacement(models []PlanModel, moving bool, now time.Time) (Plan, error) {
	if err := CheckPlan(models); err != nil {
		return Plan{}, err
	}
	st := a.Status(now)
	if st.Usable != nil {
		return Plan{}, st.Usable
	}
	bins := make([]Bin, 0, len(st.Devices))
	for _, d := range st.Devices {
		if d.MIGEnabled {
			continue
		}
		offer := d.AvailableBytes
		if moving {
			offer = d.TotalBytes
		}
		bins = append(bins, Bin{UUID: d.UUID, Index: d.Index, CapacityBytes: max(offer-a.headroom, 0)})
	}
	return PlanFFD(models, bins), nil
}
