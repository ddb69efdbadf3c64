package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/replay"
	"github.com/modelium/brain/rules"
)

// runSpec is one replay of a sweep: a policy and its keep-alive.
type runSpec struct {
	policy    string
	keepAlive time.Duration // 0: the configuration's evict_after_idle
	// minProbability is the predictive policy's threshold (0: its default).
	minProbability float64
	// cap and victims: a replay under a GPU memory cap (--gpu-memory), with this victim choice.
	cap     *capSpec
	victims replay.Victims
}

// report is one run's figures with what produced them: the JSON object of --json.
type report struct {
	Trace  string        `json:"trace"`
	Layout replay.Layout `json:"layout"`
	Memory string        `json:"memory,omitempty"`
	// Rows is the --rows range ("all" without it); RowsRead counts every data row of the file.
	Rows     string `json:"rows"`
	RowsRead int    `json:"rows_read"`
	// Cap is the --gpu-memory value the run was capped at, as given.
	Cap string `json:"cap,omitempty"`
	*replay.Result
	KeepAliveSeconds float64 `json:"keep_alive_seconds"`
	// MinProbability is the predictive policy's threshold (predict.Config.MinProbability).
	MinProbability          float64 `json:"min_probability,omitempty"`
	MinQPS                  float64 `json:"min_qps"`
	DecisionIntervalSeconds float64 `json:"decision_interval_seconds"`
	WallSeconds             float64 `json:"wall_seconds"`
}

// sweepReport is the JSON object of --json with --sweep.
type sweepReport struct {
	Runs []*report `json:"runs"`
}

func run(args []string, stdout, stderr io.Writer, terminal bool) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	settings, err := loadSettings(f.config)
	if err != nil {
		return err
	}
	specs, err := f.specs(settings.policy)
	if err != nil {
		return err
	}
	rows, err := f.parseRows()
	if err != nil {
		return err
	}
	tr, err := replay.ReadTraceFile(f.trace, rows)
	if err != nil {
		return err
	}
	var mem replay.Memory
	if f.memory != "" {
		if mem, err = replay.ReadMemoryFile(f.memory); err != nil {
			return err
		}
	}
	if f.gpuMemory != "" {
		if specs, err = f.capSpecs(specs, tr, mem, settings); err != nil {
			return err
		}
	}
	var bar *progressbar.ProgressBar
	if terminal {
		bar = progressbar.NewOptions(tr.Minutes*len(specs),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("replaying %d models", len(tr.Models))),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	var reports []*report
	for i, spec := range specs {
		policy, err := settings.unloadPolicy(spec.keepAlive)
		if err != nil {
			return err
		}
		cfg := replay.Config{Policy: recommend.NewFixedPolicy(policy), PolicyName: spec.policy, DecisionInterval: settings.interval, Memory: mem}
		if spec.policy == policyPredictive {
			pol, err := predict.New(predict.Config{MinProbability: spec.minProbability})
			if err != nil {
				return err
			}
			cfg.Policy = predict.NewEnginePolicy(pol, policy)
			spec.minProbability = pol.Config().MinProbability
		}
		if spec.cap != nil {
			cfg.Cap = &replay.Cap{Devices: spec.cap.devices, Victims: spec.victims, KeepAlive: keepAliveOf(policy), HeadroomBytes: spec.cap.headroom}
		}
		if bar != nil {
			done := i * tr.Minutes
			cfg.Progress = func(m, _ int) {
				if m%60 == 0 || m == tr.Minutes {
					_ = bar.Set(done + m)
				}
			}
		}
		start := time.Now()
		res, err := replay.Run(tr, cfg)
		if err != nil {
			return err
		}
		r := &report{
			Trace: filepath.Base(f.trace), Layout: tr.Layout, Rows: rows.String(), RowsRead: tr.RowsRead,
			Result: res, KeepAliveSeconds: policy.EvictAfterIdle.Seconds(), MinQPS: policy.MinQPS,
			DecisionIntervalSeconds: settings.interval.Seconds(), WallSeconds: time.Since(start).Seconds(),
			MinProbability: spec.minProbability,
		}
		if f.memory != "" {
			r.Memory = filepath.Base(f.memory)
		}
		if spec.cap != nil {
			r.Cap = spec.cap.label
		}
		reports = append(reports, r)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if f.chart != "" {
		chart := writeChart
		if f.gpuMemory != "" {
			chart = writeCapChart
		}
		if err := chart(f.chart, reports); err != nil {
			return err
		}
	}
	switch {
	case f.json && (len(f.sweep) > 0 || f.gpuMemory != ""):
		return writeJSON(stdout, sweepReport{Runs: reports})
	case f.json:
		return writeJSON(stdout, reports[0])
	case f.gpuMemory != "":
		err = writeCapTable(stdout, reports)
	case len(f.sweep) > 0:
		err = writeSweepTable(stdout, reports)
	default:
		err = writeTable(stdout, reports[0])
	}
	if err == nil && f.chart != "" {
		_, err = fmt.Fprintf(stdout, "\nchart: %s\n", f.chart)
	}
	return err
}

func (f *flags) parseRows() (replay.Rows, error) {
	if f.rows == "" {
		return replay.Rows{}, nil
	}
	r, err := replay.ParseRows(f.rows)
	if err != nil {
		return replay.Rows{}, fmt.Errorf("--%w", err)
	}
	return r, nil
}

// specs lists the runs: the product of the swept policies and keep-alive values, or the one run
// of --policy and --keep-alive. configPolicy is the configuration's policy name.
func (f *flags) specs(configPolicy string) ([]runSpec, error) {
	policies := []string{configPolicy}
	if f.policy != "" {
		policies = []string{f.policy}
	}
	if p, ok := f.sweep["policy"]; ok {
		if f.policy != "" {
			return nil, fmt.Errorf("--policy %s and --sweep policy=...: give one of them", f.policy)
		}
		policies = p
	}
	keepAlives := []time.Duration{f.keepAlive}
	if list, ok := f.sweep["keep-alive"]; ok {
		if f.keepAlive != 0 {
			return nil, fmt.Errorf("--keep-alive %s and --sweep keep-alive=...: give one of them", f.keepAlive)
		}
		keepAlives = keepAlives[:0]
		for _, s := range list {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("--sweep keep-alive: %q is not a positive duration such as 5m", s)
			}
			keepAlives = append(keepAlives, d)
		}
	}
	probabilities := []float64{0}
	if list, ok := f.sweep["min-probability"]; ok {
		probabilities = probabilities[:0]
		for _, s := range list {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v > 0 && v <= 1) {
				return nil, fmt.Errorf("--sweep min-probability: %q is not a probability above 0 and at most 1", s)
			}
			probabilities = append(probabilities, v)
		}
	}
	var specs []runSpec
	for _, p := range policies {
		switch p {
		case policyFixed:
		case policyPredictive:
		default:
			return nil, fmt.Errorf("policy %q: want %s or %s", p, policyFixed, policyPredictive)
		}
		if p == policyPredictive && probabilities[0] != 0 {
			// min-probability is the predictive policy's curve; keep-alive the fixed policy's (the
			// predictive one uses the configuration's only until a model has history).
			for _, q := range probabilities {
				specs = append(specs, runSpec{policy: p, keepAlive: f.keepAlive, minProbability: q})
			}
			continue
		}
		for _, k := range keepAlives {
			specs = append(specs, runSpec{policy: p, keepAlive: k})
		}
	}
	return specs, nil
}

// settings is what the replay takes from the brain's configuration.
type settings struct {
	policy   string // the keep-alive policy's name
	unload   *rules.UnloadPolicy
	interval time.Duration
	devices  []gpu.StaticDevice // gpu.devices, the static inventory (--gpu-memory config)
	headroom int64              // gpu.headroom_bytes, kept free on those devices
}

// unloadPolicy is the configuration's unload policy, with evict_after_idle replaced by keepAlive
// when that is not 0 (per-model keep_alive and always_loaded still win, as in the daemon).
func (s *settings) unloadPolicy(keepAlive time.Duration) (*rules.UnloadPolicy, error) {
	if keepAlive == 0 {
		return s.unload, nil
	}
	p := *s.unload
	p.EvictAfterIdle = keepAlive
	return rules.NewUnloadPolicy(p)
}

// capSpecs turns the one run of --policy into a run per cap of --gpu-memory and victim choice of
// --victims, in that order (the caps outer).
func (f *flags) capSpecs(specs []runSpec, tr *replay.Trace, mem replay.Memory, st *settings) ([]runSpec, error) {
	if len(specs) != 1 {
		return nil, errors.New("--gpu-memory compares victim choices for one policy: give --sweep or --gpu-memory, not both")
	}
	if mem == nil {
		return nil, errors.New("--gpu-memory needs model sizes: give --memory, the memory file (AverageAllocatedMb per HashApp)")
	}
	sizes, _, err := replay.ModelSizes(tr, mem)
	if err != nil {
		return nil, err
	}
	caps, err := parseCaps(f.gpuMemory, sizes, st.devices, st.headroom)
	if err != nil {
		return nil, err
	}
	victims, err := parseVictims(f.victims)
	if err != nil {
		return nil, err
	}
	var out []runSpec
	for k := range caps {
		for _, v := range victims {
			s := specs[0]
			s.cap, s.victims = &caps[k], v
			out = append(out, s)
		}
	}
	return out, nil
}
