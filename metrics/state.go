package metrics

// State is the lifecycle state of a model on one gateway. The values match the wire enum
// ModelState, so the server converts with State(pbState).
type State uint8

// Lifecycle states. StateUnknown is the zero value: the gateway never reported a state (it may
// have reported traffic).
const (
	StateUnknown State = iota
	StateLoading
	StateLoaded
	StateUnloading
	StateUnloaded
	StateFailed
)

// States lists the reportable states in wire order.
var States = [...]State{StateLoading, StateLoaded, StateUnloading, StateUnloaded, StateFailed}

var stateNames = [...]string{"unknown", "loading", "loaded", "unloading", "unloaded", "failed"}

// String returns the lowercase name used in Prometheus labels ("loaded").
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}

func (s State) valid() bool { return s >= StateLoading && s <= StateFailed }

// expected[from] is the set of states that may follow from; the lifecycle is
// LOADING -> LOADED -> UNLOADING -> UNLOADED, and FAILED may end any active state.
//
//	from \ to   LOADING LOADED UNLOADING UNLOADED FAILED
//	unknown       yes    yes     yes       yes     yes   (first report, or a re-report after a restart)
//	loading       yes    yes     yes       yes     yes   (unloading/unloaded: the load was cancelled)
//	loaded         -     yes     yes       yes     yes   (unloaded: the runtime dropped it at once)
//	unloading      -      -      yes       yes     yes
//	unloaded      yes     -       -        yes      -
//	failed        yes     -      yes       yes     yes   (unloading/unloaded: cleaning up)
//
// Re-reporting the current state is always expected, so full-state re-reports converge.
var expected = [...]uint8{
	StateUnknown:   1<<StateLoading | 1<<StateLoaded | 1<<StateUnloading | 1<<StateUnloaded | 1<<StateFailed,
	StateLoading:   1<<StateLoading | 1<<StateLoaded | 1<<StateUnloading | 1<<StateUnloaded | 1<<StateFailed,
	StateLoaded:    1<<StateLoaded | 1<<StateUnloading | 1<<StateUnloaded | 1<<StateFailed,
	StateUnloading: 1<<StateUnloading | 1<<StateUnloaded | 1<<StateFailed,
	StateUnloaded:  1<<StateLoading | 1<<StateUnloaded,
	StateFailed:    1<<StateLoading | 1<<StateUnloading | 1<<StateUnloaded | 1<<StateFailed,
}

// ExpectedTransition reports whether a model may go from one state to the next on a gateway (the
// table is in the source of this function's package, state.go).
func ExpectedTransition(from, to State) bool {
	return int(from) < len(expected) && to.valid() && expected[from]&(1<<to) != 0
}
