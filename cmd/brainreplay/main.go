// Command brainreplay replays a trace of model traffic through the brain's own code (its tracker,
// unload policy and evaluation cycle, on a virtual clock) and reports what the policy cost: cold
// starts, loads, idle model-minutes and idle memory. See the README's "Replay your traffic".
//
//	brainreplay --trace FILE [--memory FILE] [--rows A-B] [--policy fixed|predictive]
//	            [--keep-alive 5m] [--config FILE] [--json]
//	            [--sweep keep-alive=1m,5m,10m] [--sweep policy=fixed] [--chart FILE.png|.svg]
//	            [--gpu-memory 10%,25%,80GiB,config [--victims brain,lru,...]]
package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/modelium/brain/internal/config"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stdout) && isTerminal(os.Stderr))
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "brainreplay:", err)
		os.Exit(2)
	}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Policies the replay knows: the daemon's keep_alive_policy values.
const (
	policyFixed      = config.KeepAliveFixed
	policyPredictive = config.KeepAlivePredictive
)

type flags struct {
	trace, memory, rows, policy, config, chart string
	gpuMemory, victims                         string
	keepAlive                                  time.Duration
	json                                       bool
	sweep                                      sweepFlag
}

// sweepFlag collects --sweep KEY=V1,V2,...; each key at most once.
type sweepFlag map[string][]string

func (s sweepFlag) String() string { return "" }

func (s sweepFlag) Set(v string) error {
	key, list, ok := strings.Cut(v, "=")
	key = strings.TrimSpace(key)
	if !ok || list == "" {
		return fmt.Errorf("%q: want KEY=V1,V2,... such as keep-alive=1m,5m,10m", v)
	}
	if key != "keep-alive" && key != "policy" && key != "min-probability" {
		return fmt.Errorf("%q: the keys are keep-alive, policy and min-probability", key)
	}
	if _, dup := s[key]; dup {
		return fmt.Errorf("%s given twice: list all its values in one --sweep", key)
	}
	for _, x := range strings.Split(list, ",") {
		s[key] = append(s[key], strings.TrimSpace(x))
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{sweep: sweepFlag{}}
	fs := flag.NewFlagSet("brainreplay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.trace, "trace", "", "trace `file`: Azure Functions 2019 per-minute counts (either layout) or a request log time,model[,requests] (required)")
	fs.StringVar(&f.memory, "memory", "", "Azure Functions 2019 memory `file` (AverageAllocatedMb per HashApp), to weigh idle time by memory")
	fs.StringVar(&f.rows, "rows", "", "1-based inclusive `A-B` rows of the trace (one model per row; one request line in a log)")
	fs.StringVar(&f.policy, "policy", "", "keep-alive policy: fixed or predictive (default: the config's, predictive)")
	fs.DurationVar(&f.keepAlive, "keep-alive", 0, "fixed policy: how long a model may stay idle (overrides the config's evict_after_idle_seconds)")
	fs.StringVar(&f.config, "config", "", "the brain's YAML configuration `file` (the daemon's --config); default: the embedded defaults")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of a table")
	fs.Var(f.sweep, "sweep", "run several values: `keep-alive=1m,5m,...`, policy=fixed,predictive or min-probability=0.02,0.05,0.1 (the predictive policy's threshold; repeatable; the runs are their product)")
	fs.StringVar(&f.gpuMemory, "gpu-memory", "", "replay under a GPU memory cap, comparing victim choices: `CAPS`, comma-separated, each bytes (80GiB, 512MiB, 80GB), P% of the models' total size (10%), or config (the configuration's gpu.devices); needs --memory")
	fs.StringVar(&f.victims, "victims", "all", "with --gpu-memory: the victim choices to compare, comma-separated: brain, lru, size-lru (ModelMesh), largest-first (LocalAI), shortest-keep-alive (Ollama), or all")
	fs.StringVar(&f.chart, "chart", "", "write the trade-off chart (cold starts against idle model-minutes, a curve per policy) to `file`.png or .svg")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: brainreplay --trace FILE [--memory FILE] [--rows A-B] [--policy fixed|predictive] [--keep-alive 5m] [--config FILE] [--json] [--sweep keep-alive=1m,5m,10m] [--gpu-memory 10%,80GiB,config [--victims all]] [--chart FILE.png]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	case f.trace == "":
		return nil, errors.New("--trace is required: a trace file to replay (see --help)")
	case f.keepAlive < 0:
		return nil, fmt.Errorf("--keep-alive %s is negative", f.keepAlive)
	case f.chart != "" && !strings.HasSuffix(f.chart, ".png") && !strings.HasSuffix(f.chart, ".svg"):
		return nil, fmt.Errorf("--chart %q: want a file name ending in .png or .svg", f.chart)
	}
	return f, nil
}
