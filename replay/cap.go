package replay

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/predict"
)

// Cap bounds the GPU memory the simulated gateway loads models into: a static inventory
// (gpu.StaticDevice, as the configuration's gpu.devices declares it) that every load is placed on
// by the brain's own placement code, gpu.Allocator. A cold start that does not fit asks for an
// eviction plan (Request.AllowEviction, the planner behind ChooseGPU's allow_eviction) and unloads
// its victims first; a pre-warm is placed only where it fits as things stand (a guess does not
// evict a model that is loaded). A model's size is its application's AverageAllocatedMb from the
// memory file; a model the file lacks is sized at the median of the trace's models that it has.
type Cap struct {
	// Devices is the inventory; each device offers TotalBytes - UsedBytes.
	Devices []gpu.StaticDevice
	// Victims is the victim choice (default VictimsBrain).
	Victims Victims
	// KeepAlive is each model's keep-alive, for VictimsShortestKeepAlive; nil: the same for all.
	KeepAlive func(model string) time.Duration
	// HeadroomBytes stays free on every device beyond a model (gpu.headroom_bytes); 0 for a cap
	// given as a number, which is the usable memory itself.
	HeadroomBytes int64
}

// CapGPU is the name of the one device of a cap given as a number of bytes (SingleGPU).
const CapGPU = "replay-gpu"

// SingleGPU is a cap of one device with bytes of memory.
func SingleGPU(bytes int64) []gpu.StaticDevice {
	return []gpu.StaticDevice{{Name: CapGPU, TotalBytes: bytes}}
}

// CapBytes is the memory a cap offers: the sum over its devices of TotalBytes - UsedBytes.
func CapBytes(devices []gpu.StaticDevice) int64 {
	var sum int64
	for _, d := range devices {
		sum += d.TotalBytes - d.UsedBytes
	}
	return sum
}

// ModelSizes returns each model's size in bytes as a capped replay counts it (the memory file's
// AverageAllocatedMb of its application; the median of the others for a model the file lacks), and
// how many were sized by the median. It fails when mem sizes none of the models.
func ModelSizes(tr *Trace, mem Memory) (sizes []int64, byMedian int, err error) {
	var known []float64
	for _, m := range tr.Models {
		if mb, ok := mem[m.App]; ok {
			known = append(known, mb)
		}
	}
	if len(known) == 0 {
		return nil, 0, errors.New("replay: a GPU memory cap needs model sizes, and the memory file sizes none of the trace's models (give --memory, the Azure Functions memory file with AverageAllocatedMb per HashApp)")
	}
	slices.Sort(known)
	median := known[len(known)/2]
	if len(known)%2 == 0 {
		median = (known[len(known)/2-1] + known[len(known)/2]) / 2
	}
	sizes = make([]int64, len(tr.Models))
	for i, m := range tr.Models {
		mb, ok := mem[m.App]
		if !ok {
			mb = median
			byMedian++
		}
		sizes[i] = max(int64(mb*(1<<20)), 1)
	}
	return sizes, byMedian, nil
}

// capInventory is the cap as a gpu.Inventory: free memory is what the sim's loaded models leave.
type capInventory struct {
	devices []gpu.Device
	used    []int64 // by the loaded models, per device
	now     func() time.Time
}

func newCapInventory(static []gpu.StaticDevice, now func() time.Time) (*capInventory, error) {
	inv := &capInventory{now: now, used: make([]int64, len(static))}
	for i, d := range static {
		if d.TotalBytes <= 0 || d.UsedBytes < 0 || d.UsedBytes > d.TotalBytes {
			return nil, fmt.Errorf("replay: GPU %d (%q): total %d bytes, used %d: want total > 0 and 0 <= used <= total", i, d.Name, d.TotalBytes, d.UsedBytes)
		}
		inv.devices = append(inv.devices, gpu.Device{
			Index: i, UUID: "replay-" + strconv.Itoa(i), Name: d.Name,
			TotalBytes: d.TotalBytes, UsedBytes: d.UsedBytes, FreeBytes: d.TotalBytes - d.UsedBytes, UtilizationPercent: -1,
		})
	}
	if len(inv.devices) == 0 {
		return nil, errors.New("replay: a GPU memory cap needs at least one device")
	}
	return inv, nil
}

func (c *capInventory) Snapshot() gpu.Snapshot {
	devs := slices.Clone(c.devices)
	for i := range devs {
		devs[i].UsedBytes += c.used[i]
		devs[i].FreeBytes -= c.used[i]
	}
	return gpu.Snapshot{Devices: devs, Time: c.now(), Backend: gpu.BackendStatic}
}

func (c *capInventory) Refresh() gpu.Snapshot { return c.Snapshot() }
func (c *capInventory) Backend() string       { return gpu.BackendStatic }
func (c *capInventory) Close() error          { return nil }

// capState is a capped replay's placement state.
type capState struct {
	inv       *capInventory
	alloc     *gpu.Allocator
	predictor *predict.Policy
	bytes     []float64 // model sizes
	dev       []int32   // device of a loaded model
	busy      []int32   // the latest minute with a request (0: none yet)
	evicted   []bool    // unloaded by an eviction, not loaded since
	nameRank  []int32
	meanBytes float64
	maxBytes  float64
	minute    int32 // the minute being replayed
}

func (s *sim) initCap() error {
	c := s.cfg.Cap
	if c.Victims == "" {
		c.Victims = VictimsBrain
	}
	if _, err := ParseVictims(string(c.Victims)); err != nil {
		return err
	}
	if c.KeepAlive == nil {
		c.KeepAlive = func(string) time.Duration { return 0 }
	}
	s.cfg.Cap = c
	sizes, byMedian, err := ModelSizes(s.tr, s.cfg.Memory)
	if err != nil {
		return err
	}
	inv, err := newCapInventory(c.Devices, func() time.Time { return s.now })
	if err != nil {
		return err
	}
	pred, err := predict.New(predict.Config{})
	if err != nil {
		return err
	}
	n := len(s.tr.Models)
	s.capState = capState{
		inv: inv, alloc: gpu.NewAllocator(inv, gpu.AllocatorConfig{HeadroomBytes: c.HeadroomBytes, Clock: func() time.Time { return s.now }}),
		predictor: pred,
		bytes:     make([]float64, n), dev: make([]int32, n), busy: make([]int32, n), evicted: make([]bool, n),
		nameRank: make([]int32, n),
	}
	order := make([]int, n)
	for i, b := range sizes {
		s.bytes[i] = float64(b)
		s.meanBytes += float64(b) / float64(n)
		s.maxBytes = max(s.maxBytes, float64(b))
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return s.tr.Models[order[x]].Name < s.tr.Models[order[y]].Name })
	for r, i := range order {
		s.nameRank[i] = int32(r)
	}
	s.res.Victims = string(c.Victims)
	s.res.GPUMemoryBytes = CapBytes(c.Devices)
	s.res.ModelsSizedByMedian = byMedian
	return nil
}

// lastRequestOf is the latest request of a model of the trace, as the tracker has it: the start
// of the current minute for a model requested in it, second 59 of an earlier minute.
func (s *sim) lastRequestOf(model, _ string) time.Time {
	i, ok := s.index[model]
	if !ok || s.busy[i] == 0 {
		return time.Time{}
	}
	if s.busy[i] == s.minute {
		return s.minuteStart(int(s.minute))
	}
	return s.minuteStart(int(s.busy[i])).Add(lastRequest)
}

// idle is how long model i has been without a request (an hour when it never had one).
func (s *sim) idle(i int32) time.Duration {
	last := s.lastRequestOf(s.tr.Models[i].Name, Gateway)
	if last.IsZero() {
		return time.Hour
	}
	return max(s.now.Sub(last), 0)
}

// place finds room for model i under the cap, unloading an eviction plan's victims first when
// evict is set; it returns the device, or false when the model cannot be placed (counted).
func (s *sim) place(i int32, evict bool) (int32, bool, error) {
	req := gpu.Request{Model: s.tr.Models[i].Name, Gateway: Gateway, RequiredBytes: int64(s.bytes[i]), Now: s.now}
	if evict {
		req.AllowEviction = true
		req.NextUse = s.estimator()
		req.Residents = make(map[string][]gpu.Resident, len(s.inv.devices))
		for j, l := range s.loaded {
			if !l {
				continue
			}
			r := gpu.Resident{Model: s.tr.Models[j].Name, Gateway: Gateway, MemoryBytes: int64(s.bytes[j]), LastRequest: s.lastRequestOf(s.tr.Models[j].Name, Gateway)}
			if s.busy[j] == s.minute {
				r.InFlight = 1 // requested this minute: serving, never a victim
			}
			uuid := s.inv.devices[s.dev[j]].UUID
			req.Residents[uuid] = append(req.Residents[uuid], r)
		}
	}
	p, err := s.alloc.Choose(req)
	if errors.Is(err, gpu.ErrNoFit) {
		if evict {
			s.res.PlacementFailures++
		} else {
			s.res.PrewarmsSkipped++
		}
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("replay: place %q: %w", req.Model, err)
	}
	for _, v := range p.Evictions {
		j := s.index[v.Model]
		s.res.Evictions++
		s.evicted[j] = true
		if err := s.unloadModel(j); err != nil {
			return 0, false, err
		}
	}
	return int32(p.Device.Index), true, nil
}
