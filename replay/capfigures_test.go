//go:build !race && !mutation

// The brain's victim choice against the baselines under a GPU memory cap, on the tuning half of
// the Azure trace: 25 day-long replays, about 40 s of CPU, too slow for the race detector, and for
// a mutation run, which would run it once per mutant (make mutation builds with the tag
// "mutation"). TestCapEvictsToMakeRoom covers the semantics on small traces.

package replay_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/modelium/brain/replay"
)

func TestBrainVictimsBeatEveryBaselineOnRows1To500(t *testing.T) {
	tr, err := replay.ReadTraceFile(azureDir+"1000_inv.csv", replay.Rows{First: 1, Last: 500})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := replay.ReadMemoryFile(azureDir + "1000_mem.csv")
	if err != nil {
		t.Fatal(err)
	}
	sizes, _, err := replay.ModelSizes(tr, mem)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range sizes {
		total += b
	}
	tests := []struct {
		keepAlive time.Duration
		shares    []int // caps: room for this percentage of the models' total size
	}{
		// Models stay until evicted (a cache, as in ModelMesh and LocalAI): every cap binds.
		{24 * time.Hour, []int{10, 25, 50}},
		// The seed's 5-minute keep-alive: at 50 % nothing is ever evicted (see the next test).
		{5 * time.Minute, []int{10, 25}},
	}
	for _, tt := range tests {
		for _, share := range tt.shares {
			t.Run(fmt.Sprintf("keep-alive %s, room for %d%%", tt.keepAlive, share), func(t *testing.T) {
				capBytes := (total*int64(share) + 99) / 100
				cold := map[replay.Victims]int64{}
				for _, v := range replay.AllVictims {
					r := run(t, tr, replay.Config{Policy: fixed(t, tt.keepAlive), Memory: mem,
						Cap: &replay.Cap{Devices: replay.SingleGPU(capBytes), Victims: v}})
					cold[v] = r.ColdStarts
					t.Logf("%-20s cold %6d  evictions %6d  idle model-minutes %7d", v, r.ColdStarts, r.Evictions, r.IdleModelMinutes)
				}
				for _, v := range replay.AllVictims[1:] {
					if cold[replay.VictimsBrain] >= cold[v] {
						t.Errorf("the brain's victims cost %d cold starts, %s %d: want fewer", cold[replay.VictimsBrain], v.Imitates(), cold[v])
					}
				}
			})
		}
	}
}

func TestRoomForHalfTheModelsNeverEvictsWithFiveMinutes(t *testing.T) {
	tr, err := replay.ReadTraceFile(azureDir+"1000_inv.csv", replay.Rows{First: 1, Last: 500})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := replay.ReadMemoryFile(azureDir + "1000_mem.csv")
	if err != nil {
		t.Fatal(err)
	}
	sizes, _, _ := replay.ModelSizes(tr, mem)
	var total int64
	for _, b := range sizes {
		total += b
	}
	r := run(t, tr, replay.Config{Policy: fixed(t, 5*time.Minute), Memory: mem, Cap: &replay.Cap{Devices: replay.SingleGPU((total + 1) / 2)}})
	// The uncapped figure of DESIGN.md: the cap never binds, every victim choice is moot.
	if r.Evictions != 0 || r.PlacementFailures != 0 || r.ColdStarts != 7647 {
		t.Errorf("%d evictions, %d without room, %d cold starts; want 0, 0 and the uncapped 7,647", r.Evictions, r.PlacementFailures, r.ColdStarts)
	}
}
