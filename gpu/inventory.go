package gpu

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Backend names, as gpu.backend spells them.
const (
	BackendAuto   = "auto"
	BackendNVML   = "nvml"
	BackendStatic = "static"
	BackendNone   = "none"
)

// Defaults applied by Open to zero Config fields.
const (
	DefaultRefreshInterval = time.Second
	DefaultMaxSnapshotAge  = 30 * time.Second
)

// ErrNVMLUnavailable says the nvml backend could not start: no cgo in this build, no driver, or a
// failed first read.
var ErrNVMLUnavailable = errors.New("NVML unavailable")

// Inventory reports the GPUs of this host.
type Inventory interface {
	// Snapshot returns the latest reading without touching the hardware.
	Snapshot() Snapshot
	// Refresh reads the hardware now, publishes the result and returns it. The nvml backend's
	// poller calls it every refresh interval; tests and checks call it to avoid waiting.
	Refresh() Snapshot
	// Backend names the backend: "nvml", "static" or "none".
	Backend() string
	// Close stops polling and releases the driver. Snapshot keeps answering the last reading.
	Close() error
}

// StaticDevice is a GPU declared in the configuration (gpu.devices).
//
// The struct tags are the keys of a `gpu.devices` entry in the brain's YAML configuration.
type StaticDevice struct {
	Name       string `yaml:"name"`
	TotalBytes int64  `yaml:"total_bytes"`
	UsedBytes  int64  `yaml:"used_bytes"`
}

// Config selects and tunes a backend.
type Config struct {
	// Backend is "auto" (the default when empty), "nvml", "static" or "none".
	Backend string
	// Devices is the static inventory; only the static backend reads it.
	Devices []StaticDevice
	// RefreshInterval is how often the nvml backend polls; default DefaultRefreshInterval.
	RefreshInterval time.Duration
	// MaxSnapshotAge is how old the nvml backend's last good read may be before decisions refuse
	// it with ErrUnavailable; default DefaultMaxSnapshotAge.
	MaxSnapshotAge time.Duration
	// Clock stamps snapshots; default time.Now.
	Clock func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Backend == "" {
		c.Backend = BackendAuto
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.MaxSnapshotAge <= 0 {
		c.MaxSnapshotAge = DefaultMaxSnapshotAge
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Open starts the configured backend. "auto" uses NVML when it initialises and otherwise falls
// back to none, saying which once in the log; an explicit "nvml" that cannot start is an error, so
// that a daemon configured for GPUs refuses to start without them.
func Open(cfg Config, logger *slog.Logger) (Inventory, error) {
	return open(cfg, logger, openNVML)
}

// nvmlOpener starts the nvml backend; the system library in Open, an injected one in tests.
type nvmlOpener func(cfg Config, logger *slog.Logger) (Inventory, error)

func open(cfg Config, logger *slog.Logger, openNVML nvmlOpener) (Inventory, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	switch cfg.Backend {
	case BackendAuto:
		inv, err := openNVML(cfg, logger)
		if err != nil {
			logger.Info("GPU backend auto: NVML not usable, running without GPUs", "backend", BackendNone, "reason", err.Error())
			return newStatic(BackendNone, nil, cfg.Clock()), nil
		}
		logger.Info("GPU backend auto: using NVML", "backend", BackendNVML, "gpus", len(inv.Snapshot().Devices))
		return inv, nil
	case BackendNVML:
		inv, err := openNVML(cfg, logger)
		if err != nil {
			return nil, fmt.Errorf("open GPU backend nvml: %w", err)
		}
		logger.Info("GPU backend nvml", "gpus", len(inv.Snapshot().Devices))
		return inv, nil
	case BackendStatic:
		devices, err := staticDevices(cfg.Devices)
		if err != nil {
			return nil, fmt.Errorf("open GPU backend static: %w", err)
		}
		return newStatic(BackendStatic, devices, cfg.Clock()), nil
	case BackendNone:
		return newStatic(BackendNone, nil, cfg.Clock()), nil
	default:
		return nil, fmt.Errorf("unknown GPU backend %q: allowed values are %s, %s, %s, %s",
			cfg.Backend, BackendAuto, BackendNVML, BackendStatic, BackendNone)
	}
}

// StaticUUID is the UUID the static backend gives the device at position index.
func StaticUUID(index int) string { return "static-GPU-" + strconv.Itoa(index) }

func staticDevices(declared []StaticDevice) ([]Device, error) {
	if len(declared) == 0 {
		return nil, errors.New("no devices declared (gpu.devices)")
	}
	devices := make([]Device, len(declared))
	for i, sd := range declared {
		if sd.TotalBytes <= 0 {
			return nil, fmt.Errorf("device %d: total_bytes must be > 0, got %d", i, sd.TotalBytes)
		}
		if sd.UsedBytes < 0 || sd.UsedBytes > sd.TotalBytes {
			return nil, fmt.Errorf("device %d: used_bytes must be between 0 and total_bytes (%d), got %d", i, sd.TotalBytes, sd.UsedBytes)
		}
		name := sd.Name
		if name == "" {
			name = "static GPU " + strconv.Itoa(i)
		}
		devices[i] = Device{
			Index:              i,
			UUID:               StaticUUID(i),
			Name:               name,
			TotalBytes:         sd.TotalBytes,
			FreeBytes:          sd.TotalBytes - sd.UsedBytes,
			UsedBytes:          sd.UsedBytes,
			UtilizationPercent: -1,
		}
	}
	return devices, nil
}

// staticInventory serves a fixed device list: the static and none backends. Its snapshot never
// ages out (MaxAge 0): nothing can make it wrong after start.
type staticInventory struct {
	snapshot Snapshot
}

func newStatic(backend string, devices []Device, now time.Time) *staticInventory {
	return &staticInventory{snapshot: Snapshot{Devices: devices, Time: now, Backend: backend}}
}

func (s *staticInventory) Snapshot() Snapshot { return s.snapshot }
func (s *staticInventory) Refresh() Snapshot  { return s.snapshot }
func (s *staticInventory) Backend() string    { return s.snapshot.Backend }
func (s *staticInventory) Close() error       { return nil }

var _ Inventory = (*staticInventory)(nil)
