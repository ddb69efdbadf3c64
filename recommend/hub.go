package recommend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelium/brain/metrics"
)

// The hub fans the engine's events out to subscribers, borrowing the slow-watcher discipline of
// etcd's watchable_store: publishing never waits for a subscriber.
//
// Events carry the engine's sequence. The hub keeps the open recommendations (for snapshots) and a
// ring of the last N events (for exact replay on resume). Each subscriber has its own queue,
// drained by its own sender ([Subscriber.Run]):
//
//   - A subscriber that keeps up receives every event that passes its filter, in sequence order,
//     each once.
//   - When its queue holds QueueSize events, later events coalesce per key (kind, gateway,
//     model): the latest pending event for a key replaces the older one and moves to the end of
//     the queue, so the queue stays in sequence order, no event is sent twice, and applying the
//     stream still yields the true set of open recommendations. Coalescing leaves gaps in the
//     sequence (as filters do) and may send a withdrawal whose recommendation the subscriber never
//     saw: a subscriber ignores a withdrawal of a recommendation it does not hold.
//   - A subscriber that still has more than MaxPending events pending when the next events are
//     published is cut off: its sender returns a *SlowSubscriberError saying from which sequence
//     to resume.
//
// A resume inside the retained window replays exactly the events after the cursor that pass the
// filter, uncoalesced; outside it (or with another epoch) the subscriber gets a reset and a fresh
// snapshot. Heartbeats and the snapshot's end carry the sequence the stream is complete up to: a
// subscriber that resumes from it misses nothing.

// HubConfig configures a Hub carrying wire messages of type M.
type HubConfig[M any] struct {
	// Epoch names this sequence space (random per process start): a cursor of another epoch
	// cannot be resumed.
	Epoch string
	// Window is how many recent events are kept for exact replay on resume.
	Window int
	// QueueSize is how many events may wait for one subscriber before they coalesce per key.
	QueueSize int
	// MaxPending: a subscriber with more events than this still pending when the next ones are
	// published is cut off.
	MaxPending int
	// Encode builds the wire message of an event, once, when it is published: every subscriber
	// shares it, so it must not be modified afterwards. For a withdrawal, opening is the message
	// of the event that opened the recommendation (zero if the hub never saw it), so that the
	// withdrawal can share its parts. It is called with the hub's lock held, one event at a time.
	Encode func(ev *Event, opening M) M
	// Recorder gets the number of subscribers (nil: nothing).
	Recorder *metrics.Recorder
}

// item is an event with its wire message; a nil ev is a slot that coalescing emptied.
type item[M any] struct {
	ev  *Event
	msg M
}

// Hub fans events out to subscribers. It is a [Sink]. It is safe for concurrent use.
type Hub[M any] struct {
	cfg HubConfig[M]

	mu        sync.Mutex
	seq       uint64    // last published sequence
	ring      []item[M] // retained window: ring[(start+i)%len] for i < n, oldest first
	ringStart int
	ringLen   int
	open      map[Key]item[M] // open recommendations: the event that opened each
	subs      map[*Subscriber[M]]struct{}
	buf       []item[M] // Publish's, reused
	closed    bool      // Close was called: every subscriber is stopped
}

// NewHub returns a hub with no subscribers. A Window, QueueSize or MaxPending below 1 is taken as 1.
func NewHub[M any](cfg HubConfig[M]) *Hub[M] {
	cfg.Window, cfg.QueueSize, cfg.MaxPending = max(cfg.Window, 1), max(cfg.QueueSize, 1), max(cfg.MaxPending, 1)
	return &Hub[M]{
		cfg:  cfg,
		ring: make([]item[M], cfg.Window),
		open: make(map[Key]item[M]),
		subs: make(map[*Subscriber[M]]struct{}),
	}
}

// Epoch is the hub's epoch.
func (h *Hub[M]) Epoch() string { return h.cfg.Epoch }

// Filter selects the events a subscriber receives; an empty field selects everything.
type Filter struct {
	gateway string
	// Allowed, when set, selects only the gateways it admits (the caller's, under authorization).
	Allowed func(gateway string) bool
	models  map[string]struct{}
	gpus    map[string]struct{}
	kinds   uint8 // bit k set: Kind k selected; 0: all
}

// NewFilter selects the events of one gateway (empty: all), of some models, of some GPUs and of
// some kinds (each empty: all).
func NewFilter(gateway string, models, gpus []string, kinds []Kind) Filter {
	f := Filter{gateway: gateway}
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
	for _, k := range kinds {
		f.kinds |= 1 << k
	}
	return f
}

// Match reports whether the filter selects ev.
func (f *Filter) Match(ev *Event) bool {
	r := ev.Rec
	if f.kinds != 0 && f.kinds&(1<<r.Kind) == 0 {
		return false
	}
	if f.gateway != "" && f.gateway != r.Gateway || f.Allowed != nil && !f.Allowed(r.Gateway) {
		return false
	}
	if f.models != nil {
		if _, ok := f.models[r.Model]; !ok {
			return false
		}
	}
	if f.gpus != nil {
		if _, ok := f.gpus[r.GPUUUID]; !ok {
			return false
		}
	}
	return true
}

// OutKind says what an [Out] is.
type OutKind uint8

// Kinds of message a subscriber is sent.
const (
	// OutEvent is a published event (live, replayed, or an open recommendation of a snapshot).
	OutEvent OutKind = iota + 1
	// OutReset says the resume cursor could not be used: a fresh snapshot follows.
	OutReset
	// OutSnapshotEnd ends a snapshot; live events follow.
	OutSnapshotEnd
	// OutHeartbeat shows that a quiet stream is alive.
	OutHeartbeat
)

// Out is one message for one subscriber.
type Out[M any] struct {
	Kind OutKind
	// Msg is the event's shared wire message (OutEvent).
	Msg M
	// Seq is the event's sequence (OutEvent; in a snapshot, that of the event that opened the
	// recommendation), or the sequence the stream is complete up to (every other kind).
	Seq uint64
	// Reason says why a reset happened (OutReset).
	Reason string
	// Open is the number of recommendations the snapshot held (OutSnapshotEnd).
	Open int
}

// Subscriber is one open stream. The hub pushes into its queue; [Subscriber.Run] sends.
type Subscriber[M any] struct {
	hub *Hub[M]
	f   Filter

	// initial is sent before anything from the queue: a snapshot (with its reset and end marker)
	// or the replay of a resume. It is owned by Run.
	initial []Out[M]
	// initialThrough is the sequence the stream is complete up to once initial is sent.
	initialThrough uint64
	// replaying is true when initial replays events of a resume rather than a snapshot.
	replaying bool

	mu      sync.Mutex
	queue   []item[M] // pending, in sequence order; ev nil where an event was coalesced away
	live    int       // non-nil entries of queue
	index   map[Key]int
	through uint64 // the hub's sequence when the queue was last pushed to

	wake chan struct{} // capacity 1: the queue has something
	cut  chan struct{} // closed when the hub cuts the subscriber off
	stop chan struct{} // closed when the hub is closed (the brain is shutting down)

	// delivered is the sequence the client is complete up to (every event up to it that passes
	// the filter was sent); 0 while a snapshot is still being sent.
	delivered atomic.Uint64
}

// Outcome says how a subscription started.
type Outcome int

// Outcomes of Subscribe.
const (
	// Fresh: no cursor was given; a snapshot is sent.
	Fresh Outcome = iota
	// Resumed: the cursor was usable; the events after it are replayed.
	Resumed
	// Reset: the cursor was not usable; a reset and a snapshot are sent.
	Reset
)

// Subscribe registers a subscriber and prepares what it is sent first: with a usable resume cursor
// (this epoch, inside the window) the missed events; otherwise, after a reset when a cursor was
// given (resumeEpoch not empty), a snapshot of the open recommendations and its end. The caller
// must call Unsubscribe when the stream ends.
func (h *Hub[M]) Subscribe(f Filter, resumeEpoch string, after uint64) (*Subscriber[M], Outcome) {
	s := &Subscriber[M]{
		hub:  h,
		f:    f,
		wake: make(chan struct{}, 1),
		cut:  make(chan struct{}),
		stop: make(chan struct{}),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.stop)
	}
	outcome := Fresh
	if resumeEpoch != "" {
		if reason := h.resumeProblem(resumeEpoch, after); reason != "" {
			outcome = Reset
			s.initial = append(s.initial, Out[M]{Kind: OutReset, Seq: h.seq, Reason: reason})
		} else {
			outcome = Resumed
		}
	}
	if outcome == Resumed {
		for i := range h.ringLen {
			it := h.ring[(h.ringStart+i)%len(h.ring)]
			if it.ev.Seq > after && f.Match(it.ev) {
				s.initial = append(s.initial, Out[M]{Kind: OutEvent, Msg: it.msg, Seq: it.ev.Seq})
			}
		}
		s.replaying = true
		s.delivered.Store(after)
	} else {
		snap := make([]item[M], 0, len(h.open))
		for _, it := range h.open {
			if f.Match(it.ev) {
				snap = append(snap, it)
			}
		}
		slices.SortFunc(snap, func(a, b item[M]) int { return cmp.Compare(a.ev.Seq, b.ev.Seq) })
		for _, it := range snap {
			s.initial = append(s.initial, Out[M]{Kind: OutEvent, Msg: it.msg, Seq: it.ev.Seq})
		}
		s.initial = append(s.initial, Out[M]{Kind: OutSnapshotEnd, Seq: h.seq, Open: len(snap)})
	}
	s.initialThrough, s.through = h.seq, h.seq
	h.subs[s] = struct{}{}
	h.cfg.Recorder.SetWatchSubscribers(len(h.subs))
	return s, outcome
}

// resumeProblem says why (epoch, after) cannot be resumed exactly, or "" when it can. The caller
// holds h.mu.
func (h *Hub[M]) resumeProblem(epoch string, after uint64) string {
	oldest := h.seq - uint64(h.ringLen) + 1 // the first retained event (h.seq+1 when none is)
	switch {
	case epoch != h.cfg.Epoch:
		return fmt.Sprintf("epoch %s is not this brain's (it restarted): drop your view; a fresh snapshot follows", epoch)
	case after > h.seq:
		return fmt.Sprintf("sequence %d is ahead of this brain's latest %d: drop your view; a fresh snapshot follows", after, h.seq)
	case after+1 < oldest:
		return fmt.Sprintf("sequence %d is older than the retained window (events %d to %d): drop your view; a fresh snapshot follows", after, oldest, h.seq)
	}
	return ""
}

// Unsubscribe removes a subscriber whose stream ended.
func (h *Hub[M]) Unsubscribe(s *Subscriber[M]) {
	h.mu.Lock()
	delete(h.subs, s)
	h.cfg.Recorder.SetWatchSubscribers(len(h.subs))
	h.mu.Unlock()
}

// Close stops every subscriber, now and later: their Run returns ErrStopped (the brain is shutting
// down). Each subscriber has a stop channel of its own, so that a thousand senders waiting for
// events never contend on one shared channel.
func (h *Hub[M]) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		close(s.stop)
	}
}

// Sequence is the last published sequence.
func (h *Hub[M]) Sequence() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// Publish records evs (numbered by the engine, in increasing order), encodes each once and hands
// them to every subscriber. It never waits for a subscriber.
func (h *Hub[M]) Publish(evs []*Event) {
	if len(evs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	items := h.pending(len(evs))
	for i, ev := range evs {
		key := ev.Key()
		var opening M
		if ev.Withdrawn {
			opening = h.open[key].msg
		}
		it := item[M]{ev: ev, msg: h.cfg.Encode(ev, opening)}
		items[i] = it
		h.seq = ev.Seq
		if ev.Withdrawn {
			delete(h.open, key)
		} else {
			h.open[key] = it
		}
		h.retain(it)
	}
	for s := range h.subs {
		if !s.push(items, h.seq) {
			delete(h.subs, s)
		}
	}
	clear(items)
	h.cfg.Recorder.SetWatchSubscribers(len(h.subs))
}

// pending returns a reusable buffer of n items. The caller holds h.mu.
func (h *Hub[M]) pending(n int) []item[M] {
	if cap(h.buf) < n {
		h.buf = make([]item[M], n)
	}
	return h.buf[:n]
}

// retain adds it to the ring, dropping the oldest event when it is full. The caller holds h.mu.
func (h *Hub[M]) retain(it item[M]) {
	if h.ringLen < len(h.ring) {
		h.ring[(h.ringStart+h.ringLen)%len(h.ring)] = it
		h.ringLen++
		return
	}
	h.ring[h.ringStart] = it
	h.ringStart = (h.ringStart + 1) % len(h.ring)
}

// push queues the items that pass the filter, coalescing past QueueSize. A subscriber that still
// has more than MaxPending events pending from earlier publications is cut off instead, and push
// returns false; so one large publication (every model going idle at once) never cuts off a
// subscriber that keeps up. The caller holds h.mu.
func (s *Subscriber[M]) push(items []item[M], through uint64) bool {
	cfg := &s.hub.cfg
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live > cfg.MaxPending {
		s.queue, s.index, s.live = nil, nil, 0
		close(s.cut)
		return false
	}
	queued := false
	for _, it := range items {
		if !s.f.Match(it.ev) {
			continue
		}
		key := it.ev.Key()
		if s.live >= cfg.QueueSize {
			if s.index == nil {
				s.buildIndex()
			}
			if i, ok := s.index[key]; ok {
				s.queue[i] = item[M]{}
				s.live--
			}
		}
		if s.index != nil {
			s.index[key] = len(s.queue)
		}
		s.queue = append(s.queue, it)
		s.live++
		queued = true
		if s.index != nil && len(s.queue) > 2*max(s.live, cfg.QueueSize) {
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
func (s *Subscriber[M]) buildIndex() {
	s.index = make(map[Key]int, len(s.queue))
	for i, it := range s.queue {
		if it.ev != nil {
			s.index[it.ev.Key()] = i
		}
	}
}

// compact drops the slots that coalescing emptied, so that a stalled subscriber's queue stays
// bounded by its live events (amortised: it runs once the queue is twice their number). The caller
// holds s.mu.
func (s *Subscriber[M]) compact() {
	q := s.queue[:0]
	for _, it := range s.queue {
		if it.ev != nil {
			q = append(q, it)
		}
	}
	clear(s.queue[len(q):])
	s.queue = q
	s.buildIndex()
}

// take hands the pending items to the sender, swapping in buf (emptied) as the new queue, and says
// up to which sequence the stream is complete once they are sent; ok is false once the subscriber
// is cut off (its queue was dropped, so through says nothing).
func (s *Subscriber[M]) take(buf []item[M]) (q []item[M], through uint64, ok bool) {
	clear(buf)
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.cut:
		return buf[:0], 0, false
	default:
	}
	q = s.queue
	s.queue, s.live, s.index = buf[:0], 0, nil
	return q, s.through, true
}

// ErrStopped is Run's answer once the hub is closed (the brain is shutting down).
var ErrStopped = errors.New("the recommendation stream was stopped: the brain is shutting down")

// Run is the subscriber's sender, run by the stream's own goroutine: it sends the initial messages
// (a snapshot and its end, after a reset if any; or the replay of a resume), then whatever the hub
// queued, and a heartbeat on every tick of heartbeat once the queue is sent. send is called from
// this goroutine only, in order; Out is passed by value and its Msg is shared (never modify it).
//
// Run returns the first error of send; ctx's error when ctx is done; ErrStopped once the hub is closed;
// and a *SlowSubscriberError when the hub cut the subscriber off, with the sequence the client is
// complete up to at that moment (exact: nothing is sent after it). It checks ctx, Close and the
// cut-off before every send, so that it never sends after any of them; but it cannot interrupt a
// send in progress: a send blocked by a client that stopped reading returns when the client reads
// again or goes away (or its connection is closed). The caller returns only after Run returns, so
// that nothing is sent on a stream whose call has ended.
func (s *Subscriber[M]) Run(ctx context.Context, heartbeat <-chan time.Time, send func(Out[M]) error) error {
	done := ctx.Done()
	// check is three one-channel non-blocking receives: each is lock-free while its channel is
	// open, where one select over the three would lock them all, before every send.
	check := func() error {
		select {
		case <-s.cut:
			return s.slowError()
		default:
		}
		select {
		case <-s.stop:
			return ErrStopped
		default:
		}
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		return nil
	}
	for i := range s.initial {
		if err := check(); err != nil {
			return err
		}
		o := s.initial[i]
		if err := send(o); err != nil {
			return err
		}
		if s.replaying && o.Kind == OutEvent {
			s.delivered.Store(o.Seq)
		}
	}
	s.delivered.Store(s.initialThrough)
	s.initial = nil

	var batch []item[M]
	for {
		beat := false
		select {
		case <-done:
			return ctx.Err()
		case <-s.stop:
			return ErrStopped
		case <-s.cut:
			return s.slowError()
		case <-s.wake:
		case <-heartbeat:
			beat = true
		}
		var through uint64
		var ok bool
		if batch, through, ok = s.take(batch); !ok {
			return s.slowError()
		}
		for _, it := range batch {
			if it.ev == nil {
				continue
			}
			if err := check(); err != nil {
				return err
			}
			if err := send(Out[M]{Kind: OutEvent, Msg: it.msg, Seq: it.ev.Seq}); err != nil {
				return err
			}
			s.delivered.Store(it.ev.Seq)
		}
		s.delivered.Store(through)
		if beat {
			if err := check(); err != nil {
				return err
			}
			if err := send(Out[M]{Kind: OutHeartbeat, Seq: through}); err != nil {
				return err
			}
		}
	}
}

// Cut is closed when the hub cuts the subscriber off.
func (s *Subscriber[M]) Cut() <-chan struct{} { return s.cut }

func (s *Subscriber[M]) slowError() *SlowSubscriberError {
	return &SlowSubscriberError{Epoch: s.hub.cfg.Epoch, MaxPending: s.hub.cfg.MaxPending, Delivered: s.delivered.Load()}
}

// SlowSubscriberError ends the stream of a subscriber that fell more than MaxPending events
// behind; it says where to resume.
type SlowSubscriberError struct {
	Epoch      string
	MaxPending int
	// Delivered is the sequence the subscriber is complete up to; 0: it was cut off before its
	// snapshot was complete, and must start afresh.
	Delivered uint64
}

func (e *SlowSubscriberError) Error() string {
	if e.Delivered == 0 {
		return fmt.Sprintf("this subscriber fell more than %d events behind before its snapshot was complete and was cut off: reconnect without a resume cursor for a fresh snapshot, and read faster", e.MaxPending)
	}
	return fmt.Sprintf("this subscriber fell more than %d events behind and was cut off: reconnect with resume_epoch %q and resume_after_sequence %d (or the last sequence you received, if later)", e.MaxPending, e.Epoch, e.Delivered)
}
