package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// The watch fan-out benchmark. Every subscriber watches gatewayWatch. One round reports a model
// LOADED on it, with an observed time 10 s ago, so that it is idle past the bench config's 1 s at
// once: the next evaluation (every 100 ms) recommends it, and each subscriber's delivery latency
// is the time from the recommendation's recommended_time (the cycle's clock reading, before the
// evaluation ran) to the moment its Recv returned it. Both ends read the same clock.

const (
	fanoutPrefix   = "bench-fanout"
	backlogPrefix  = "bench-backlog"
	streamsPerConn = 50 // subscriber streams sharing one connection
)

// FanoutResult is one fan-out scenario.
type FanoutResult struct {
	Scenario    string `json:"scenario"`
	Subscribers int    `json:"subscribers"` // subscribers that read, and whose deliveries are measured
	Stalled     int    `json:"stalled"`     // subscribers that stopped reading
	// StalledBacklog is how many events each stalled subscriber had not read when the measured
	// rounds ran, and StalledBacklogBytes their wire size: well past the 64 KiB flow-control
	// window the stalled streams were given, so that the brain's sends to them were blocked.
	StalledBacklog      int   `json:"stalled_backlog_events,omitempty"`
	StalledBacklogBytes int64 `json:"stalled_backlog_bytes,omitempty"`
	// StalledOutcome is what the stalled subscribers saw when they read again after the rounds.
	StalledOutcome string `json:"stalled_outcome,omitempty"`
	Rounds         int    `json:"rounds"`
	Deliveries     int    `json:"deliveries"`
	// Over every delivery of every round, in milliseconds.
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
	MaxMillis float64 `json:"max_ms"`
	// AllReceived is, per round, the time until the last subscriber had it: the median and the
	// worst round.
	AllReceivedP50Millis float64 `json:"all_received_p50_ms"`
	AllReceivedMaxMillis float64 `json:"all_received_max_ms"`
}

// delivery is one subscriber's receipt of a fan-out recommendation.
type delivery struct {
	model   string
	latency time.Duration
}

// watchers are subscriber streams, each read by a goroutine of its own.
type watchers struct {
	conns  []*grpc.ClientConn
	once   sync.Once
	cancel context.CancelFunc
	wg     sync.WaitGroup
	failed atomic.Pointer[error] // the first stream that ended unexpectedly
}

// openWatchers subscribes n streams on gateway (all gateways if empty), perConn to a connection,
// and waits until each has its snapshot. Each reader calls onEvent with every recommended event
// after the snapshot and the time its Recv returned. With a stall channel, the readers stop
// reading after the snapshot until it is closed.
func openWatchers(ctx context.Context, addr string, n, perConn int, gateway string, opts []grpc.DialOption,
	onEvent func(*brainv1.WatchUnloadRecommendationsResponse, time.Time), stall <-chan struct{}) (*watchers, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watchers{cancel: cancel}
	var ready sync.WaitGroup
	for i := range n {
		if i%perConn == 0 {
			conn, err := dial(addr, opts...)
			if err != nil {
				w.Close()
				return nil, err
			}
			w.conns = append(w.conns, conn)
		}
		client := brainv1.NewBrainServiceClient(w.conns[len(w.conns)-1])
		ready.Add(1)
		w.wg.Go(func() {
			snapshotDone, stall := false, stall // each reader stalls once
			defer func() {
				if !snapshotDone {
					ready.Done()
				}
			}()
			stream, err := client.WatchUnloadRecommendations(ctx, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: gateway})
			if err != nil {
				w.fail(err)
				return
			}
			for {
				if snapshotDone && stall != nil {
					select {
					case <-stall:
						stall = nil
					case <-ctx.Done():
						return
					}
				}
				m, err := stream.Recv()
				at := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						w.fail(err)
					}
					return
				}
				switch {
				case m.GetSnapshotEnd() != nil:
					snapshotDone = true
					ready.Done()
				case snapshotDone && m.GetRecommended() != nil && onEvent != nil:
					onEvent(m, at)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { ready.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		w.Close()
		return nil, fmt.Errorf("%d subscribers did not all get their snapshot within 60 s", n)
	}
	if err := w.err(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *watchers) fail(err error) { w.failed.CompareAndSwap(nil, &err) }

func (w *watchers) err() error {
	if p := w.failed.Load(); p != nil {
		return fmt.Errorf("a subscriber's stream ended: %w", *p)
	}
	return nil
}

// Close cancels every stream and closes the connections.
func (w *watchers) Close() {
	w.once.Do(func() {
		w.cancel()
		w.wg.Wait()
		for _, c := range w.conns {
			c.Close()
		}
	})
}

// fanoutBench is the state of the fan-out benchmark: the reading subscribers and the deliveries
// they report.
type fanoutBench struct {
	addr      string
	client    brainv1.BrainServiceClient
	pool      *pool
	readers   *watchers
	got       chan delivery
	scenarios int // scenarios measured so far: each names its models apart
}

// newFanoutBench subscribes n readers on gatewayWatch.
func newFanoutBench(ctx context.Context, addr string, p *pool, n int) (*fanoutBench, error) {
	f := &fanoutBench{addr: addr, client: brainv1.NewBrainServiceClient(p.conns[0]), pool: p, got: make(chan delivery, 4*n)}
	var err error
	f.readers, err = openWatchers(ctx, addr, n, streamsPerConn, gatewayWatch, nil, func(m *brainv1.WatchUnloadRecommendationsResponse, at time.Time) {
		r := m.GetRecommended()
		if strings.HasPrefix(r.GetModelName(), fanoutPrefix) {
			f.got <- delivery{model: r.GetModelName(), latency: at.Sub(r.GetRecommendedTime().AsTime())}
		}
	}, nil)
	return f, err
}

func (f *fanoutBench) Close() { f.readers.Close() }

// measure runs rounds recommendations and collects every reader's delivery of each.
func (f *fanoutBench) measure(ctx context.Context, scenario string, rounds, want int) (FanoutResult, error) {
	res := FanoutResult{Scenario: scenario, Subscribers: want, Rounds: rounds}
	var all, slowest []time.Duration
	f.scenarios++
	for r := range rounds {
		model := fmt.Sprintf("%s-%d-%03d", fanoutPrefix, f.scenarios, r)
		lat, err := f.round(ctx, model, want)
		if err != nil {
			return res, fmt.Errorf("%s, round %d: %w", scenario, r+1, err)
		}
		all = append(all, lat...)
		slowest = append(slowest, slices.Max(lat))
	}
	slices.Sort(all)
	slices.Sort(slowest)
	res.Deliveries = len(all)
	res.P50Millis, res.P99Millis, res.MaxMillis = millis(percentile(all, 0.5)), millis(percentile(all, 0.99)), millis(percentile(all, 1))
	res.AllReceivedP50Millis, res.AllReceivedMaxMillis = millis(percentile(slowest, 0.5)), millis(percentile(slowest, 1))
	return res, nil
}

// round makes one recommendation and waits until want readers received it.
func (f *fanoutBench) round(ctx context.Context, model string, want int) ([]time.Duration, error) {
	if err := reportLoaded(ctx, f.client, gatewayWatch, model, 0, time.Now().Add(-10*time.Second)); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, want)
	timeout := time.After(10 * time.Second)
	for len(lat) < want {
		select {
		case d := <-f.got:
			if d.model == model {
				lat = append(lat, d.latency)
			}
		case <-timeout:
			return nil, fmt.Errorf("%d of %d subscribers received %s within 10 s (%v)", len(lat), want, model, f.readers.err())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return lat, nil
}

// stall subscribes n subscribers to every gateway that stop reading after their snapshot, each on a
// connection of its own with the smallest flow-control windows (64 KiB), then publishes backlog
// recommendations on gatewayBacklog, which only they (and a probe that reads them, to know when
// they are published) receive. Resume lets them read again; it reports what they then received.
func (f *fanoutBench) stall(ctx context.Context, n, backlog int) (resume func() string, bytes int64, err error) {
	release := make(chan struct{})
	var received atomic.Int64
	small := []grpc.DialOption{grpc.WithInitialWindowSize(64 << 10), grpc.WithInitialConnWindowSize(64 << 10)}
	stalled, err := openWatchers(ctx, f.addr, n, 1, "", small, func(*brainv1.WatchUnloadRecommendationsResponse, time.Time) {
		received.Add(1)
	}, release)
	if err != nil {
		return nil, 0, err
	}
	var probed atomic.Int64
	var size atomic.Int64
	probe, err := openWatchers(ctx, f.addr, 1, 1, gatewayBacklog, nil, func(m *brainv1.WatchUnloadRecommendationsResponse, _ time.Time) {
		if strings.HasPrefix(m.GetRecommended().GetModelName(), backlogPrefix) {
			probed.Add(1)
			size.Add(int64(proto.Size(m)))
		}
	}, nil)
	if err != nil {
		stalled.Close()
		return nil, 0, err
	}
	defer probe.Close()
	before := time.Now().Add(-10 * time.Second)
	if err := f.pool.each(ctx, backlog, func(ctx context.Context, c brainv1.BrainServiceClient, i int) error {
		return reportLoaded(ctx, c, gatewayBacklog, fmt.Sprintf("%s-%06d", backlogPrefix, i), i, before)
	}); err != nil {
		stalled.Close()
		return nil, 0, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for probed.Load() < int64(backlog) {
		if time.Now().After(deadline) {
			stalled.Close()
			return nil, 0, fmt.Errorf("the probe saw %d of the %d backlog recommendations within 30 s", probed.Load(), backlog)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resume = func() string {
		close(release)
		// Let them read until their streams go quiet, then see how many events reached them.
		last, quiet, giveUp := received.Load(), time.Now(), time.Now().Add(20*time.Second)
		for time.Since(quiet) < 500*time.Millisecond && time.Now().Before(giveUp) {
			time.Sleep(50 * time.Millisecond)
			if r := received.Load(); r != last {
				last, quiet = r, time.Now()
			}
		}
		defer stalled.Close()
		if err := stalled.err(); err != nil {
			if st, ok := status.FromError(errors.Unwrap(err)); ok {
				return fmt.Sprintf("cut with %s: %s", st.Code(), st.Message())
			}
			return "ended: " + err.Error()
		}
		return fmt.Sprintf("stayed open; reading again, each received %d events on average (the %d backlog recommendations and the rounds' ones)",
			last/int64(n), backlog)
	}
	return resume, size.Load(), nil
}

// reportLoaded reports model LOADED on gateway since at, on one of the eight static GPUs.
func reportLoaded(ctx context.Context, c brainv1.BrainServiceClient, gateway, model string, i int, at time.Time) error {
	_, err := c.ReportModelState(ctx, &brainv1.ReportModelStateRequest{
		GatewayId: gateway, ModelName: model, Runtime: "vllm", GpuUuid: fmt.Sprintf("static-GPU-%d", i%8),
		State: brainv1.ModelState_MODEL_STATE_LOADED, MemoryBytes: 16 << 30, ObservedTime: timestamppb.New(at),
	})
	if err != nil {
		return fmt.Errorf("report %s LOADED on %s: %w", model, gateway, err)
	}
	return nil
}

// each calls fn for i in [0, n), spread over the pool's workers.
func (p *pool) each(ctx context.Context, n int, fn func(ctx context.Context, c brainv1.BrainServiceClient, i int) error) error {
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for w := range p.workers {
		c := brainv1.NewBrainServiceClient(p.conn(w))
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || first.Load() != nil {
					return
				}
				if err := fn(ctx, c, i); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

func millis(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }
