// Command brainbench measures the real brain binary over loopback gRPC: each decision RPC beside
// grpc.health.v1.Health/Check on the same server in the same run (throughput, p50/p99 latency and
// the ratio to the baseline), the delivery latency of an unload recommendation to 1,000 watch
// subscribers (also with subscribers that stopped reading), and the brain's memory with 100,000
// tracked models. It writes the results as JSON and as a Markdown table.
//
//	go build -o bin/brain ./cmd/brain && go run ./cmd/brainbench --brain bin/brain
//
// `make bench` runs it with the settings BENCHMARKS.md quotes; its smoke test runs it for a few
// seconds with tiny settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	// The load generator shares the machine with the brain: it collects garbage less often, so
	// that less of the CPU goes to it (results.json's settings record this).
	debug.SetGCPercent(clientGCPercent)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "brainbench:", err)
		os.Exit(1)
	}
}

// clientGCPercent is brainbench's GOGC.
const clientGCPercent = 400

// settings are the command line.
type settings struct {
	Brain          string        `json:"-"`
	Config         string        `json:"config"`
	HFConfig       string        `json:"hf_config"`
	Out            string        `json:"-"`
	ProfileDir     string        `json:"-"`
	ProfileSeconds int           `json:"profile_seconds,omitempty"`
	Concurrency    int           `json:"concurrency"`
	WorkersPerConn int           `json:"workers_per_connection"`
	Slice          time.Duration `json:"-"`
	SliceSeconds   float64       `json:"slice_seconds"`
	Rounds         int           `json:"rounds"`
	Warmup         time.Duration `json:"-"`
	Subscribers    int           `json:"subscribers"`
	Stalled        int           `json:"stalled_subscribers"`
	Backlog        int           `json:"stalled_backlog_events"`
	FanoutRounds   int           `json:"fanout_rounds"`
	Models         int           `json:"models"`
	Settle         time.Duration `json:"-"`
	PacedRate      float64       `json:"paced_rate"`
	Phases         string        `json:"phases"`
}

func parseSettings(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("brainbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.Brain, "brain", "bin/brain", "the brain binary to start")
	fs.StringVar(&s.Config, "config", "configs/bench-eight-gpus.yaml", "the brain's --config: an 8-GPU static inventory and a fast unload policy")
	fs.StringVar(&s.HFConfig, "hf-config", "testdata/hf-configs/meta-llama__Llama-3.1-8B/config.json", "the config.json that ChooseRuntime (config.json) sends")
	fs.StringVar(&s.Out, "out", "bench", "folder for results.json and results.md")
	fs.StringVar(&s.ProfileDir, "profile-dir", "", "if set, start the brain with --pprof-addr and write CPU profiles of ChooseRuntime (name) and Health/Check under load here")
	fs.IntVar(&s.ProfileSeconds, "profile-seconds", 5, "length of each CPU profile")
	fs.IntVar(&s.Concurrency, "concurrency", 50, "concurrent callers (closed loop: each waits for its answer)")
	fs.IntVar(&s.WorkersPerConn, "workers-per-conn", 10, "callers sharing one connection")
	fs.DurationVar(&s.Slice, "slice", time.Second, "length of one measured slice of one call kind")
	fs.IntVar(&s.Rounds, "rounds", 6, "slices of each call kind, alternating with the baseline")
	fs.DurationVar(&s.Warmup, "warmup", 500*time.Millisecond, "unmeasured load of each call kind first")
	fs.IntVar(&s.Subscribers, "subscribers", 1000, "watch subscribers that read")
	fs.IntVar(&s.Stalled, "stalled", 10, "additional watch subscribers that stop reading")
	fs.IntVar(&s.Backlog, "backlog", 3000, "events published to the stalled subscribers before the rounds")
	fs.IntVar(&s.FanoutRounds, "fanout-rounds", 10, "recommendations measured per fan-out scenario")
	fs.IntVar(&s.Models, "models", 100_000, "models tracked for the memory figure")
	fs.DurationVar(&s.Settle, "settle", 2*time.Second, "wait after loading the models, before reading the memory")
	fs.Float64Var(&s.PacedRate, "paced-rate", 4000, "also measure ChooseRuntime (name) beside the baseline with the callers paced to this many calls/s in all, well below saturation; 0 skips it")
	fs.StringVar(&s.Phases, "phases", "unary,fanout,memory", "the parts to run, comma-separated: unary (with the profile), fanout, memory")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if s.Concurrency < 1 || s.WorkersPerConn < 1 || s.Rounds < 1 || s.Slice <= 0 || s.Subscribers < 1 || s.FanoutRounds < 1 || s.Models < 1 {
		return s, errors.New("--concurrency, --workers-per-conn, --rounds, --slice, --subscribers, --fanout-rounds and --models must be positive")
	}
	for ph := range strings.SplitSeq(s.Phases, ",") {
		if ph != "unary" && ph != "fanout" && ph != "memory" {
			return s, fmt.Errorf("--phases: unknown phase %q (want unary, fanout, memory)", ph)
		}
	}
	s.SliceSeconds = s.Slice.Seconds()
	return s, nil
}

func (s settings) runs(phase string) bool {
	return slices.Contains(strings.Split(s.Phases, ","), phase)
}

// Results is everything one run measured; results.json is this, results.md its tables.
type Results struct {
	Started  time.Time      `json:"started"`
	Seconds  float64        `json:"seconds"`
	Machine  Machine        `json:"machine"`
	Settings settings       `json:"settings"`
	Unary    []Comparison   `json:"unary"`
	Fanout   []FanoutResult `json:"fanout"`
	Memory   MemoryResult   `json:"memory"`
	Profiles []ProfileRun   `json:"profiles,omitempty"`
	Targets  []Target       `json:"targets"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := parseSettings(args, stderr)
	if err != nil {
		return err
	}
	hfConfig, err := os.ReadFile(s.HFConfig)
	if err != nil {
		return fmt.Errorf("--hf-config: %w", err)
	}
	progress := func(msg string) { fmt.Fprintf(stdout, "%s brainbench: %s\n", time.Now().Format("15:04:05"), msg) }
	res := Results{Started: time.Now().UTC().Truncate(time.Second), Machine: describeMachine(), Settings: s}

	brain, err := startBrain(ctx, s.Brain, s.Config, s.ProfileDir != "")
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = brain.Stop()
		}
	}()
	progress("brain serving on " + brain.GRPCAddr)
	if res.Memory.Idle, err = brain.Memory(ctx); err != nil {
		return err
	}

	p, err := dialPool(brain.GRPCAddr, s.Concurrency, s.WorkersPerConn)
	if err != nil {
		return err
	}
	defer p.Close()
	p.cpu = func() (time.Duration, time.Duration) { return brain.CPUTime(), selfCPUTime() }
	if err := prepare(ctx, p.conns[0]); err != nil {
		return err
	}

	if s.runs("unary") {
		if res.Unary, err = measureUnary(ctx, brain, p, s, hfConfig, &res.Profiles, progress); err != nil {
			return err
		}
	}
	if s.runs("fanout") || s.runs("memory") {
		progress(fmt.Sprintf("fan-out: subscribing %d readers", s.Subscribers))
		fan, err := newFanoutBench(ctx, brain.GRPCAddr, p, s.Subscribers)
		if err != nil {
			return err
		}
		defer fan.Close()
		if s.runs("fanout") {
			if res.Fanout, err = measureFanout(ctx, fan, s, progress); err != nil {
				return err
			}
		}
		if s.runs("memory") {
			// With the readers still subscribed.
			progress(fmt.Sprintf("memory: %d models, %d subscribers", s.Models, s.Subscribers))
			idle := res.Memory.Idle
			if res.Memory, err = measureMemory(ctx, brain, p, s.Models, s.Settle); err != nil {
				return err
			}
			res.Memory.Idle, res.Memory.Subscribers = idle, s.Subscribers
			res.Memory.RSSRatio = round(float64(res.Memory.After.RSSBytes)/float64(idle.RSSBytes), 2)
		}
		if err := fan.readers.err(); err != nil {
			return err
		}
		fan.Close()
	}

	stopped = true
	if err := brain.Stop(); err != nil {
		return fmt.Errorf("stop the brain: %w", err)
	}
	res.Seconds = round(time.Since(res.Started).Seconds(), 0)
	res.Machine.LoadAverage[1] = loadAverage()
	res.Targets = targets(res)
	if err := writeResults(s.Out, res); err != nil {
		return err
	}
	progress(fmt.Sprintf("wrote %s and %s", filepath.Join(s.Out, "results.json"), filepath.Join(s.Out, "results.md")))
	fmt.Fprint(stdout, markdown(res))
	return nil
}

// measureUnary measures each call kind beside the baseline, closed loop and then paced, and
// profiles the brain if asked.
func measureUnary(ctx context.Context, brain *brainProcess, p *pool, s settings, hfConfig []byte, profiles *[]ProfileRun, progress func(string)) ([]Comparison, error) {
	baseline, subs := healthSubject(), subjects(hfConfig)
	for _, sub := range append([]subject{baseline}, subs...) {
		progress("warm-up: " + sub.Name)
		if w := p.run(ctx, sub, s.Warmup); w.firstErr != nil {
			return nil, fmt.Errorf("warm-up of %s: %w", sub.Name, w.firstErr)
		}
	}
	out, err := p.compare(ctx, baseline, subs, s.Slice, s.Rounds, 0, progress)
	if err != nil {
		return nil, err
	}
	if s.PacedRate > 0 {
		paced, err := p.compare(ctx, baseline, subs[:1], s.Slice, s.Rounds, s.PacedRate, progress)
		if err != nil {
			return nil, err
		}
		for i := range paced {
			paced[i].Name += fmt.Sprintf(", paced at %.0f/s", s.PacedRate)
		}
		out = append(out, paced...)
	}
	if s.ProfileDir != "" {
		if *profiles, err = profile(ctx, brain, p, s, []subject{subs[0], baseline}, progress); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// measureFanout measures the delivery of recommendations to fan's readers, then again beside
// stalled subscribers.
func measureFanout(ctx context.Context, fan *fanoutBench, s settings, progress func(string)) ([]FanoutResult, error) {
	progress(fmt.Sprintf("fan-out: %d rounds to %d subscribers", s.FanoutRounds, s.Subscribers))
	r, err := fan.measure(ctx, fmt.Sprintf("%d subscribers", s.Subscribers), s.FanoutRounds, s.Subscribers)
	if err != nil {
		return nil, err
	}
	out := []FanoutResult{r}
	if s.Stalled == 0 {
		return out, nil
	}
	progress(fmt.Sprintf("fan-out: %d stalled subscribers, %d events published to them", s.Stalled, s.Backlog))
	resume, bytes, err := fan.stall(ctx, s.Stalled, s.Backlog)
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("fan-out: %d rounds to %d subscribers beside the stalled ones", s.FanoutRounds, s.Subscribers))
	r, err = fan.measure(ctx, fmt.Sprintf("%d subscribers + %d stalled", s.Subscribers, s.Stalled), s.FanoutRounds, s.Subscribers)
	outcome := resume()
	if err != nil {
		return nil, err
	}
	r.Stalled, r.StalledBacklog, r.StalledBacklogBytes, r.StalledOutcome = s.Stalled, s.Backlog, bytes, outcome
	return append(out, r), nil
}

// ProfileRun is a CPU profile of the brain, and one of brainbench itself (the client shares the
// machine), under one subject's load.
type ProfileRun struct {
	Subject        string  `json:"subject"`
	Calls          int64   `json:"calls"`
	CallsPerSecond float64 `json:"calls_per_second"`
	BrainProfile   string  `json:"brain_profile"`
	ClientProfile  string  `json:"client_profile"`
}

// profile takes CPU profiles under each subject's load.
func profile(ctx context.Context, brain *brainProcess, p *pool, s settings, subs []subject, progress func(string)) ([]ProfileRun, error) {
	if err := os.MkdirAll(s.ProfileDir, 0o755); err != nil {
		return nil, err
	}
	var out []ProfileRun
	for _, sub := range subs {
		name := profileName(sub.Name)
		run := ProfileRun{Subject: sub.Name, BrainProfile: filepath.Join(s.ProfileDir, "brain-"+name), ClientProfile: filepath.Join(s.ProfileDir, "client-"+name)}
		progress(fmt.Sprintf("profiling the brain and brainbench under %s for %d s", sub.Name, s.ProfileSeconds))
		client, err := os.Create(run.ClientProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(client); err != nil {
			client.Close()
			return nil, err
		}
		var w sample
		err = brain.cpuProfile(ctx, s.ProfileSeconds, run.BrainProfile, func(ctx context.Context) error {
			w = p.run(ctx, sub, time.Duration(s.ProfileSeconds)*time.Second)
			if ctx.Err() != nil {
				return nil
			}
			return w.firstErr
		})
		pprof.StopCPUProfile()
		client.Close()
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", sub.Name, err)
		}
		run.Calls, run.CallsPerSecond = w.calls, round(float64(w.calls)/w.elapsed.Seconds(), 0)
		out = append(out, run)
	}
	return out, nil
}

// profileName is a file name for a subject's profile: "ChooseRuntime (name)" -> chooseruntime-name.cpu.prof.
func profileName(subject string) string {
	b := make([]byte, 0, len(subject))
	dash := false
	for _, c := range []byte(subject) {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash && len(b) > 0 {
				b = append(b, '-')
			}
			b, dash = append(b, c), false
		default:
			dash = true
		}
	}
	return string(b) + ".cpu.prof"
}
