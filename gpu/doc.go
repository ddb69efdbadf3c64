// Package gpu holds the brain's view of the GPUs on its host and decides where a model goes.
//
// An [Inventory] reports the devices (index, UUID, name, memory, utilisation, MIG mode) as an
// immutable [Snapshot]: the nvml backend polls NVML in the background and publishes a new snapshot
// every refresh interval, so a decision never calls into the driver; the static backend serves GPUs
// declared in the configuration; none has no GPUs. An [Allocator] chooses a GPU for a model from
// the latest snapshot with a [Strategy] (MostFree or BestFit), after subtracting the bytes it has
// reserved for placements whose memory NVML does not show yet, and can hold a reservation until the
// load is reported or its TTL passes.
//
// Under pressure it does more (DESIGN.md, "Placement under pressure, multi-GPU, packing"): a model
// split over several GPUs gets that many, each with its share (multigpu.go, which also says how
// many GPUs of the host's size a model needs); when nothing fits, an eviction plan names the loaded
// models to unload first, those expected back latest by a [NextUseEstimator] (recency by default),
// and a reservation claims their bytes so that no two placements count on the same victim
// (evict.go); [PlanFFD] packs a list of models onto the GPUs by First-Fit Decreasing (plan.go).
//
// The package does not load models, allocate GPU memory, or know about the wire format: the server
// translates requests into [Request] values and errors ([ErrNoFit], [ErrUnavailable],
// [ErrInvalidRequest]) into status codes.
package gpu
