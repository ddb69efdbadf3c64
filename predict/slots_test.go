package predict_test

import (
	"sync"
	"testing"
	"time"

	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/rules"
)

// TestPairIDFindsTheSameHistoryAsTheNames holds Decide with a tracker pair ID (the cycle's way,
// through the policy's slots) to Decide without one (the lookup by names), where a slot could go
// stale: an ID that the tracker gives to another pair, a history forgotten and begun again, every
// history replaced from a state file, and an ID beyond the slots so far.
func TestPairIDFindsTheSameHistoryAsTheNames(t *testing.T) {
	p, err := predict.New(predict.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fixed := rules.DefaultUnloadPolicy()
	a, b := predict.Key{Gateway: gw, Model: "a"}, predict.Key{Gateway: gw, Model: "b"}
	observe := func(k predict.Key, minutes ...int) {
		for _, m := range minutes {
			p.Observe(k, minute(m).Add(30*time.Second))
		}
	}
	now := minute(40).Add(10 * time.Second)
	// decide asks with the ID and by names alone, and fails unless both answer the same; it
	// returns the answer. No LastRequest: nothing new is observed, so asking twice is the same.
	decide := func(step string, k predict.Key, id metrics.PairID) predict.Decision {
		t.Helper()
		in := predict.Input{Gateway: k.Gateway, UnloadInput: rules.UnloadInput{Model: k.Model, IdleSeconds: 60}, Loaded: true}
		byNames := p.Decide(fixed, in, now)
		in.ID = id
		byID := p.Decide(fixed, in, now)
		if byID != byNames {
			t.Errorf("%s: %v with ID %d decided %+v; by its names %+v", step, k, id, byID, byNames)
		}
		return byID
	}

	observe(a, 30, 32, 34, 36, 38) // every 2 minutes: 4 gaps
	observe(b, 3, 10, 17)          // every 7 minutes: 2 gaps
	first := decide("a, first", a, 1)
	if first.Gaps != 4 {
		t.Fatalf("a's decision %+v, want 4 gaps", first)
	}
	if got := decide("the ID given to b", b, 1); got.Gaps != 2 {
		t.Errorf("b under a's former ID decided with %d gaps, want b's 2", got.Gaps)
	}
	decide("a under another ID", a, 2)
	decide("a again under 1", a, 1)

	// A state file of a with 4 gaps; then a gets one more; then the file comes back.
	saved, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	observe(a, 39)
	if got := decide("a with one more gap", a, 1); got.Gaps != 5 {
		t.Fatalf("a after minute 39: %+v, want 5 gaps", got)
	}
	if err := p.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	if got := decide("a restored", a, 1); got.Gaps != 4 {
		t.Errorf("a after the state file came back decided with %d gaps, want the file's 4", got.Gaps)
	}

	// a forgotten, then seen once more: a new history with no gap yet.
	p.Forget(a)
	observe(a, 39)
	if got := decide("a begun again", a, 1); got.Gaps != 0 {
		t.Errorf("a after Forget and one request decided with %d gaps, want 0", got.Gaps)
	}
	decide("b under an ID far beyond the slots", b, 100_000)
	decide("b with no history kept under ID 1 before", b, 1)

	// The gateway forgotten: neither model keeps a history, under its ID or by names.
	other := predict.Key{Gateway: "another " + gw, Model: "a"}
	observe(other, 30, 35)
	if n := p.ForgetGateway(gw); n != 2 {
		t.Errorf("ForgetGateway(%q) = %d, want its 2 histories", gw, n)
	}
	if got := decide("a after its gateway was forgotten", a, 1); got.Gaps != 0 {
		t.Errorf("a after ForgetGateway decided with %d gaps, want none", got.Gaps)
	}
	if got := decide("b after its gateway was forgotten", b, 100_000); got.Gaps != 0 {
		t.Errorf("b after ForgetGateway decided with %d gaps, want none", got.Gaps)
	}
	if p.Len() != 1 || decide("the other gateway's a", other, 2).Gaps != 1 {
		t.Errorf("after ForgetGateway: %d histories; want the other gateway's one, with its gap", p.Len())
	}
	if n := p.ForgetGateway(gw); n != 0 {
		t.Errorf("forgetting %q again dropped %d histories", gw, n)
	}
}

// TestPairIDSlotsUnderConcurrentCycles asks from several goroutines about the same pairs under
// IDs that move between them and grow the slots, for the race detector, and checks the answers
// stay those by names. Nothing is observed or forgotten meanwhile, so both answers must agree.
func TestPairIDSlotsUnderConcurrentCycles(t *testing.T) {
	p, err := predict.New(predict.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fixed := rules.DefaultUnloadPolicy()
	keys := []predict.Key{{Gateway: gw, Model: "a"}, {Gateway: gw, Model: "b"}, {Gateway: gw, Model: "c"}}
	for i, k := range keys {
		for m := range 6 {
			p.Observe(k, minute(m*(i+2)).Add(30*time.Second))
		}
	}
	now := minute(30)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for r := range 200 {
				k := keys[(g+r)%len(keys)]
				id := metrics.PairID(1 + (r % 70)) // IDs move between keys and grow the slots
				in := predict.Input{Gateway: k.Gateway, UnloadInput: rules.UnloadInput{Model: k.Model, IdleSeconds: 60}, Loaded: true}
				want := p.Decide(fixed, in, now)
				in.ID = id
				if got := p.Decide(fixed, in, now); got != want {
					t.Errorf("%v with ID %d: %+v, by names %+v", k, id, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
