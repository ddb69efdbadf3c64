package gpu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/modelium/brain/internal/validate"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultReservationTTL is how long a reservation lasts when neither the request nor the
// configuration says: long enough to load a large model from a slow disk.
const DefaultReservationTTL = 5 * time.Minute

var (
	// ErrNoFit says no GPU can take the model; errors.As a *NoFitError for the reasons.
	ErrNoFit = errors.New("no GPU fits")
	// ErrInvalidRequest says a Request breaks a rule (for example RequiredBytes <= 0); the error
	// is a *validate.Error naming each field.
	ErrInvalidRequest = validate.ErrInvalid
)

// AllocatorConfig tunes an Allocator; zero fields take defaults.
type AllocatorConfig struct {
	// HeadroomBytes must stay free on a GPU beyond the model's bytes (gpu.headroom_bytes).
	HeadroomBytes int64
	// Strategy applies when a request names none; default MostFree.
	Strategy Strategy
	// ReservationTTL applies when a request gives none; default DefaultReservationTTL.
	ReservationTTL time.Duration
	// Clock gives the time when a request carries none; default time.Now.
	Clock func() time.Time
}

// Request asks for a GPU for one model.
type Request struct {
	// Model is the model's name; required when Reserve is set.
	Model string
	// Gateway is the gateway that will load the model, recorded with the reservation.
	Gateway string
	// RequiredBytes is what the model needs on the GPU; > 0.
	RequiredBytes int64
	// Strategy ranks the GPUs; nil uses the configured one.
	Strategy Strategy
	// Exclude lists UUIDs of GPUs that must not be chosen.
	Exclude []string
	// Reserve holds RequiredBytes on the chosen GPU until Release, ReleaseModel or TTL.
	Reserve bool
	// TTL is how long the reservation lasts; 0 uses the configured TTL.
	TTL time.Duration
	// Now is the decision time; zero uses the Allocator's clock.
	Now time.Time
	// GPUCount is how many GPUs the model is split over (tensor parallelism); 0 means 1. Each
	// chosen GPU needs PerGPUBytes(RequiredBytes, GPUCount) plus headroom available (multigpu.go).
	GPUCount int
	// AllowEviction asks, when nothing fits as things stand, for a GPU and the loaded models to
	// unload from it first, chosen among Residents (evict.go).
	AllowEviction bool
	// Residents are the models loaded or loading on each GPU (by UUID), as the gateways reported
	// them; read only with AllowEviction.
	Residents map[string][]Resident
	// NextUse estimates when each resident is wanted next; nil uses LastRequestEstimator.
	NextUse NextUseEstimator
}

// Placement is the chosen GPU.
type Placement struct {
	// Device is the GPU as the snapshot read it, before this placement.
	Device Device
	// RequiredBytes and HeadroomBytes are what the fit check asked for.
	RequiredBytes, HeadroomBytes int64
	// AvailableBytes is the device's free memory minus earlier reservations on it.
	AvailableBytes int64
	// FreeAfterBytes is AvailableBytes - RequiredBytes (plus what Evictions free on this GPU).
	FreeAfterBytes int64
	// Fitting counts the GPUs the model fitted on, this one included.
	Fitting int
	// Strategy names the strategy that chose.
	Strategy string
	// ReservationID is set when the request reserved; ExpiresAt is when that reservation lapses.
	ReservationID string
	ExpiresAt     time.Time
	// GPUs lists every chosen GPU when the request asked for more than one (GPUs[0] is Device);
	// nil for one GPU. PerGPUBytes is what each holds. See All.
	GPUs        []PlacedGPU
	PerGPUBytes int64
	// Evictions are the loaded models to unload first, when the request allowed eviction and
	// nothing fitted without; cheapest first.
	Evictions []Eviction
	// EvictionCost is the plan's expected cold starts (see Eviction.ColdStartCost).
	EvictionCost float64
}

// Reason says in one sentence, with numbers, why this GPU was chosen.
func (p Placement) Reason() string {
	if len(p.GPUs) > 0 || len(p.Evictions) > 0 {
		return p.extendedReason()
	}
	return fmt.Sprintf("GPU %d (%s, %s) chosen by %s among %d GPU(s) that fit: %s available, %s required + %s headroom, %s left after placement",
		p.Device.Index, p.Device.Name, p.Device.UUID, p.Strategy, p.Fitting,
		FormatBytes(p.AvailableBytes), FormatBytes(p.RequiredBytes), FormatBytes(p.HeadroomBytes), FormatBytes(p.FreeAfterBytes))
}

// Refusal says why one GPU could not take the model.
type Refusal struct {
	Index  int
	UUID   string
	Reason string
	// AvailableBytes is the device's free memory minus reservations on it.
	AvailableBytes int64
}

// NoFitError lists every GPU of the inventory and why it was refused; empty Refusals means the
// inventory has no GPUs. errors.Is(err, ErrNoFit) holds.
type NoFitError struct {
	// RequiredBytes is what was asked for; HeadroomBytes was asked for on top of it.
	RequiredBytes, HeadroomBytes int64
	Backend                      string
	Refusals                     []Refusal
	// GPUCount is how many GPUs the model was to be split over (0 or 1: one); each needed
	// PerGPUBytes(RequiredBytes, GPUCount) + HeadroomBytes.
	GPUCount int
	// Eviction is set when the request allowed eviction: the refusals then say what blocked an
	// eviction plan on each GPU.
	Eviction bool
}

func (e *NoFitError) Error() string {
	need := FormatBytes(e.RequiredBytes) + " + " + FormatBytes(e.HeadroomBytes) + " headroom"
	if e.GPUCount > 1 {
		need = fmt.Sprintf("%s over %d GPUs (%s + %s headroom each)", FormatBytes(e.RequiredBytes), e.GPUCount,
			FormatBytes(PerGPUBytes(e.RequiredBytes, e.GPUCount)), FormatBytes(e.HeadroomBytes))
	}
	if e.Eviction {
		need += ", even after evictions"
	}
	if len(e.Refusals) == 0 {
		return fmt.Sprintf("no GPU fits %s: the %s inventory has no GPUs", need, e.Backend)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no GPU fits %s:", need)
	for i, r := range e.Refusals {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " GPU %d %s", r.Index, r.Reason)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoFit) hold.
func (e *NoFitError) Is(target error) bool { return target == ErrNoFit }

// Reservation holds bytes on one GPU for a model being loaded.
type Reservation struct {
	ID             string
	Model, Gateway string
	// UUID, Index and Bytes are the (first) GPU's and what is held on it.
	UUID      string
	Index     int
	Bytes     int64
	CreatedAt time.Time
	ExpiresAt time.Time
	// Parts are every GPU the reservation holds bytes on, when it holds more than one (a model
	// over several GPUs); nil otherwise.
	Parts []ReservedGPU
	// Victims are the loaded models whose unload the reservation counts on (an eviction plan):
	// no other placement may count their bytes while it lasts.
	Victims []Eviction
}

// DeviceStatus is a device with the brain's reservations on it.
type DeviceStatus struct {
	Device
	// ReservedBytes is held by reservations not yet visible in FreeBytes.
	ReservedBytes int64
	// AvailableBytes is FreeBytes - ReservedBytes, plus the bytes of eviction victims that
	// reservations count on and that are not unloaded yet; never below 0.
	AvailableBytes int64
}

// Status is the inventory as placement sees it, for ListGPUs and health.
type Status struct {
	// Snapshot is the reading the devices come from (backend, age, staleness, error).
	Snapshot Snapshot
	// Devices in index order, with reservations.
	Devices []DeviceStatus
	// Usable is nil when placement may use the snapshot, else an error wrapping ErrUnavailable.
	Usable error
}

// Allocator chooses GPUs from an Inventory's snapshots and keeps reservations: memory promised
// to a model being loaded, which NVML does not show as used yet. Safe for concurrent use.
//
// A reservation ends when the gateway reports the model LOADED or FAILED (ReleaseModel), when it
// is released by id, or when its TTL passes. Releasing on LOADED is correct because a loaded
// model's memory shows in NVML's device-wide free memory from then on; between the model's first
// allocation and that report its memory is counted twice, which errs on the safe side.
type Allocator struct {
	inv        Inventory
	headroom   int64
	strategy   Strategy
	defaultTTL time.Duration
	clock      func() time.Time
	idPrefix   string

	// mu makes a choice and its reservation one step: two concurrent placements never count the
	// same free memory.
	mu           sync.Mutex
	seq          uint64
	reservations map[string]Reservation
	reserved     map[string]int64 // by GPU UUID
	nextExpiry   time.Time        // earliest ExpiresAt; zero when there are no reservations
	// credit is, by GPU UUID, the bytes of victims that reservations count on and that are not
	// unloaded yet: memory NVML still shows as used but that is promised free (evict.go).
	credit map[string]int64
	// claimed maps a victim (model and gateway) to the reservation that counts on its bytes.
	claimed map[victimKey]string
	// scratch is the eviction planner's reusable memory; guarded by mu.
	scratch evictScratch
	// ended holds the reservations with victims that ended since TakeEnded last ran.
	ended []EndedReservation
}

// NewAllocator returns an Allocator over inv.
func NewAllocator(inv Inventory, cfg AllocatorConfig) *Allocator {
	a := &Allocator{
		inv:          inv,
		headroom:     max(cfg.HeadroomBytes, 0),
		strategy:     cfg.Strategy,
		defaultTTL:   cfg.ReservationTTL,
		clock:        cfg.Clock,
		idPrefix:     newIDPrefix(),
		reservations: make(map[string]Reservation),
		reserved:     make(map[string]int64),
		credit:       make(map[string]int64),
		claimed:      make(map[victimKey]string),
	}
	if a.strategy == nil {
		a.strategy = DefaultStrategy
	}
	if a.defaultTTL <= 0 {
		a.defaultTTL = DefaultReservationTTL
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	return a
}

// newIDPrefix makes reservation ids differ across brain restarts, so that a gateway releasing an
// id from a previous run never hits a new reservation.
func newIDPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "res-" + hex.EncodeToString(b[:]) + "-"
}

// verdict is the fit check's outcome for one GPU.
type verdict int

const (
	fits verdict = iota
	excluded
	migEnabled
	tooSmall
)

func (a *Allocator) assessLocked(d *Device, req *Request) (verdict, int64) {
	available := d.FreeBytes - a.reserved[d.UUID]
	if len(a.credit) > 0 {
		available += a.credit[d.UUID]
	}
	switch {
	case slices.Contains(req.Exclude, d.UUID):
		return excluded, available
	case d.MIGEnabled:
		return migEnabled, available
	case available < req.RequiredBytes || available-req.RequiredBytes < a.headroom:
		// Not available-headroom < required: available may be negative (a bogus free-memory
		// reading), and minus a huge headroom it would wrap around to "fits". Once
		// available >= required > 0, available-required cannot wrap.
		return tooSmall, available
	}
	return fits, available
}

// Choose picks a GPU for req and, when req.Reserve is set, reserves the bytes on it in the same
// step. Errors: ErrInvalidRequest, ErrUnavailable (the snapshot is too old), *NoFitError.
func (a *Allocator) Choose(req Request) (Placement, error) {
	if err := check(&req); err != nil {
		return Placement{}, err
	}
	now := req.Now
	if now.IsZero() {
		now = a.clock()
	}
	strategy := req.Strategy
	if strategy == nil {
		strategy = a.strategy
	}
	snap := a.inv.Snapshot()
	if err := snap.Usable(now); err != nil {
		return Placement{}, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	if req.GPUCount > 1 {
		return a.chooseManyLocked(snap, &req, strategy, now)
	}
	best, fitting := -1, 0
	var bestScore, bestAvailable int64
	for i := range snap.Devices {
		d := &snap.Devices[i]
		v, available := a.assessLocked(d, &req)
		if v != fits {
			continue
		}
		fitting++
		score := strategy.Score(Candidate{Device: d, AvailableBytes: available, FreeAfterBytes: available - req.RequiredBytes})
		if best < 0 || score > bestScore {
			best, bestScore, bestAvailable = i, score, available
		}
	}
	if best < 0 {
		if req.AllowEviction {
			return a.evictLocked(snap, &req, now)
		}
		return Placement{}, a.noFitLocked(snap, &req)
	}
	p := Placement{
		Device:         snap.Devices[best],
		RequiredBytes:  req.RequiredBytes,
		HeadroomBytes:  a.headroom,
		AvailableBytes: bestAvailable,
		FreeAfterBytes: bestAvailable - req.RequiredBytes,
		Fitting:        fitting,
		Strategy:       strategy.Name(),
	}
	if req.Reserve {
		r := a.reserveLocked(&p.Device, &req, now, a.ttl(&req))
		p.ReservationID, p.ExpiresAt = r.ID, r.ExpiresAt
	}
	return p, nil
}

// ttl is the reservation TTL req asks for, or the configured one.
func (a *Allocator) ttl(req *Request) time.Duration {
	if req.TTL == 0 {
		return a.defaultTTL
	}
	return req.TTL
}

// CheckRequest is the one check of what a placement request means (Choose runs it first); the
// server runs it too while it checks the wire form, so that a bad request is answered with every
// broken field at once.
func CheckRequest(req Request) error { return check(&req) }

func check(req *Request) error {
	var v validate.Violations
	if req.RequiredBytes <= 0 {
		v.Add("required_bytes", "is %d; must be a positive number of bytes", req.RequiredBytes)
	}
	if req.TTL < 0 {
		v.Add("reservation_ttl", "is %s; must not be negative (zero or unset uses the configured default)", req.TTL)
	}
	if req.Reserve && req.Model == "" {
		v.Add("model_name", "required to reserve memory")
	}
	if req.GPUCount < 0 || req.GPUCount > MaxGPUCount {
		v.Add("gpu_count", "is %d; must be between 0 (one GPU) and %d", req.GPUCount, MaxGPUCount)
	}
	return v.Err()
}

func (a *Allocator) noFitLocked(snap Snapshot, req *Request) error {
	e := &NoFitError{RequiredBytes: req.RequiredBytes, HeadroomBytes: a.headroom, Backend: snap.Backend}
	for i := range snap.Devices {
		d := &snap.Devices[i]
		v, available := a.assessLocked(d, req)
		var reason string
		switch v {
		case excluded:
			reason = "is excluded by the request"
		case migEnabled:
			reason = "has MIG enabled; placement on MIG instances is not supported"
		case tooSmall:
			reason = fmt.Sprintf("has %s available (%s free - %s reserved), needs %s + %s headroom",
				FormatBytes(available), FormatBytes(d.FreeBytes), FormatBytes(d.FreeBytes-available),
				FormatBytes(req.RequiredBytes), FormatBytes(a.headroom))
		}
		e.Refusals = append(e.Refusals, Refusal{Index: d.Index, UUID: d.UUID, Reason: reason, AvailableBytes: available})
	}
	return e
}

func (a *Allocator) reserveLocked(d *Device, req *Request, now time.Time, ttl time.Duration) Reservation {
	a.seq++
	r := Reservation{
		ID:        a.idPrefix + strconv.FormatUint(a.seq, 10),
		Model:     req.Model,
		Gateway:   req.Gateway,
		UUID:      d.UUID,
		Index:     d.Index,
		Bytes:     req.RequiredBytes,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	}
	a.reservations[r.ID] = r
	a.reserved[r.UUID] += r.Bytes
	if a.nextExpiry.IsZero() || r.ExpiresAt.Before(a.nextExpiry) {
		a.nextExpiry = r.ExpiresAt
	}
	return r
}

func (a *Allocator) removeLocked(r Reservation, lapsed bool) {
	delete(a.reservations, r.ID)
	if len(r.Victims) > 0 {
		a.ended = append(a.ended, EndedReservation{Reservation: r, Lapsed: lapsed})
	}
	if r.Parts == nil {
		a.unreserveLocked(r.UUID, r.Bytes)
	}
	for _, part := range r.Parts {
		a.unreserveLocked(part.UUID, part.Bytes)
	}
	for _, v := range r.Victims {
		a.unclaimLocked(v, r.ID)
	}
}

func (a *Allocator) unreserveLocked(uuid string, bytes int64) {
	if left := a.reserved[uuid] - bytes; left > 0 {
		a.reserved[uuid] = left
	} else {
		delete(a.reserved, uuid)
	}
}

// Release ends the reservation id; false when there is none (released or expired already).
func (a *Allocator) Release(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.reservations[id]
	if ok {
		a.removeLocked(r, false)
	}
	return ok
}

// ReleaseModel ends the reservations of model made for gateway, and those of model made without a
// gateway; the server calls it when the gateway reports the model LOADED or FAILED. It returns
// how many it ended.
func (a *Allocator) ReleaseModel(model, gateway string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.reservations {
		if r.Model == model && (r.Gateway == gateway || r.Gateway == "") {
			a.removeLocked(r, false)
			n++
		}
	}
	return n
}

// Expire ends the reservations whose TTL has passed at now and returns how many. Choose and the
// listings call it themselves; a periodic call only frees the memory sooner in the listings.
func (a *Allocator) Expire(now time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.expireLocked(now)
}

func (a *Allocator) expireLocked(now time.Time) int {
	if a.nextExpiry.IsZero() || now.Before(a.nextExpiry) {
		return 0
	}
	n := 0
	a.nextExpiry = time.Time{}
	for _, r := range a.reservations {
		if !now.Before(r.ExpiresAt) {
			a.removeLocked(r, true)
			n++
		} else if a.nextExpiry.IsZero() || r.ExpiresAt.Before(a.nextExpiry) {
			a.nextExpiry = r.ExpiresAt
		}
	}
	return n
}

// Reservations lists the live reservations at now, oldest first.
func (a *Allocator) Reservations(now time.Time) []Reservation {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	out := make([]Reservation, 0, len(a.reservations))
	for _, r := range a.reservations {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y Reservation) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		// Made at one instant: the ids share the allocator's prefix and end in the sequence
		// number, so the shorter id is the older one ("-9" before "-10"), then the text decides.
		if c := len(x.ID) - len(y.ID); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// Status returns the latest snapshot with the reservations on each device at now.
func (a *Allocator) Status(now time.Time) Status {
	snap := a.inv.Snapshot()
	st := Status{Snapshot: snap, Devices: make([]DeviceStatus, len(snap.Devices)), Usable: snap.Usable(now)}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	for i, d := range snap.Devices {
		reserved := a.reserved[d.UUID]
		st.Devices[i] = DeviceStatus{Device: d, ReservedBytes: reserved, AvailableBytes: max(d.FreeBytes-reserved+a.credit[d.UUID], 0)}
	}
	return st
}

// FormatBytes writes n in binary units with one decimal, for reasons and logs ("20.0 GiB").
func FormatBytes(n int64) string {
	var buf [32]byte
	return string(appendBytes(buf[:0], n))
}

// appendBytes appends FormatBytes(n) to b, for reasons built in one buffer.
func appendBytes(b []byte, n int64) []byte {
	const unit = 1024
	if n < unit && n > -unit {
		return append(strconv.AppendInt(b, n, 10), " B"...)
	}
	f, i := float64(n), 0
	for f >= unit*unit || f <= -unit*unit {
		f /= unit
		i++
		if i == 4 {
			break
		}
	}
	b = appendFixed(b, f/unit, 1)
	return append(append(b, ' '), [...]string{"KiB", "MiB", "GiB", "TiB", "PiB"}[i]...)
}
