package gpu

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnavailable says the inventory cannot be trusted for a decision: its last good read is older
// than the configured limit. The server answers UNAVAILABLE.
var ErrUnavailable = errors.New("GPU inventory unavailable")

// Device is one GPU as a backend last read it.
type Device struct {
	// Index is the device index as the driver numbers it (position for the static backend).
	Index int
	// UUID keys the device: indexes can change across reboots, UUIDs do not.
	UUID string
	// Name is the product name, for example "NVIDIA H100 80GB HBM3".
	Name string
	// TotalBytes is the device memory.
	TotalBytes int64
	// FreeBytes is the device-wide free memory, every process counted.
	FreeBytes int64
	// UsedBytes is TotalBytes - FreeBytes: memory of every process plus what the driver reserves.
	UsedBytes int64
	// UtilizationPercent is the GPU utilisation over the driver's last sample period; -1 when unknown.
	UtilizationPercent int
	// MIGEnabled reports MIG mode; a MIG-enabled GPU is listed but never chosen, since a process
	// there can only use one of its instances, which this package does not inventory.
	MIGEnabled bool
}

// Snapshot is an inventory reading. Once published it is never modified: callers may keep it and
// must not change its Devices.
type Snapshot struct {
	// Devices in index order.
	Devices []Device
	// Time is when Devices were read successfully.
	Time time.Time
	// Backend names the inventory that read it: "nvml", "static" or "none".
	Backend string
	// Stale is set when the latest read failed; Devices and Time are then those of the last good read.
	Stale bool
	// Err is the error of the latest read when Stale.
	Err error
	// MaxAge is how old Time may be before decisions refuse the snapshot; 0 means no limit.
	MaxAge time.Duration
}

// Age is how old the devices are at now.
func (s Snapshot) Age(now time.Time) time.Duration { return now.Sub(s.Time) }

// Usable returns nil when a decision may use the snapshot at now, and an error wrapping
// ErrUnavailable once the last good read is older than MaxAge. A stale snapshot younger than
// MaxAge is usable: one failed poll does not stop placement.
func (s Snapshot) Usable(now time.Time) error {
	age := s.Age(now)
	if s.MaxAge <= 0 || age <= s.MaxAge {
		return nil
	}
	if s.Err != nil {
		return fmt.Errorf("%w: %s read is %s old (limit %s), last error: %v", ErrUnavailable, s.Backend, age.Round(time.Millisecond), s.MaxAge, s.Err)
	}
	return fmt.Errorf("%w: %s read is %s old (limit %s)", ErrUnavailable, s.Backend, age.Round(time.Millisecond), s.MaxAge)
}
