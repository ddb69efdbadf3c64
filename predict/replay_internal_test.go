//go:build !race

// The minute-level replay of whole trace halves: seconds, but far longer under the race detector.

package predict

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// minuteResult is what the exact minute-level semantics of the replay count (DESIGN.md, Replay).
type minuteResult struct{ Cold, Idle, Loads int }

// readBusy reads rows a..b (1-based) of an Azure Functions 2019 trace in the sampled layout
// (HashFunction,HashApp,HashOwner,minute_1,...) as busy minutes.
func readBusy(tb testing.TB, path string, a, b int) [][]bool {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	sc.Scan() // header
	var out [][]bool
	for row := 1; sc.Scan(); row++ {
		if row < a || row > b {
			continue
		}
		fs := strings.Split(sc.Text(), ",")[3:]
		bs := make([]bool, len(fs))
		for i, s := range fs {
			bs[i] = s != "0" && s != ""
		}
		out = append(out, bs)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// simulate replays busy minutes under want (whether the model is resident in minute m, knowing
// the busy minutes before m and whether it was loaded in m-1) with the replay's semantics: a
// request in minute m is warm iff m-1 was busy or resident; idle minutes are resident minutes
// without a request; loads are cold starts plus pre-warm loads.
func simulate(rows [][]bool, newModel func() (want func(m int64, loaded bool) bool, observe func(m int64))) minuteResult {
	var r minuteResult
	for _, busy := range rows {
		want, observe := newModel()
		loaded := false // resident or busy in the previous minute
		for m, b := range busy {
			w := want(int64(m), loaded)
			switch {
			case b:
				if !loaded {
					r.Cold++
					r.Loads++
				}
				observe(int64(m))
				loaded = true
			case w:
				r.Idle++
				if !loaded {
					r.Loads++
				}
				loaded = true
			default:
				loaded = false
			}
		}
	}
	return r
}

func fixedModel(t int64) func() (func(int64, bool) bool, func(int64)) {
	return func() (func(int64, bool) bool, func(int64)) {
		last := int64(-1)
		return func(m int64, _ bool) bool { return last >= 0 && m-last <= t }, func(m int64) { last = m }
	}
}

func predictiveModel(cfg Config) func() (func(int64, bool) bool, func(int64)) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	return func() (func(int64, bool) bool, func(int64)) {
		h := new(History)
		fallback := fixedModel(5)
		fw, fo := fallback()
		want := func(m int64, loaded bool) bool {
			if h.Gaps() < cfg.MinHistory {
				return fw(m, loaded)
			}
			w, _, _ := h.Want(m, loaded, &cfg)
			return w
		}
		return want, func(m int64) { h.Observe(m); fo(m) }
	}
}

const tracePath = "../testdata/traces/azure-functions-2019/1000_inv.csv"

// TestReplayMinutes prints the minute-level figures of the fixed keep-alives and the predictive
// policy on both halves of the trace, and pins that the predictive policy beats fixed 5 minutes
// on cold starts and idle model-minutes on the tuning half.
func TestReplayMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the trace")
	}
	for _, half := range []struct {
		name string
		a, b int
	}{{"rows 1-500", 1, 500}, {"rows 501-1000", 501, 1000}} {
		rows := readBusy(t, tracePath, half.a, half.b)
		fixed5 := simulate(rows, fixedModel(5))
		for _, k := range []int64{1, 2, 5, 10, 20, 30, 60} {
			r := simulate(rows, fixedModel(k))
			t.Logf("%s fixed %2d min: cold %6d idle %7d loads %6d", half.name, k, r.Cold, r.Idle, r.Loads)
		}
		p := simulate(rows, predictiveModel(Config{}))
		t.Logf("%s predictive:   cold %6d idle %7d loads %6d", half.name, p.Cold, p.Idle, p.Loads)
		if half.a == 1 && (p.Cold >= fixed5.Cold || p.Idle >= fixed5.Idle) {
			t.Errorf("%s: predictive %+v does not beat fixed 5 min %+v on both cold starts and idle", half.name, p, fixed5)
		}
	}
}
