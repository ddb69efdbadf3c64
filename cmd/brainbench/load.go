package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// A call makes one RPC. Each worker gets calls of its own (its own client and request), so that
// workers share nothing but the connection.
type call func(ctx context.Context) error

// subject is one kind of call under load.
type subject struct {
	Name        string // short, for tables: "ChooseRuntime (name)"
	Method      string // the full gRPC method
	Description string
	Items       int // samples a call carries (ReportTraffic), else 0
	// newCall builds worker w's call on conn.
	newCall func(conn *grpc.ClientConn, w int) call
}

// pool is the client side of the load: conns connections, each shared by workersPerConn workers.
type pool struct {
	conns          []*grpc.ClientConn
	workers        int
	workersPerConn int
	// cpu reads the CPU time the brain and this process have used so far; nil reads nothing.
	cpu func() (brain, client time.Duration)
}

func dialPool(addr string, workers, workersPerConn int) (*pool, error) {
	p := &pool{workers: workers, workersPerConn: workersPerConn}
	for range (workers + workersPerConn - 1) / workersPerConn {
		conn, err := dial(addr)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.conns = append(p.conns, conn)
	}
	return p, nil
}

func dial(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	conn.Connect()
	return conn, nil
}

func (p *pool) Close() {
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *pool) conn(w int) *grpc.ClientConn { return p.conns[w/p.workersPerConn] }

// sample is what one slice of closed-loop load measured.
type sample struct {
	calls, errors       int64
	firstErr            error
	elapsed             time.Duration
	latencies           []time.Duration
	brainCPU, clientCPU time.Duration
}

// run drives s with every worker back to back (closed loop: each worker waits for its answer
// before the next call) for d, and measures every call.
func (p *pool) run(ctx context.Context, s subject, d time.Duration) sample {
	return p.runAt(ctx, s, d, 0)
}

// runAt is run with the workers paced to rate calls/s in all (0: unpaced): each worker calls at
// its own fixed schedule, rate/workers a second, offset from the others, and waits for its next
// slot when it is early. A late worker calls at once. Latency is measured from the call's start.
func (p *pool) runAt(ctx context.Context, s subject, d time.Duration, rate float64) sample {
	calls := make([]call, p.workers)
	for w := range calls {
		calls[w] = s.newCall(p.conn(w), w)
	}
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
		mu   sync.Mutex
		out  sample
	)
	var brain0, client0 time.Duration
	if p.cpu != nil {
		brain0, client0 = p.cpu()
	}
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w := range p.workers {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			var errs int64
			var firstErr error
			var every time.Duration
			next := start
			if rate > 0 {
				every = time.Duration(float64(p.workers) / rate * float64(time.Second))
				next = start.Add(every * time.Duration(w) / time.Duration(p.workers))
			}
			for !stop.Load() && ctx.Err() == nil {
				if every > 0 {
					if wait := time.Until(next); wait > 0 {
						time.Sleep(wait)
					}
					next = next.Add(every)
				}
				t0 := time.Now()
				err := calls[w](ctx)
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			mu.Lock()
			out.calls += int64(len(lat))
			out.errors += errs
			if out.firstErr == nil {
				out.firstErr = firstErr
			}
			out.latencies = append(out.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	if p.cpu != nil {
		brain1, client1 := p.cpu()
		out.brainCPU, out.clientCPU = brain1-brain0, client1-client0
	}
	return out
}

// Stats sums up the slices of one subject.
type Stats struct {
	Calls          int64   `json:"calls"`
	Errors         int64   `json:"errors"`
	Seconds        float64 `json:"seconds"`
	CallsPerSecond float64 `json:"calls_per_second"`
	ItemsPerSecond float64 `json:"items_per_second,omitempty"` // samples/s for ReportTraffic
	P50Micros      float64 `json:"p50_us"`
	P90Micros      float64 `json:"p90_us"`
	P99Micros      float64 `json:"p99_us"`
	MaxMicros      float64 `json:"max_us"`
	// Slices are the calls/s of each slice, in run order: their spread shows the drift.
	Slices []float64 `json:"slice_calls_per_second"`
	// BrainCPUMicros and ClientCPUMicros are the CPU time (user and system) the brain and
	// brainbench spent per call: unlike throughput, they hardly depend on what else the machine
	// runs.
	BrainCPUMicros  float64 `json:"brain_cpu_us_per_call,omitempty"`
	ClientCPUMicros float64 `json:"client_cpu_us_per_call,omitempty"`
}

func summarize(slices_ []sample, items int) (Stats, error) {
	var st Stats
	var elapsed time.Duration
	var lat []time.Duration
	var firstErr error
	var brainCPU, clientCPU time.Duration
	for _, s := range slices_ {
		brainCPU += s.brainCPU
		clientCPU += s.clientCPU
		st.Calls += s.calls
		st.Errors += s.errors
		elapsed += s.elapsed
		lat = append(lat, s.latencies...)
		st.Slices = append(st.Slices, round(float64(s.calls)/s.elapsed.Seconds(), 0))
		if firstErr == nil {
			firstErr = s.firstErr
		}
	}
	st.Seconds = round(elapsed.Seconds(), 2)
	st.CallsPerSecond = round(float64(st.Calls)/elapsed.Seconds(), 0)
	if items > 0 {
		st.ItemsPerSecond = round(float64(st.Calls)*float64(items)/elapsed.Seconds(), 0)
	}
	if st.Calls > 0 {
		st.BrainCPUMicros = round(micros(brainCPU)/float64(st.Calls), 2)
		st.ClientCPUMicros = round(micros(clientCPU)/float64(st.Calls), 2)
	}
	slices.Sort(lat)
	st.P50Micros = micros(percentile(lat, 0.50))
	st.P90Micros = micros(percentile(lat, 0.90))
	st.P99Micros = micros(percentile(lat, 0.99))
	st.MaxMicros = micros(percentile(lat, 1))
	if firstErr != nil {
		return st, fmt.Errorf("%d of %d calls failed, the first with: %w", st.Errors, st.Calls, firstErr)
	}
	return st, nil
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 { return round(float64(d)/float64(time.Microsecond), 1) }

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// Comparison is one subject measured beside the health baseline in the same run.
type Comparison struct {
	Name        string `json:"name"`
	Method      string `json:"method"`
	Description string `json:"description"`
	Concurrency int    `json:"concurrency"`
	// OfferedRate is the pace of the callers in calls/s, all together; 0 is a closed loop at
	// full speed (each caller calls again as soon as it has its answer).
	OfferedRate float64 `json:"offered_rate,omitempty"`
	// ThroughputRatio is the subject's calls/s over the baseline's; P50Ratio and P99Ratio are its
	// latencies over the baseline's (lower is better).
	ThroughputRatio float64 `json:"throughput_ratio"`
	P50Ratio        float64 `json:"p50_ratio"`
	P99Ratio        float64 `json:"p99_ratio"`
	// BrainCPURatio is the brain's CPU time per call over the baseline's: the cost of the call
	// itself, free of the load generator's share and of the machine's other tenants.
	BrainCPURatio float64 `json:"brain_cpu_ratio,omitempty"`
	Subject       Stats   `json:"subject"`
	Baseline      Stats   `json:"baseline"`
}

// compare measures each subject beside the baseline: rounds times, each round a slice of the
// baseline and a slice of the subject back to back, the order flipped every round, so that
// whatever drifts during the run (CPU frequency, GC, the page cache, other tenants) hits both.
func (p *pool) compare(ctx context.Context, baseline subject, subjects []subject, d time.Duration, rounds int, rate float64, progress func(string)) ([]Comparison, error) {
	subj := make([][]sample, len(subjects))
	base := make([][]sample, len(subjects))
	for r := range rounds {
		for i, s := range subjects {
			progress(fmt.Sprintf("round %d/%d: %s beside %s", r+1, rounds, s.Name, baseline.Name))
			if r%2 == 0 {
				base[i] = append(base[i], p.runAt(ctx, baseline, d, rate))
				subj[i] = append(subj[i], p.runAt(ctx, s, d, rate))
			} else {
				subj[i] = append(subj[i], p.runAt(ctx, s, d, rate))
				base[i] = append(base[i], p.runAt(ctx, baseline, d, rate))
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Comparison, len(subjects))
	for i, s := range subjects {
		st, err := summarize(subj[i], s.Items)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		bt, err := summarize(base[i], 0)
		if err != nil {
			return nil, fmt.Errorf("%s (baseline beside %s): %w", baseline.Name, s.Name, err)
		}
		out[i] = Comparison{
			Name: s.Name, Method: s.Method, Description: s.Description, Concurrency: p.workers, OfferedRate: rate,
			ThroughputRatio: round(st.CallsPerSecond/bt.CallsPerSecond, 3),
			P50Ratio:        round(st.P50Micros/bt.P50Micros, 2),
			P99Ratio:        round(st.P99Micros/bt.P99Micros, 2),
			Subject:         st,
			Baseline:        bt,
		}
		if bt.BrainCPUMicros > 0 {
			out[i].BrainCPURatio = round(st.BrainCPUMicros/bt.BrainCPUMicros, 2)
		}
	}
	return out, nil
}
