package predict

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The state file: a magic line, the horizon, the number of histories, each with its gateway and
// model names and the history (the
// plan is not stored: it is recomputed from the counts on reading), and a CRC-32 of all
// that precedes it, so that a truncated or foreign file is recognised and refused whole.
const fileMagic = "modelium-brain predict v2\n"

// SaveInterval is how often a daemon writes the state file (besides at shutdown): a crash loses at
// most this much history, and 100,000 models (about 130 MB) are written seldom enough.
const SaveInterval = 5 * time.Minute

// maxNameLen bounds a gateway or model name in a state file (a longer one means a corrupt file),
// and so the names Policy.Observe tracks.
const maxNameLen = 4096

// historyBytes is the encoded size of a history after its name.
const historyBytes = 8 + 4 + 4 + 2*(recentBusy-1) + 2*(Horizon+1) + 2*Horizon

// MarshalBinary encodes every model's history, models in name order (the same state gives the
// same bytes).
func (p *Policy) MarshalBinary() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	keys := make([]Key, 0, p.models.n)
	for gw, m := range p.models.byGateway {
		for model := range m {
			keys = append(keys, Key{Gateway: gw, Model: model})
		}
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(strings.Compare(a.Gateway, b.Gateway), strings.Compare(a.Model, b.Model))
	})
	b := make([]byte, 0, len(fileMagic)+8+len(keys)*(historyBytes+48)+4)
	b = append(b, fileMagic...)
	b = binary.LittleEndian.AppendUint32(b, Horizon)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		h := p.models.get(k)
		for _, name := range [2]string{k.Gateway, k.Model} {
			b = binary.AppendUvarint(b, uint64(len(name)))
			b = append(b, name...)
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(h.last))
		b = binary.LittleEndian.AppendUint32(b, h.gaps)
		b = binary.LittleEndian.AppendUint32(b, h.busy)
		for _, v := range h.recent {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		for _, v := range h.gap {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		for _, v := range h.lag {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// UnmarshalBinary replaces every history with the ones encoded in b, or, when b is not a whole
// state file of this version (truncated, foreign, corrupt), returns an error and changes nothing.
func (p *Policy) UnmarshalBinary(b []byte) error {
	models, err := decodeState(b)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	models.gen = p.models.gen + 1 // every history is replaced: the slots' are stale
	p.models = models
	return nil
}

var errTruncated = errors.New("truncated")

func decodeState(b []byte) (histories, error) {
	var models histories
	if !bytes.HasPrefix(b, []byte(fileMagic)) {
		return histories{}, errors.New("not a predictive policy state file (no header)")
	}
	if len(b) < len(fileMagic)+12 {
		return histories{}, errTruncated
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return histories{}, errors.New("checksum mismatch: truncated or corrupt")
	}
	r := body[len(fileMagic):]
	if hz := binary.LittleEndian.Uint32(r); hz != Horizon {
		return histories{}, fmt.Errorf("horizon %d, want %d", hz, Horizon)
	}
	n := binary.LittleEndian.Uint32(r[4:])
	r = r[8:]
	if uint64(n) > uint64(len(r))/(historyBytes+2) {
		return histories{}, fmt.Errorf("%d models cannot fit in %d bytes", n, len(r))
	}
	for i := range n {
		var names [2]string
		for j := range names {
			l, k := binary.Uvarint(r)
			if k <= 0 || l > maxNameLen || uint64(len(r)-k) < l+historyBytes {
				return histories{}, fmt.Errorf("history %d: %w", i, errTruncated)
			}
			names[j] = string(r[k : k+int(l)])
			r = r[k+int(l):]
		}
		key := Key{Gateway: names[0], Model: names[1]}
		if models.get(key) != nil || key.Model == "" {
			return histories{}, fmt.Errorf("history %d: empty or repeated model %q on gateway %q", i, key.Model, key.Gateway)
		}
		h := new(History)
		h.last = int64(binary.LittleEndian.Uint64(r))
		h.gaps = binary.LittleEndian.Uint32(r[8:])
		h.busy = binary.LittleEndian.Uint32(r[12:])
		r = r[16:]
		for j := range h.recent {
			h.recent[j] = binary.LittleEndian.Uint16(r)
			r = r[2:]
		}
		for j := range h.gap {
			h.gap[j] = binary.LittleEndian.Uint16(r)
			r = r[2:]
		}
		for j := range h.lag {
			h.lag[j] = binary.LittleEndian.Uint16(r)
			r = r[2:]
		}
		if h.last < 0 {
			return histories{}, fmt.Errorf("model %q on gateway %q: negative minute", key.Model, key.Gateway)
		}
		if h.last != 0 {
			h.replan()
		}
		models.put(key, h)
	}
	if len(r) != 0 {
		return histories{}, fmt.Errorf("%d bytes after the last model", len(r))
	}
	return models, nil
}

// WriteFile saves every history to path atomically: to a temporary file in the same directory,
// synced, then renamed over path, so that a crash leaves the old file or the new one, never half
// of one.
func (p *Policy) WriteFile(path string) error {
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write state file %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write state file %s: %w", path, err)
	}
	return nil
}

// ReadFile restores the histories saved at path. A missing file is no error (the policy starts
// empty: found is false); an unreadable, foreign or truncated one is an error that leaves the
// policy as it was, for the caller to log and go on.
func (p *Policy) ReadFile(path string) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read state file %s: %w", path, err)
	}
	if err := p.UnmarshalBinary(b); err != nil {
		return true, fmt.Errorf("read state file %s: %w", path, err)
	}
	return true, nil
}
