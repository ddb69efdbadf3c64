package replay_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/replay"
)

const gib = 1 << 30

// gibEach is a memory file giving each of n apps (app1 ... appn, as trace names them) 1 GiB.
func gibEach(n int) replay.Memory {
	mem := replay.Memory{}
	for i := 1; i <= n; i++ {
		mem["app"+string(rune('0'+i))] = 1024
	}
	return mem
}

// minutes writes a row of counts with a request in each given minute (1-based) of total.
func minutes(total int, busy ...int) string {
	row := make([]string, total)
	for i := range row {
		row[i] = "0"
	}
	for _, m := range busy {
		row[m-1] = "1"
	}
	return strings.Join(row, " ")
}

func TestCapEvictsToMakeRoom(t *testing.T) {
	tests := []struct {
		name    string
		rows    []string
		capGiB  int64
		victims replay.Victims
		want    replay.Result // the fields compared below
	}{
		{
			name: "a cold start that does not fit evicts the least recently used, and its return is a cold start the eviction caused",
			// f1 at 1, f2 at 2, f3 at 3 (evicts f1), f1 at 4 (evicts f2).
			rows:    []string{minutes(5, 1, 4), minutes(5, 2), minutes(5, 3)},
			capGiB:  2,
			victims: replay.VictimsLRU,
			want:    replay.Result{ColdStarts: 4, Evictions: 2, ColdStartsAfterEviction: 1},
		},
		{
			name:    "room enough: nothing is evicted",
			rows:    []string{minutes(5, 1, 4), minutes(5, 2), minutes(5, 3)},
			capGiB:  3,
			victims: replay.VictimsLRU,
			want:    replay.Result{ColdStarts: 3},
		},
		{
			name: "a model with requests in the same minute is never a victim: the newcomer finds no room and stays unloaded",
			// f1 and f2 both at 1 with room for one; f2 again at 2 (f1 idle then: evicted).
			rows:    []string{minutes(3, 1), minutes(3, 1, 2)},
			capGiB:  1,
			victims: replay.VictimsBrain,
			want:    replay.Result{ColdStarts: 3, Evictions: 1, PlacementFailures: 1},
		},
		{
			name: "the brain keeps the model it expects back first, where LRU evicts it",
			// f1 every 3 minutes (expected at 28), f2 every 12 (expected at 38), f3 at 27 only.
			rows:    []string{minutes(29, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28), minutes(29, 2, 14, 26), minutes(29, 27)},
			capGiB:  2,
			victims: replay.VictimsBrain,
			want:    replay.Result{ColdStarts: 3, Evictions: 1},
		},
		{
			name:    "the same traffic under LRU: f1 (idle longer) goes, and comes back cold",
			rows:    []string{minutes(29, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28), minutes(29, 2, 14, 26), minutes(29, 27)},
			capGiB:  2,
			victims: replay.VictimsLRU,
			want:    replay.Result{ColdStarts: 4, Evictions: 2, ColdStartsAfterEviction: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := trace(t, tt.rows...)
			r := run(t, tr, replay.Config{Policy: fixed(t, 24*time.Hour), Memory: gibEach(len(tt.rows)),
				Cap: &replay.Cap{Devices: replay.SingleGPU(tt.capGiB * gib), Victims: tt.victims}})
			got := replay.Result{ColdStarts: r.ColdStarts, Evictions: r.Evictions, ColdStartsAfterEviction: r.ColdStartsAfterEviction, PlacementFailures: r.PlacementFailures}
			if got != tt.want {
				t.Errorf("cold %d, evictions %d, after eviction %d, no room %d; want %d, %d, %d, %d",
					got.ColdStarts, got.Evictions, got.ColdStartsAfterEviction, got.PlacementFailures,
					tt.want.ColdStarts, tt.want.Evictions, tt.want.ColdStartsAfterEviction, tt.want.PlacementFailures)
			}
			if r.Victims != string(tt.victims) || r.GPUMemoryBytes != tt.capGiB*gib || r.Unloads != 0 {
				t.Errorf("victims %q, cap %d, unloads %d: want %q, %d and no unload recommendation", r.Victims, r.GPUMemoryBytes, r.Unloads, tt.victims, tt.capGiB*gib)
			}
		})
	}
}

func TestCapSpreadsOverTheConfiguredGPUs(t *testing.T) {
	// Two 1 GiB GPUs take two 1 GiB models at once; a third evicts.
	tr := trace(t, minutes(4, 1), minutes(4, 2), minutes(4, 3))
	devs := []gpu.StaticDevice{{Name: "a", TotalBytes: gib}, {Name: "b", TotalBytes: 2 * gib, UsedBytes: gib}}
	r := run(t, tr, replay.Config{Policy: fixed(t, time.Hour), Memory: gibEach(3), Cap: &replay.Cap{Devices: devs}})
	if r.ColdStarts != 3 || r.Evictions != 1 || r.GPUMemoryBytes != 2*gib {
		t.Errorf("cold %d, evictions %d, cap %d bytes; want 3, 1, %d", r.ColdStarts, r.Evictions, r.GPUMemoryBytes, 2*gib)
	}
}

func TestModelSizes(t *testing.T) {
	tr := trace(t, "1 0", "0 1", "1 1", "1 0")
	sizes, byMedian, err := replay.ModelSizes(tr, replay.Memory{"app1": 100, "app2": 300, "app3": 200})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{100 << 20, 300 << 20, 200 << 20, 200 << 20} // app4 missing: the median, 200 MB
	for i := range want {
		if sizes[i] != want[i] {
			t.Errorf("model %d: %d bytes, want %d", i+1, sizes[i], want[i])
		}
	}
	if byMedian != 1 {
		t.Errorf("%d sized by the median, want 1", byMedian)
	}
	// Of an even number of sized models the median is the mean of the middle two.
	sizes, byMedian, err = replay.ModelSizes(tr, replay.Memory{"app1": 100, "app2": 300, "app3": 200, "app9": 700})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(200 << 20); sizes[3] != want || byMedian != 1 {
		t.Errorf("app4 missing, apps sized 100, 200, 300 and an unused 700: %d bytes (%d by the median), want %d (the median of the three sized models)", sizes[3], byMedian, want)
	}
	sizes, _, err = replay.ModelSizes(tr, replay.Memory{"app1": 100, "app2": 300})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(200 << 20); sizes[2] != want || sizes[3] != want {
		t.Errorf("apps 3 and 4 missing, two sized at 100 and 300: %d and %d bytes, want %d each (the mean of the middle two)", sizes[2], sizes[3], want)
	}
	if _, _, err := replay.ModelSizes(tr, replay.Memory{"other": 1}); err == nil || !strings.Contains(err.Error(), "sizes none") {
		t.Errorf("a memory file that sizes no model: error %v, want one saying so", err)
	}
}

func TestCapRefusesBadInput(t *testing.T) {
	tr := trace(t, "1 0")
	tests := []struct {
		name string
		cfg  replay.Config
		want string
	}{
		{"no memory file", replay.Config{Cap: &replay.Cap{Devices: replay.SingleGPU(gib)}}, "needs model sizes"},
		{"no device", replay.Config{Memory: gibEach(1), Cap: &replay.Cap{}}, "at least one device"},
		{"a device used beyond its size", replay.Config{Memory: gibEach(1), Cap: &replay.Cap{Devices: []gpu.StaticDevice{{TotalBytes: gib, UsedBytes: 2 * gib}}}}, "0 <= used <= total"},
		{"a device of no memory", replay.Config{Memory: gibEach(1), Cap: &replay.Cap{Devices: []gpu.StaticDevice{{TotalBytes: gib}, {Name: "empty"}}}}, `GPU 1 ("empty"): total 0 bytes`},
		{"a device with negative use", replay.Config{Memory: gibEach(1), Cap: &replay.Cap{Devices: []gpu.StaticDevice{{TotalBytes: gib, UsedBytes: -1}}}}, "0 <= used <= total"},
		{"an unknown victim choice", replay.Config{Memory: gibEach(1), Cap: &replay.Cap{Devices: replay.SingleGPU(gib), Victims: "mru"}}, `victim choice "mru"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.DecisionInterval = 10 * time.Second
			if _, err := replay.Run(tr, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCapTakesAFullyUsedDeviceAsOneWithNoRoom(t *testing.T) {
	tr := trace(t, minutes(2, 1), minutes(2, 2))
	devs := []gpu.StaticDevice{{Name: "full", TotalBytes: gib, UsedBytes: gib}, {Name: "free", TotalBytes: gib}}
	r := run(t, tr, replay.Config{Policy: fixed(t, time.Hour), Memory: gibEach(2), Cap: &replay.Cap{Devices: devs, Victims: replay.VictimsLRU}})
	if r.ColdStarts != 2 || r.Evictions != 1 || r.GPUMemoryBytes != gib {
		t.Errorf("cold %d, evictions %d, cap %d bytes; want 2, 1 (the second model evicts the first: the full GPU takes nothing), %d", r.ColdStarts, r.Evictions, r.GPUMemoryBytes, gib)
	}
}

// Ollama's choice (VictimsShortestKeepAlive) looks at keep-alives, then names, never at use.
func TestShortestKeepAliveGoesFirstThenTheLowerName(t *testing.T) {
	// f2 and f1 load at 1 and 2 (room for two); f3 at 3 evicts one; f1 and f2 come back at 4.
	rows := []string{minutes(4, 2, 4), minutes(4, 1, 4), minutes(4, 3)}
	tests := []struct {
		name      string
		keepAlive func(string) time.Duration
		// evicted is the model the newcomer evicted: it comes back cold at 4.
		evicted string
	}{
		{"equal keep-alives (none given): the lower name goes, though it was used more recently", nil, "f1"},
		{"the shorter keep-alive goes first", func(m string) time.Duration {
			if m == "f2" {
				return time.Minute
			}
			return time.Hour
		}, "f2"},
		{"of equal keep-alives the lower name goes", func(string) time.Duration { return time.Hour }, "f1"},
		{"keep-alives of weeks all count as the longest: the lower name goes", func(m string) time.Duration {
			if m == "f1" {
				return 700 * time.Hour
			}
			return 600 * time.Hour
		}, "f1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, trace(t, rows...), replay.Config{Policy: fixed(t, time.Hour), Memory: gibEach(3),
				Cap: &replay.Cap{Devices: replay.SingleGPU(2 * gib), Victims: replay.VictimsShortestKeepAlive, KeepAlive: tt.keepAlive}})
			// f1, f2, f3 cold; at 4 the evicted one is cold again and, with no room, evicts another.
			if r.Evictions != 2 || r.ColdStartsAfterEviction != 1 {
				t.Fatalf("evictions %d, cold after eviction %d; want 2 and 1", r.Evictions, r.ColdStartsAfterEviction)
			}
			// Which one: run again with the evicted model's return removed; then nothing comes back cold.
			kept := map[string]int{"f1": 1, "f2": 0}[tt.evicted] // the other one's row
			rows2 := slices.Clone(rows)
			rows2[kept] = []string{minutes(4, 2), minutes(4, 1)}[kept]
			r2 := run(t, trace(t, rows2...), replay.Config{Policy: fixed(t, time.Hour), Memory: gibEach(3),
				Cap: &replay.Cap{Devices: replay.SingleGPU(2 * gib), Victims: replay.VictimsShortestKeepAlive, KeepAlive: tt.keepAlive}})
			if r2.ColdStartsAfterEviction != 1 {
				t.Errorf("with only %s returning at 4: %d cold after eviction, want 1 (%s was the victim)", tt.evicted, r2.ColdStartsAfterEviction, tt.evicted)
			}
		})
	}
}
