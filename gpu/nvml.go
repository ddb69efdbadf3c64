//go:build cgo

package gpu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// OpenWithNVML is Open with an injected NVML library instead of the system's: the go-nvml mock in
// tests (for example mock/dgxh100), nvml.New() with options elsewhere. Only the nvml and auto
// backends use lib.
func OpenWithNVML(cfg Config, lib nvml.Interface, logger *slog.Logger) (Inventory, error) {
	return open(cfg, logger, func(cfg Config, logger *slog.Logger) (Inventory, error) {
		return newNVMLInventory(lib, cfg, logger)
	})
}

func openNVML(cfg Config, logger *slog.Logger) (Inventory, error) {
	lib, err := systemNVML()
	if err != nil {
		return nil, err
	}
	return newNVMLInventory(lib, cfg, logger)
}

// memoryInfoV2Symbol is looked up before GetMemoryInfo_v2 is called: older drivers lack it.
const memoryInfoV2Symbol = "nvmlDeviceGetMemoryInfo_v2"

var errNotInitialised = errors.New("NVML is not initialised")

// nvmlInventory polls NVML in the background and publishes each reading atomically, so that
// Snapshot never calls into the driver.
type nvmlInventory struct {
	lib      nvml.Interface
	clock    func() time.Time
	maxAge   time.Duration
	logger   *slog.Logger
	memoryV2 bool

	// mu serialises every NVML call and guards initialised: after a failed Init or after Shutdown,
	// a call into the library can kill the process, so no call passes without initialised.
	mu          sync.Mutex
	initialised bool

	current atomic.Pointer[Snapshot]

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newNVMLInventory(lib nvml.Interface, cfg Config, logger *slog.Logger) (*nvmlInventory, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: init: %s", ErrNVMLUnavailable, ret.Error())
	}
	n := &nvmlInventory{
		lib:         lib,
		clock:       cfg.Clock,
		maxAge:      cfg.MaxSnapshotAge,
		logger:      logger,
		initialised: true,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if ext := lib.Extensions(); ext != nil {
		n.memoryV2 = ext.LookupSymbol(memoryInfoV2Symbol) == nil
	}
	devices, err := n.read()
	if err != nil {
		n.shutdown()
		return nil, fmt.Errorf("%w: first read: %v", ErrNVMLUnavailable, err)
	}
	n.current.Store(&Snapshot{Devices: devices, Time: n.clock(), Backend: BackendNVML, MaxAge: n.maxAge})
	go n.poll(cfg.RefreshInterval)
	return n, nil
}

func (n *nvmlInventory) Snapshot() Snapshot { return *n.current.Load() }
func (n *nvmlInventory) Backend() string    { return BackendNVML }

// Refresh reads every device and publishes the result. A failed read publishes the last good
// devices marked stale with the error; the state change is logged once, not every poll.
func (n *nvmlInventory) Refresh() Snapshot {
	n.mu.Lock()
	defer n.mu.Unlock()
	devices, err := n.readLocked()
	prev := n.current.Load()
	var next Snapshot
	if err != nil {
		next = *prev
		next.Stale, next.Err = true, err
		if !prev.Stale {
			n.logger.Warn("NVML read failed; keeping the last good GPU snapshot", "err", err.Error(), "last_good", prev.Time)
		}
	} else {
		next = Snapshot{Devices: devices, Time: n.clock(), Backend: BackendNVML, MaxAge: n.maxAge}
		if prev.Stale {
			n.logger.Info("NVML read recovered", "gpus", len(devices))
		}
	}
	n.current.Store(&next)
	return next
}

func (n *nvmlInventory) poll(interval time.Duration) {
	defer close(n.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-ticker.C:
			n.Refresh()
		}
	}
}

// Close stops the poller and shuts NVML down; later reads fail with errNotInitialised.
func (n *nvmlInventory) Close() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.stop)
		<-n.done
		err = n.shutdown()
	})
	return err
}

func (n *nvmlInventory) shutdown() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.initialised {
		return nil
	}
	n.initialised = false
	if ret := n.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("NVML shutdown: %s", ret.Error())
	}
	return nil
}

func (n *nvmlInventory) read() ([]Device, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.readLocked()
}

// readLocked reads every device. NVML return codes become plain errors here, while the library is
// loaded: a stored nvml.Return formats itself through the library. A panic (a mock missing a
// function) becomes an error, so that the poller never takes the daemon down.
func (n *nvmlInventory) readLocked() (devices []Device, err error) {
	if !n.initialised {
		return nil, errNotInitialised
	}
	defer func() {
		if r := recover(); r != nil {
			devices, err = nil, fmt.Errorf("NVML read panicked: %v", r)
		}
	}()
	count, ret := n.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, nvmlError("DeviceGetCount", -1, ret)
	}
	devices = make([]Device, 0, count)
	for i := range count {
		d, err := n.readDevice(i)
		if err != nil {
			return nil, err
		}
		devices = append(devices, d)
	}
	return devices, nil
}

func (n *nvmlInventory) readDevice(index int) (Device, error) {
	h, ret := n.lib.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		return Device{}, nvmlError("DeviceGetHandleByIndex", index, ret)
	}
	uuid, ret := h.GetUUID()
	if ret != nvml.SUCCESS {
		return Device{}, nvmlError("GetUUID", index, ret)
	}
	name, ret := h.GetName()
	if ret != nvml.SUCCESS {
		return Device{}, nvmlError("GetName", index, ret)
	}
	total, free, err := n.memory(h, index)
	if err != nil {
		return Device{}, err
	}
	// Utilisation is informative only: MIG-enabled and some virtual GPUs do not report it.
	util := -1
	if u, ret := h.GetUtilizationRates(); ret == nvml.SUCCESS {
		util = int(u.Gpu)
	}
	mig := false
	switch current, _, ret := h.GetMigMode(); ret {
	case nvml.SUCCESS:
		mig = current == nvml.DEVICE_MIG_ENABLE
	case nvml.ERROR_NOT_SUPPORTED: // pre-Ampere and consumer GPUs: no MIG
	default:
		return Device{}, nvmlError("GetMigMode", index, ret)
	}
	return Device{
		Index:              index,
		UUID:               uuid,
		Name:               name,
		TotalBytes:         total,
		FreeBytes:          free,
		UsedBytes:          total - free,
		UtilizationPercent: util,
		MIGEnabled:         mig,
	}, nil
}

// memory prefers GetMemoryInfo_v2 (its free memory excludes what the driver reserves) where the
// library has it, and falls back to GetMemoryInfo.
func (n *nvmlInventory) memory(h nvml.Device, index int) (total, free int64, err error) {
	if n.memoryV2 {
		m, ret := h.GetMemoryInfo_v2()
		if ret != nvml.SUCCESS {
			return 0, 0, nvmlError("GetMemoryInfo_v2", index, ret)
		}
		return int64(m.Total), int64(m.Free), nil
	}
	m, ret := h.GetMemoryInfo()
	if ret != nvml.SUCCESS {
		return 0, 0, nvmlError("GetMemoryInfo", index, ret)
	}
	return int64(m.Total), int64(m.Free), nil
}

func nvmlError(call string, index int, ret nvml.Return) error {
	if index < 0 {
		return fmt.Errorf("NVML %s: %s", call, ret.Error())
	}
	return fmt.Errorf("NVML %s on GPU %d: %s", call, index, ret.Error())
}

var _ Inventory = (*nvmlInventory)(nil)
