package predict

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/rules"
)

// sealed returns body followed by its CRC-32: a state file whose checksum is good, whatever body is.
func sealed(body []byte) []byte {
	return binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.ChecksumIEEE(body))
}

// twoModels returns a policy with two histories and its state file.
func twoModels(t *testing.T) (*Policy, []byte) {
	t.Helper()
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []int64{0, 10, 20, 30} {
		p.Observe(Key{Gateway: "gw-1", Model: "timer"}, time.Unix(m*60+30, 0))
	}
	p.Observe(Key{Gateway: "gw-1", Model: "other"}, time.Unix(5*60, 0))
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// A state file cut anywhere is refused even when its checksum was made good again (a writer that
// checksums what it managed to write), and the policy keeps the histories it had, without a panic.
func TestAStateFileCutAnywhereIsRefused(t *testing.T) {
	_, good := twoModels(t)
	body := good[:len(good)-4]
	q, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	q.Observe(Key{Gateway: "gw-1", Model: "kept"}, time.Unix(60, 0))
	for cut := range len(body) {
		if err := q.UnmarshalBinary(sealed(body[:cut])); err == nil {
			t.Fatalf("a file cut after %d of %d bytes was accepted", cut, len(body))
		}
		if q.Len() != 1 || q.models.get(Key{Gateway: "gw-1", Model: "kept"}) == nil {
			t.Fatalf("a file cut after %d bytes changed the policy", cut)
		}
	}
	if err := q.UnmarshalBinary(sealed(body)); err != nil || q.Len() != 2 {
		t.Errorf("the whole file: %v, %d histories, want 2", err, q.Len())
	}
}

// A model count that the rest of the file cannot hold (every history takes historyBytes and at
// least two name bytes) is refused as such, before any model is decoded.
func TestAModelCountTheFileCannotHoldIsRefused(t *testing.T) {
	_, good := twoModels(t)
	header := len(fileMagic) + 8
	withCount := func(body []byte, n uint32) []byte {
		b := append([]byte(nil), body...)
		binary.LittleEndian.PutUint32(b[len(fileMagic)+4:], n)
		return sealed(b)
	}
	short := append([]byte(nil), good[:header]...)
	for _, tt := range []struct {
		name string
		file []byte
		want string
	}{
		{"three models claimed in a file holding two", withCount(good[:len(good)-4], 3), "3 models cannot fit in"},
		{"one model claimed in one byte less than a history and its names", withCount(append(short, make([]byte, historyBytes+1)...), 1), "1 models cannot fit in 993 bytes"},
		{"one model claimed in no bytes", withCount(short, 1), "1 models cannot fit in 0 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := New(Config{})
			err := p.UnmarshalBinary(tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// A history with no busy minute yet (the zero History) is a valid entry of a state file: it reads
// back, empty; a negative minute is refused.
func TestAnEmptyHistoryReadsBackEmpty(t *testing.T) {
	for _, tt := range []struct {
		name    string
		last    int64
		wantErr bool
	}{
		{"no busy minute yet", 0, false},
		{"busy in minute 0", 1, false},
		{"a negative minute", -1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := New(Config{})
			p.models.put(Key{Gateway: "gw-1", Model: "m"}, &History{last: tt.last})
			b, _ := p.MarshalBinary()
			q, _ := New(Config{})
			err := q.UnmarshalBinary(b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			var prior History // a busy minute and no gaps: the plan is the prior's alone
			if tt.last != 0 {
				prior.replan()
			}
			if h := q.models.get(Key{Gateway: "gw-1", Model: "m"}); !tt.wantErr && (h == nil || h.last != tt.last || h.plan != prior.plan) {
				t.Errorf("read back %+v, want a history with last %d and the plan of no gaps", h, tt.last)
			}
		})
	}
}

// The fixed policy's reason is followed by "fewer than min_history" only when the gaps are fewer:
// a history of exactly min_history gaps is not called short.
func TestAFixedReasonCallsAHistoryShortOnlyBelowMinHistory(t *testing.T) {
	fd := rules.DefaultUnloadPolicy().ShouldUnload(rules.UnloadInput{Model: "m", IdleSeconds: 400})
	for _, tt := range []struct {
		name       string
		gaps       int
		wantSuffix string
	}{
		{"one gap fewer than min_history", 2, " (the fixed keep-alive decides: 2 gaps observed, fewer than min_history 3)"},
		{"exactly min_history gaps", 3, ""},
		{"more gaps", 4, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decision{Gaps: tt.gaps, MinHistory: 3}.byFixedPolicy(fd)
			if got, want := d.Reason(), fd.Reason()+tt.wantSuffix; got != want {
				t.Errorf("reason\n got %s\nwant %s", got, want)
			}
		})
	}
}

// The reader refuses a name over maxNameLen, gateway or model (Observe never tracks one, so only
// a corrupt or foreign file has it), and keeps one of exactly maxNameLen.
func TestAStateFileNameOverTheBoundIsRefused(t *testing.T) {
	for _, tt := range []struct {
		name    string
		key     Key
		wantErr bool
	}{
		{"model name at the bound", Key{Gateway: "gw", Model: strings.Repeat("m", maxNameLen)}, false},
		{"gateway name at the bound", Key{Gateway: strings.Repeat("g", maxNameLen), Model: "m"}, false},
		{"model name one byte over", Key{Gateway: "gw", Model: strings.Repeat("m", maxNameLen+1)}, true},
		{"gateway name one byte over", Key{Gateway: strings.Repeat("g", maxNameLen+1), Model: "m"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := New(Config{})
			p.models.put(tt.key, &History{last: 61, gaps: 1, busy: 2})
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, _ := New(Config{})
			err = q.UnmarshalBinary(b)
			if (err != nil) != tt.wantErr || !tt.wantErr && q.models.get(tt.key) == nil {
				t.Errorf("err %v, %d histories; want an error: %v", err, q.Len(), tt.wantErr)
			}
		})
	}
}

// A decision under a pair ID leaves the pair's history in the slot of that ID, growing the slots
// to twice their number or to the ID, whichever is more (so that the next cycle reaches it by
// index); ID 0 names no pair and is never remembered.
func TestAPairIDRemembersItsHistoryInItsSlot(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	fixed := rules.DefaultUnloadPolicy()
	keys := []Key{{Gateway: "gw", Model: "a"}, {Gateway: "gw", Model: "b"}, {Gateway: "gw", Model: "c"}}
	for _, k := range keys {
		p.Observe(k, time.Unix(60, 0))
		p.Observe(k, time.Unix(180, 0))
	}
	now := time.Unix(240, 0)
	decide := func(k Key, id metrics.PairID) {
		p.Decide(fixed, Input{Gateway: k.Gateway, ID: id, UnloadInput: rules.UnloadInput{Model: k.Model, IdleSeconds: 60}, Loaded: true}, now)
	}
	holds := func(id metrics.PairID, k Key) bool {
		if int(id) >= len(p.slots) {
			return false
		}
		s := p.slots[id].Load()
		return s != nil && s.key == k && s.h == p.models.get(k)
	}
	steps := []struct {
		name     string
		key      Key
		id       metrics.PairID
		wantLen  int
		wantHeld map[metrics.PairID]Key
	}{
		{"the first ID grows the slots to hold it", keys[0], 1, 2, map[metrics.PairID]Key{1: keys[0]}},
		{"an ID equal to the number of slots grows them to twice", keys[1], 2, 4, map[metrics.PairID]Key{1: keys[0], 2: keys[1]}},
		{"an ID beyond twice grows them to the ID", keys[2], 9, 10, map[metrics.PairID]Key{1: keys[0], 2: keys[1], 9: keys[2]}},
		{"ID 0 is no pair: nothing remembered", keys[2], 0, 10, map[metrics.PairID]Key{1: keys[0], 2: keys[1], 9: keys[2]}},
		{"an ID given to another pair holds that pair's", keys[1], 1, 10, map[metrics.PairID]Key{1: keys[1], 2: keys[1], 9: keys[2]}},
	}
	for _, s := range steps {
		decide(s.key, s.id)
		if len(p.slots) != s.wantLen {
			t.Errorf("%s: %d slots, want %d", s.name, len(p.slots), s.wantLen)
		}
		for id := range p.slots {
			want, ok := s.wantHeld[metrics.PairID(id)]
			if got := p.slots[id].Load(); ok != (got != nil) || ok && !holds(metrics.PairID(id), want) {
				t.Errorf("%s: slot %d holds %+v, want %v (%v)", s.name, id, got, want, ok)
			}
		}
	}
}

// Forget drops one history and nothing else: the count, the other models of its gateway, and a
// gateway left with none.
func TestForgetDropsOneHistory(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := Key{Gateway: "g1", Model: "a"}, Key{Gateway: "g1", Model: "b"}, Key{Gateway: "g2", Model: "a"}
	for _, k := range []Key{a, b, c} {
		p.Observe(k, time.Unix(60, 0))
	}
	p.Forget(Key{Gateway: "g1", Model: "unknown"})
	if p.Len() != 3 {
		t.Fatalf("forgetting an unknown model: %d histories, want 3", p.Len())
	}
	p.Forget(a)
	if p.Len() != 2 || p.models.get(a) != nil || p.models.get(b) == nil || p.models.get(c) == nil {
		t.Fatalf("after forgetting %v: %d histories, a %v, b %v, c %v; want b and c only", a, p.Len(), p.models.get(a) != nil, p.models.get(b) != nil, p.models.get(c) != nil)
	}
	p.Forget(b)
	if _, ok := p.models.byGateway["g1"]; ok || p.Len() != 1 || p.models.get(c) == nil {
		t.Errorf("after forgetting g1's last model: g1 still listed %v, %d histories; want only c", ok, p.Len())
	}
}
