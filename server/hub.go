package server

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
)

// The recommendation hub fans the evaluation loop's events out to WatchUnloadRecommendations
// subscribers, borrowing the slow-watcher discipline of etcd's watchable_store: publishing never
// waits for a subscriber.
//
// Every event gets the next sequence of this process's epoch. The hub keeps the open
// recommendations (for snapshots) and a ring of the last N events (for exact replay on resume).
// Each subscriber has its own queue, drained by its own sender goroutine:
//
//   - A subscriber that keeps up receives every event that passes its filters, in sequence order,
//     each once.
//   - When its queue holds QueueSize events, later events coalesce per (gateway, model): the
//     latest pending event for a key replaces the older one and moves to the end of the queue, so
//     the queue stays in sequence order, no event is sent twice, and applying the stream still
//     yields the true set of open recommendations. Coalescing leaves gaps in the sequence (as
//     filters do) and may send a withdrawal whose recommendation the subscriber never saw: a
//     subscriber ignores a withdrawal of a recommendation it does not hold.
//   - A subscriber that still has more than MaxPending events pending when the next events are
//     published is cut off: its stream ends with RESOURCE_EXHAUSTED, saying from which sequence to
//     resume.
//
// A resume inside the retained window replays exactly the events after the cursor that pass the
// filters, uncoalesced; outside it (or with another epoch) the subscriber gets a StreamReset and a
// fresh snapshot. Heartbeats and SnapshotEnd carry the sequence the stream is complete up to: a
// subscriber that resumes from it misses nothing.

// recKey identifies a recommendation: a model on a gateway.
type recKey struct{ gateway, model string }

// event is one published recommended or withdrawn event. msg is built once and shared by every
// subscriber (marshalling a message concurrently is safe; nobody modifies it once published).
type event struct {
	seq       uint64
	key       recKey
	gpu       string
	withdrawn bool
	msg       *brainv1.WatchUnloadRecommendationsResponse
}

type hubConfig struct {
	epoch      string
	now        func() time.Time
	recorder   *metrics.Recorder
	window     int // events retained for replay
	queueSize  int // pending events per subscriber before coalescing
	maxPending int // pending events per subscriber before it is cut off
}

type hub struct {
	cfg hubConfig

	mu        sync.Mutex
	seq       uint64   // last published sequence
	ring      []*event // retained window: ring[(start+i)%len] for i < n, oldest first
	ringStart int
	ringLen   int
	open      map[recKey]*event // open recommendations: the event that opened each
	subs      map[*subscriber]struct{}
}

func newHub(cfg hubConfig) *hub {
	return &hub{
		cfg:  cfg,
		ring: make([]*event, cfg.window),
		open: make(map[recKey]*event),
		subs: make(map[*subscriber]struct{}),
	}
}

// filter selects the events a subscriber receives; an empty field selects everything.
type filter struct {
	gateway string
	allowed func(gateway string) bool // the caller's gateways (authorization); nil for all
	models  map[string]struct{}
	gpus    map[string]struct{}
}

func newFilter(gateway string, models, gpus []string) filter {
	f := filter{gateway: gateway}
	set := func(names []string) map[string]struct{} {
		if len(names) == 0 {
			return nil
		}
		m := make(map[string]struct{}, len(names))
		for _, n := range names {
			m[n] = struct{}{}
		}
		return m
	}
	f.models, f.gpus = set(models), set(gpus)
	return f
}

func (f *filter) match(ev *event) bool {
	if f.gateway != "" && f.gateway != ev.key.gateway || f.allowed != nil && !f.allowed(ev.key.gateway) {
		return false
	}
	if f.models != nil {
		if _, ok := f.models[ev.key.model]; !ok {
			return false
		}
	}
	if f.gpus != nil {
		if _, ok := f.gpus[ev.gpu]; !ok {
			return false
		}
	}
	return true
}

// subscriber is one open stream. The hub pushes into queue under mu; the stream's sender
// goroutine takes the whole queue at once and sends it without holding any lock.
type subscriber struct {
	hub *hub
	f   filter

	// initial is sent before anything from the queue: a snapshot (with its reset and end
	// marker) or the replay of a resume. It is owned by the sender.
	initial []*brainv1.WatchUnloadRecommendationsResponse
	// initialThrough is the sequence the stream is complete up to once initial is sent.
	initialThrough uint64
	// replaying is true when initial replays events of a resume rather than a snapshot.
	replaying bool

	mu      sync.Mutex
	queue   []*event // pending, in sequence order; nil where an event was coalesced away
	live    int      // non-nil entries of queue
	index   map[recKey]int
	through uint64 // the hub's sequence when the queue was last pushed to
	cutErr  error

	wake chan struct{} // capacity 1: the queue has something
	cut  chan struct{} // closed when the hub cuts the subscriber off
	done chan struct{} // closed when the stream ends

	// delivered is the sequence the client is complete up to (every event up to it that passes
	// the filters was sent); 0 while a snapshot is still being sent.
	delivered atomic.Uint64
}

// resumeOutcome says how a subscription started.
type resumeOutcome int

const (
	startedFresh resumeOutcome = iota
	startedResumed
	startedReset
)

// subscribe registers a subscriber and prepares what it is sent first: with a usable resume
// cursor (this epoch, inside the window) the missed events; otherwise, after a StreamReset when a
// cursor was given, a snapshot of the open recommendations and a SnapshotEnd.
func (h *hub) subscribe(f filter, resumeEpoch string, after uint64) (*subscriber, resumeOutcome) {
	s := &subscriber{
		hub:  h,
		f:    f,
		wake: make(chan struct{}, 1),
		cut:  make(chan struct{}),
		done: make(chan struct{}),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := timestamppb.New(h.cfg.now())
	outcome := startedFresh
	if resumeEpoch != "" {
		if reason := h.resumeProblem(resumeEpoch, after); reason != "" {
			outcome = startedReset
			s.initial = append(s.initial, h.envelope(now, &brainv1.WatchUnloadRecommendationsResponse{
				Event: &brainv1.WatchUnloadRecommendationsResponse_StreamReset{StreamReset: &brainv1.StreamReset{Reason: reason}},
			}))
		} else {
			outcome = startedResumed
		}
	}
	if outcome == startedResumed {
		for i := range h.ringLen {
			ev := h.ring[(h.ringStart+i)%len(h.ring)]
			if ev.seq > after && f.match(ev) {
				s.initial = append(s.initial, ev.msg)
			}
		}
		s.replaying = true
		s.delivered.Store(after)
	} else {
		snap := make([]*event, 0, len(h.open))
		for _, ev := range h.open {
			if f.match(ev) {
				snap = append(snap, ev)
			}
		}
		slices.SortFunc(snap, func(a, b *event) int { return cmp.Compare(a.seq, b.seq) })
		for _, ev := range snap {
			s.initial = append(s.initial, ev.msg)
		}
		s.initial = append(s.initial, h.envelope(now, &brainv1.WatchUnloadRecommendationsResponse{
			Event: &brainv1.WatchUnloadRecommendationsResponse_SnapshotEnd{SnapshotEnd: &brainv1.SnapshotEnd{OpenRecommendations: int64(len(snap))}},
		}))
	}
	s.initialThrough, s.through = h.seq, h.seq
	h.subs[s] = struct{}{}
	h.cfg.recorder.SetWatchSubscribers(len(h.subs))
	return s, outcome
}

// resumeProblem says why (epoch, after) cannot be resumed exactly, or "" when it can. The caller
// holds h.mu.
func (h *hub) resumeProblem(epoch string, after uint64) string {
	oldest := h.seq - uint64(h.ringLen) + 1 // the first retained event (h.seq+1 when none is)
	switch {
	case epoch != h.cfg.epoch:
		return fmt.Sprintf("epoch %s is not this brain's (it restarted): drop your view; a fresh snapshot follows", epoch)
	case after > h.seq:
		return fmt.Sprintf("sequence %d is ahead of this brain's latest %d: drop your view; a fresh snapshot follows", after, h.seq)
	case after+1 < oldest:
		return fmt.Sprintf("sequence %d is older than the retained window (events %d to %d): drop your view; a fresh snapshot follows", after, oldest, h.seq)
	}
	return ""
}

// envelope stamps a per-subscriber message with the epoch, the current sequence and the time.
// The caller holds h.mu.
func (h *hub) envelope(now *timestamppb.Timestamp, m *brainv1.WatchUnloadRecommendationsResponse) *brainv1.WatchUnloadRecommendationsResponse {
	m.Epoch, m.Sequence, m.Time = h.cfg.epoch, h.seq, now
	return m
}

// unsubscribe removes a subscriber whose stream ended.
func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.cfg.recorder.SetWatchSubscribers(len(h.subs))
	h.mu.Unlock()
	close(s.done)
}

// sequence is the last published sequence.
func (h *hub) sequence() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// publish assigns sequences to evs (in order), records them and hands them to every subscriber.
// It never waits for a subscriber.
func (h *hub) publish(evs []*event) {
	if len(evs) == 0 {
		return
	}
	now := timestamppb.New(h.cfg.now())
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range evs {
		h.seq++
		ev.seq = h.seq
		ev.msg.Epoch, ev.msg.Sequence, ev.msg.Time = h.cfg.epoch, ev.seq, now
		if ev.withdrawn {
			delete(h.open, ev.key)
		} else {
			h.open[ev.key] = ev
		}
		h.retain(ev)
	}
	for s := range h.subs {
		if !s.push(evs, h.seq) {
			delete(h.subs, s)
		}
	}
	h.cfg.recorder.SetWatchSubscribers(len(h.subs))
}

// retain adds ev to the ring, dropping the oldest event when it is full. The caller holds h.mu.
func (h *hub) retain(ev *event) {
	if len(h.ring) == 0 {
		return
	}
	if h.ringLen < len(h.ring) {
		h.ring[(h.ringStart+h.ringLen)%len(h.ring)] = ev
		h.ringLen++
		return
	}
	h.ring[h.ringStart] = ev
	h.ringStart = (h.ringStart + 1) % len(h.ring)
}

// push queues the events that pass the filter, coalescing past queueSize. A subscriber that still
// has more than maxPending events pending from earlier publishes is cut off instead, and push
// returns false; so one large publish (every model going idle at once) never cuts off a
// subscriber that keeps up. The caller holds h.mu.
func (s *subscriber) push(evs []*event, through uint64) bool {
	cfg := &s.hub.cfg
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live > cfg.maxPending {
		s.cutOff()
		return false
	}
	queued := false
	for _, ev := range evs {
		if !s.f.match(ev) {
			continue
		}
		if s.live >= cfg.queueSize {
			if s.index == nil {
				s.buildIndex()
			}
			if i, ok := s.index[ev.key]; ok {
				s.queue[i] = nil
				s.live--
			}
		}
		if s.index != nil {
			s.index[ev.key] = len(s.queue)
		}
		s.queue = append(s.queue, ev)
		s.live++
		queued = true
		if s.index != nil && len(s.queue) > 2*max(s.live, cfg.queueSize) {
			s.compact()
		}
	}
	s.through = through
	if queued {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// buildIndex starts coalescing: it maps each key to its latest pending event. The caller holds s.mu.
func (s *subscriber) buildIndex() {
	s.index = make(map[recKey]int, len(s.queue))
	for i, ev := range s.queue {
		if ev != nil {
			s.index[ev.key] = i
		}
	}
}

// compact drops the slots that coalescing emptied, so that a stalled subscriber's queue stays
// bounded by its live events (amortised: it runs once the queue is twice their number). The caller
// holds s.mu.
func (s *subscriber) compact() {
	q := s.queue[:0]
	for _, ev := range s.queue {
		if ev != nil {
			q = append(q, ev)
		}
	}
	clear(s.queue[len(q):])
	s.queue = q
	s.buildIndex()
}

// cutOff ends the subscriber for falling behind. The caller holds s.mu.
func (s *subscriber) cutOff() {
	s.queue, s.index, s.live = nil, nil, 0
	s.cutErr = &slowSubscriberError{epoch: s.hub.cfg.epoch, maxPending: s.hub.cfg.maxPending, delivered: s.delivered.Load()}
	close(s.cut)
}

// take hands the pending events to the sender, swapping in buf (emptied) as the new queue, and
// says up to which sequence the stream is complete once they are sent.
func (s *subscriber) take(buf []*event) ([]*event, uint64) {
	clear(buf)
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue, s.live, s.index = buf[:0], 0, nil
	return q, s.through
}

// err is why the hub cut the subscriber off; valid once cut is closed.
func (s *subscriber) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cutErr
}

// slowSubscriberError ends the stream of a subscriber that fell more than maxPending events
// behind; it says where to resume.
type slowSubscriberError struct {
	epoch      string
	maxPending int
	delivered  uint64 // 0: cut off before its snapshot was complete
}

func (e *slowSubscriberError) Error() string {
	if e.delivered == 0 {
		return fmt.Sprintf("this subscriber fell more than %d events behind before its snapshot was complete and was cut off: reconnect without a resume cursor for a fresh snapshot, and read faster", e.maxPending)
	}
	return fmt.Sprintf("this subscriber fell more than %d events behind and was cut off: reconnect with resume_epoch %q and resume_after_sequence %d (or the last sequence you received, if later)", e.maxPending, e.epoch, e.delivered)
}

// status is RESOURCE_EXHAUSTED with an ErrorInfo that carries the resume cursor as metadata.
func (e *slowSubscriberError) status() error {
	st := status.New(codes.ResourceExhausted, e.Error())
	if d, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason: "WATCH_SUBSCRIBER_TOO_SLOW",
		Domain: ServiceName,
		Metadata: map[string]string{
			"resume_epoch":          e.epoch,
			"resume_after_sequence": strconv.FormatUint(e.delivered, 10),
		},
	}); err == nil {
		st = d
	}
	return st.Err()
}
