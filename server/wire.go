package server

import (
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/recommend"
)

// wire is an event's messages on both recommendation streams. The hub makes one per event when it
// is published (a small shell); the messages are built by the first sender that needs them, outside
// every lock, and shared by every other subscriber (marshalling a message concurrently is safe;
// nobody modifies it once built). An event no subscriber ever sends is never built: the evaluation
// cycle pays for the shell only.
type wire struct {
	ev *recommend.Event
	// opening is, for a withdrawal, the wire of the event that opened its recommendation (nil if
	// the hub never saw it), whose recommendation message the withdrawal shares.
	opening *wire
	epoch   string
	built   atomic.Pointer[messages]
}

// messages are an event's messages on the two streams.
type messages struct {
	// unload is the WatchUnloadRecommendations message; nil for an event of another kind.
	unload *brainv1.WatchUnloadRecommendationsResponse
	// all is the WatchRecommendations message.
	all *brainv1.WatchRecommendationsResponse
}

// The messages of an event, each set in one allocation: a cycle may publish 100,000 events. The
// recommendation inside is shared by both streams' messages and by its withdrawal's.
type (
	unloadRecommended struct {
		msgs messages
		um   brainv1.WatchUnloadRecommendationsResponse
		uo   brainv1.WatchUnloadRecommendationsResponse_Recommended
		am   brainv1.WatchRecommendationsResponse
		ao   brainv1.WatchRecommendationsResponse_Recommended
		r    brainv1.Recommendation
		rk   brainv1.Recommendation_Unload
		rec  brainv1.UnloadRecommendation
		ts   timestamppb.Timestamp
	}
	loadRecommended struct {
		msgs messages
		am   brainv1.WatchRecommendationsResponse
		ao   brainv1.WatchRecommendationsResponse_Recommended
		r    brainv1.Recommendation
		rk   brainv1.Recommendation_Load
		rec  brainv1.LoadRecommendation
		ts   timestamppb.Timestamp
	}
	unloadWithdrawn struct {
		msgs messages
		um   brainv1.WatchUnloadRecommendationsResponse
		uo   brainv1.WatchUnloadRecommendationsResponse_Withdrawn
		uwd  brainv1.UnloadWithdrawal
		am   brainv1.WatchRecommendationsResponse
		ao   brainv1.WatchRecommendationsResponse_Withdrawn
		wd   brainv1.Withdrawal
		ts   timestamppb.Timestamp
	}
	loadWithdrawn struct {
		msgs messages
		am   brainv1.WatchRecommendationsResponse
		ao   brainv1.WatchRecommendationsResponse_Withdrawn
		wd   brainv1.Withdrawal
		ts   timestamppb.Timestamp
	}
)

// newWire is the hub's Encode (see recommend.HubConfig): it only makes the shell.
func newWire(epoch string) func(ev *recommend.Event, opening *wire) *wire {
	return func(ev *recommend.Event, opening *wire) *wire {
		return &wire{ev: ev, opening: opening, epoch: epoch}
	}
}

// messages returns the event's messages, building them on first use. Two senders may build them
// at once; one result wins and the other is dropped.
func (w *wire) messages() *messages {
	if m := w.built.Load(); m != nil {
		return m
	}
	if m := w.build(); w.built.CompareAndSwap(nil, m) {
		return m
	}
	return w.built.Load()
}

// optionalTimestamp is nil for the zero time (a field left unset).
func optionalTimestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func (w *wire) unloadMessage() *brainv1.WatchUnloadRecommendationsResponse {
	return w.messages().unload
}
func (w *wire) allMessage() *brainv1.WatchRecommendationsResponse { return w.messages().all }

var withdrawalCauses = [...]brainv1.WithdrawalCause{
	recommend.CauseUnspecified:    brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_UNSPECIFIED,
	recommend.CauseTrafficResumed: brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_TRAFFIC_RESUMED,
	recommend.CauseModelUnloaded:  brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_MODEL_UNLOADED,
	recommend.CausePinned:         brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_PINNED,
	recommend.CausePolicyChanged:  brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_POLICY_CHANGED,
	recommend.CauseModelLoaded:    brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_MODEL_LOADED,
}

func withdrawalCause(c recommend.Cause) brainv1.WithdrawalCause {
	if int(c) < len(withdrawalCauses) {
		return withdrawalCauses[c]
	}
	return brainv1.WithdrawalCause_WITHDRAWAL_CAUSE_UNSPECIFIED
}

// build makes the event's messages.
func (w *wire) build() *messages {
	ev, r := w.ev, w.ev.Rec
	var ts *timestamppb.Timestamp
	stamp := func(t *timestamppb.Timestamp) *timestamppb.Timestamp {
		t.Seconds, t.Nanos = ev.Time.Unix(), int32(ev.Time.Nanosecond())
		ts = t
		return t
	}
	// recommended is the recommendation's time: the envelope's when equal (a cycle's event).
	recommended := func() *timestamppb.Timestamp {
		if r.Time.Equal(ev.Time) {
			return ts
		}
		return timestamppb.New(r.Time)
	}
	if !ev.Withdrawn {
		switch r.Kind {
		case recommend.Unload:
			m := &unloadRecommended{}
			stamp(&m.ts)
			unloadRecommendation(&m.rec, r, recommended())
			m.uo.Recommended, m.um.Event = &m.rec, &m.uo
			m.rk.Unload, m.r.Kind = &m.rec, &m.rk
			m.ao.Recommended, m.am.Event = &m.r, &m.ao
			m.um.Epoch, m.um.Sequence, m.um.Time = w.epoch, ev.Seq, ts
			m.am.Epoch, m.am.Sequence, m.am.Time = w.epoch, ev.Seq, ts
			m.msgs.unload, m.msgs.all = &m.um, &m.am
			return &m.msgs
		default:
			m := &loadRecommended{}
			stamp(&m.ts)
			loadRecommendation(&m.rec, r, recommended())
			m.rk.Load, m.r.Kind = &m.rec, &m.rk
			m.ao.Recommended, m.am.Event = &m.r, &m.ao
			m.am.Epoch, m.am.Sequence, m.am.Time = w.epoch, ev.Seq, ts
			m.msgs.all = &m.am
			return &m.msgs
		}
	}
	// The withdrawn recommendation as it was sent: the opening event's, when the hub had it.
	var rec *brainv1.Recommendation
	if w.opening != nil {
		rec = w.opening.allMessage().GetRecommended()
	}
	if rec == nil {
		opened := &wire{ev: &recommend.Event{Seq: ev.Seq, Time: r.Time, Rec: r}, epoch: w.epoch}
		rec = opened.allMessage().GetRecommended()
	}
	cause := withdrawalCause(ev.Cause)
	switch r.Kind {
	case recommend.Unload:
		m := &unloadWithdrawn{}
		stamp(&m.ts)
		m.uwd.Recommendation, m.uwd.Cause, m.uwd.Reason = rec.GetUnload(), cause, ev.Reason
		m.uo.Withdrawn, m.um.Event = &m.uwd, &m.uo
		m.wd.Recommendation, m.wd.Cause, m.wd.Reason = rec, cause, ev.Reason
		m.ao.Withdrawn, m.am.Event = &m.wd, &m.ao
		m.um.Epoch, m.um.Sequence, m.um.Time = w.epoch, ev.Seq, ts
		m.am.Epoch, m.am.Sequence, m.am.Time = w.epoch, ev.Seq, ts
		m.msgs.unload, m.msgs.all = &m.um, &m.am
		return &m.msgs
	default:
		m := &loadWithdrawn{}
		stamp(&m.ts)
		m.wd.Recommendation, m.wd.Cause, m.wd.Reason = rec, cause, ev.Reason
		m.ao.Withdrawn, m.am.Event = &m.wd, &m.ao
		m.am.Epoch, m.am.Sequence, m.am.Time = w.epoch, ev.Seq, ts
		m.msgs.all = &m.am
		return &m.msgs
	}
}

func unloadRecommendation(m *brainv1.UnloadRecommendation, r *recommend.Recommendation, at *timestamppb.Timestamp) {
	m.ModelName, m.GatewayId, m.GpuUuid, m.Runtime = r.Model, r.Gateway, r.GPUUUID, r.Runtime
	m.Rule, m.Reason, m.IdleSeconds, m.Qps = r.Rule, r.Reason, r.IdleSeconds, r.QPS
	m.MemoryBytes, m.RecommendedTime = r.MemoryBytes, at
	m.ExpectedNextRequestTime, m.Confidence = optionalTimestamp(r.NextRequest), r.Confidence
}

func loadRecommendation(m *brainv1.LoadRecommendation, r *recommend.Recommendation, at *timestamppb.Timestamp) {
	m.ModelName, m.GatewayId, m.GpuUuid, m.Runtime = r.Model, r.Gateway, r.GPUUUID, r.Runtime
	m.Rule, m.Reason, m.IdleSeconds = r.Rule, r.Reason, r.IdleSeconds
	m.MemoryBytes, m.RecommendedTime = r.MemoryBytes, at
	m.ExpectedNextRequestTime, m.Confidence = optionalTimestamp(r.NextRequest), r.Confidence
}
