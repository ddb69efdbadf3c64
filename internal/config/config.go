// Package config reads the brain's configuration file: the embedded defaults (default.yaml) with a
// YAML file laid over them, checked key by key, and compiled into what the decisions take (the
// runtime rule table, the unload policy). The daemon (cmd/brain) and the replay (cmd/brainreplay)
// both load it here, so that a replay runs with exactly the daemon's settings. It opens no GPU
// backend and starts nothing.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// defaultConfigYAML is the configuration that runs when no file is given. It is also the base that a
// file is laid over: a key the file leaves out keeps its default.
//
//go:embed default.yaml
var defaultConfigYAML []byte

// Config is the brain's configuration file. It reads the sections of the original modelium.yaml that
// concern the brain (modelium_brain, vllm, ray_serve, triton, gpu, orchestration, metrics), so an
// existing file works unchanged: the keys of those sections that belong to other Modelium components
// are accepted and ignored (Ignored fields). Any other key in these sections is an error naming the
// file and line. Sections the brain does not read are ignored whole.
type Config struct {
	Brain         BrainSection         `yaml:"modelium_brain"`
	VLLM          RuntimeSection       `yaml:"vllm"`
	RayServe      RuntimeSection       `yaml:"ray_serve"`
	Triton        RuntimeSection       `yaml:"triton"`
	GPU           GPUSection           `yaml:"gpu"`
	Orchestration OrchestrationSection `yaml:"orchestration"`
	Metrics       MetricsSection       `yaml:"metrics"`
	RuntimeRules  []rules.Rule         `yaml:"runtime_rules,omitempty"`
	Server        ServerSection        `yaml:"server"`

	// Everything else in an original modelium.yaml (organization, runtime, conversion, storage, ...)
	// belongs to other components.
	Other map[string]yaml.Node `yaml:",inline"`
}

// BrainSection is `modelium_brain`.
type BrainSection struct {
	Enabled         bool   `yaml:"enabled"`
	FallbackToRules bool   `yaml:"fallback_to_rules"`
	ModelName       string `yaml:"model_name"`
	Device          string `yaml:"device"`
	// Settings of the LLM advisor this version does not have.
	DType          ignored `yaml:"dtype,omitempty"`
	MaxNewTokens   ignored `yaml:"max_new_tokens,omitempty"`
	Temperature    ignored `yaml:"temperature,omitempty"`
	TimeoutSeconds ignored `yaml:"timeout_seconds,omitempty"`
}

// RuntimeSection is `vllm`, `ray_serve` or `triton`: the brain reads `enabled`; the rest tells the
// gateway how to reach the runtime.
type RuntimeSection struct {
	Enabled             bool    `yaml:"enabled"`
	Endpoint            ignored `yaml:"endpoint,omitempty"`
	HealthCheckPath     ignored `yaml:"health_check_path,omitempty"`
	ModelLoadPath       ignored `yaml:"model_load_path,omitempty"`
	InferencePath       ignored `yaml:"inference_path,omitempty"`
	ModelRepositoryPath ignored `yaml:"model_repository_path,omitempty"`
	Timeout             ignored `yaml:"timeout,omitempty"`
}

// GPUSection is `gpu`.
type GPUSection struct {
	// Backend is auto, nvml, static or none.
	Backend string `yaml:"backend"`
	// Strategy is most_free or best_fit.
	Strategy string `yaml:"strategy"`
	// HeadroomBytes is kept free on every GPU beyond a model's needs.
	HeadroomBytes int64 `yaml:"headroom_bytes"`
	// Devices is the static inventory.
	Devices []gpu.StaticDevice `yaml:"devices,omitempty"`
	// RefreshInterval is how often NVML is polled.
	RefreshInterval Duration `yaml:"refresh_interval"`
	// MaxSnapshotAge is how old the last good snapshot may get before placement answers UNAVAILABLE.
	MaxSnapshotAge Duration `yaml:"max_snapshot_age"`
	// ReservationTTL is how long a reservation is held without a LOADED or FAILED report.
	ReservationTTL Duration `yaml:"reservation_ttl"`
	// Keys of the original modelium.yaml that describe the host to other components.
	Enabled        ignored `yaml:"enabled,omitempty"`
	Count          ignored `yaml:"count,omitempty"`
	Type           ignored `yaml:"type,omitempty"`
	MemoryFraction ignored `yaml:"memory_fraction,omitempty"`
}

// OrchestrationSection is `orchestration`.
type OrchestrationSection struct {
	DecisionIntervalSeconds float64        `yaml:"decision_interval_seconds"`
	Policies                PoliciesConfig `yaml:"policies"`
	// StateFile is where the predictive keep-alive policy keeps its per-model history across
	// restarts: read at start, written now and then and at shutdown ("" = no persistence).
	StateFile string `yaml:"state_file"`

	Enabled        ignored `yaml:"enabled,omitempty"`
	Mode           ignored `yaml:"mode,omitempty"`
	ModelDiscovery ignored `yaml:"model_discovery,omitempty"`
	FastLoading    ignored `yaml:"fast_loading,omitempty"`
	RequestRouting ignored `yaml:"request_routing,omitempty"`
}

// Values of orchestration.policies.keep_alive_policy.
const (
	// KeepAliveFixed unloads a model idle for longer than evict_after_idle_seconds (the seed's).
	KeepAliveFixed = recommend.FixedPolicyName
	// KeepAlivePredictive learns each model's rhythm (package predict) and pre-warms.
	KeepAlivePredictive = predict.PolicyName
)

// PoliciesConfig is `orchestration.policies`.
type PoliciesConfig struct {
	// KeepAlivePolicy decides when a loaded model is unloaded: fixed (idle longer than
	// evict_after_idle_seconds) or predictive (package predict: each model's own rhythm, and
	// pre-warm load recommendations).
	KeepAlivePolicy string `yaml:"keep_alive_policy"`
	// PredictiveStep is the predictive policy's "minute" (predict.Config.Step): the default
	// minute, or whole seconds for a demo that shows a rhythm in seconds (then no state_file).
	PredictiveStep        Duration `yaml:"predictive_step"`
	EvictAfterIdleSeconds float64  `yaml:"evict_after_idle_seconds"`
	MinQPS                float64  `yaml:"min_qps"`
	AlwaysLoaded          []string `yaml:"always_loaded"`
	// KeepAlive maps a model name to how long it may stay idle: a duration ("10m", or seconds as a
	// number), 0 = unload as soon as idle, -1 = never unload.
	KeepAlive map[string]rules.KeepAlive `yaml:"keep_alive,omitempty"`

	EvictWhenMemoryAbovePercent ignored `yaml:"evict_when_memory_above_percent,omitempty"`
	PriorityByQPS               ignored `yaml:"priority_by_qps,omitempty"`
	PriorityByOrganization      ignored `yaml:"priority_by_organization,omitempty"`
	PriorityCustom              ignored `yaml:"priority_custom,omitempty"`
	PreloadOnFirstRequest       ignored `yaml:"preload_on_first_request,omitempty"`
	MaxConcurrentLoads          ignored `yaml:"max_concurrent_loads,omitempty"`
	TargetLoadTimeSeconds       ignored `yaml:"target_load_time_seconds,omitempty"`
}

// MetricsSection is `metrics`.
type MetricsSection struct {
	// Port of the Prometheus endpoint, used when --metrics-addr is not given. 0 disables it.
	Port int `yaml:"port"`
	// MaxModelSeries caps the per-model Prometheus series.
	MaxModelSeries int `yaml:"max_model_series"`

	Enabled                   ignored `yaml:"enabled,omitempty"`
	CollectionIntervalSeconds ignored `yaml:"collection_interval_seconds,omitempty"`
	RetentionHours            ignored `yaml:"retention_hours,omitempty"`
	Exporters                 ignored `yaml:"exporters,omitempty"`
	Track                     ignored `yaml:"track,omitempty"`
}

// ServerSection holds the brain's own server settings.
type ServerSection struct {
	// ShutdownTimeout bounds the graceful stop after SIGINT/SIGTERM.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// HeartbeatInterval is how often a quiet recommendation stream gets a heartbeat.
	HeartbeatInterval Duration `yaml:"heartbeat_interval"`
	// MaxGateways caps the number of distinct gateways the brain tracks.
	MaxGateways int `yaml:"max_gateways"`
	// MaxModels caps the number of distinct models the brain tracks.
	MaxModels int `yaml:"max_models"`
	// GatewayTTL forgets a gateway, with its models, after this long without a report, a sync or an
	// open watch stream, so that rotating gateway ids do not fill max_gateways; 0 never forgets.
	GatewayTTL Duration `yaml:"gateway_ttl"`
	// TLS, authorization and rate limits: see security.go.
	TLS           TLSSection           `yaml:"tls"`
	Authorization AuthorizationSection `yaml:"authorization"`
	RateLimit     RateLimitSection     `yaml:"rate_limit"`
}

// ignored accepts any YAML value of a key that belongs to another Modelium component, and prints
// as nothing.
type ignored struct{ set bool }

func (i *ignored) UnmarshalYAML(*yaml.Node) error { i.set = true; return nil }

// IsZero keeps ignored keys out of --print-config.
func (i ignored) IsZero() bool { return true }

// Duration is a time.Duration written as "1s", "2m30s", or a number of seconds.
type Duration time.Duration

// UnmarshalYAML reads "1m30s" or seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go duration syntax.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// maxDecisionIntervalSeconds bounds the evaluation loop's period: a loop that runs less than
// hourly is no loop. (Any setting in seconds is bounded by rules.MaxSeconds.)
const maxDecisionIntervalSeconds = 3600

func parseDuration(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("line %d: want a duration such as 30s or 5m, got a %s", n.Line, kindName(n.Kind))
	}
	d, err := rules.ParseSeconds(n.Value)
	if err != nil {
		return 0, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return d, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "scalar"
	}
}

// Known values, listed in errors.
var (
	gpuBackends   = []string{"auto", "nvml", "static", "none"}
	gpuStrategies = []string{"most_free", "best_fit"}
	// keepAlivePolicies are the values of orchestration.policies.keep_alive_policy.
	keepAlivePolicies = []string{KeepAliveFixed, KeepAlivePredictive}
)

// Load reads the embedded defaults and lays the file at path over them; an empty path runs
// the defaults alone. The result is validated.
func Load(path string) (*Config, error) {
	cfg, err := decodeConfig("embedded default", defaultConfigYAML, nil)
	if err != nil {
		return nil, fmt.Errorf("embedded default configuration: %w", err)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if cfg, err = decodeConfig(path, data, cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		where := "embedded default configuration"
		if path != "" {
			where = path
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return cfg, nil
}

// decodeConfig decodes data over base (a copy of it, when not nil), rejecting unknown keys in the
// sections the brain reads.
func decodeConfig(name string, data []byte, base *Config) (*Config, error) {
	cfg := &Config{}
	if base != nil {
		c := *base
		c.RuntimeRules = nil // a file's rule table replaces the default whole
		cfg = &c
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", name, readableYAMLError(err))
	}
	if base != nil && cfg.RuntimeRules == nil {
		cfg.RuntimeRules = base.RuntimeRules
	}
	cfg.Other = nil
	return cfg, nil
}

var (
	unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)
	wrongTypeRE    = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into ([\\w\\[\\].]+)")
)

// readableYAMLError says what the YAML decoder found in the file's terms, not Go's.
func readableYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	msg = unknownFieldRE.ReplaceAllString(msg, "unknown key \"$1\" in a section the brain reads (a misspelling? see the README's configuration section)")
	return wrongTypeRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := wrongTypeRE.FindStringSubmatch(m)
		want := sub[3]
		switch {
		case strings.HasPrefix(want, "float"), strings.HasPrefix(want, "int"):
			want = "a number"
		case want == "bool":
			want = "true or false"
		case want == "string":
			want = "a string"
		case strings.HasPrefix(want, "[]"):
			want = "a list"
		default:
			want = "a mapping"
		}
		return fmt.Sprintf("%q is not valid here: want %s", sub[2], want)
	})
}

// Validate checks every value; the error names the key and the allowed values.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	positiveDuration := func(key string, d Duration) {
		if d <= 0 {
			bad(key, "%s: want a positive duration", time.Duration(d))
		}
	}
	if !oneOf(c.GPU.Backend, gpuBackends) {
		bad("gpu.backend", "%q is not one of %s", c.GPU.Backend, strings.Join(gpuBackends, ", "))
	}
	if !oneOf(c.GPU.Strategy, gpuStrategies) {
		bad("gpu.strategy", "%q is not one of %s", c.GPU.Strategy, strings.Join(gpuStrategies, ", "))
	}
	if c.GPU.HeadroomBytes < 0 {
		bad("gpu.headroom_bytes", "%d is negative: want 0 or more bytes", c.GPU.HeadroomBytes)
	}
	positiveDuration("gpu.refresh_interval", c.GPU.RefreshInterval)
	positiveDuration("gpu.max_snapshot_age", c.GPU.MaxSnapshotAge)
	positiveDuration("gpu.reservation_ttl", c.GPU.ReservationTTL)
	if c.GPU.Backend == "static" && len(c.GPU.Devices) == 0 {
		bad("gpu.devices", "backend static needs at least one device")
	}
	for i, d := range c.GPU.Devices {
		key := fmt.Sprintf("gpu.devices[%d]", i)
		switch {
		case d.TotalBytes <= 0:
			bad(key+".total_bytes", "%d: want a positive number of bytes", d.TotalBytes)
		case d.UsedBytes < 0 || d.UsedBytes > d.TotalBytes:
			bad(key+".used_bytes", "%d: want 0 to total_bytes (%d)", d.UsedBytes, d.TotalBytes)
		}
	}
	if d := c.Orchestration.DecisionIntervalSeconds; !(d > 0 && d <= maxDecisionIntervalSeconds) {
		bad("orchestration.decision_interval_seconds", "%g: want a number of seconds above 0 and at most %d", d, maxDecisionIntervalSeconds)
	}
	p := c.Orchestration.Policies
	if e := p.EvictAfterIdleSeconds; !(e >= 0 && e <= rules.MaxSeconds) {
		bad("orchestration.policies.evict_after_idle_seconds", "%g: want 0 to %g seconds", e, float64(rules.MaxSeconds))
	}
	if p.MinQPS < 0 {
		bad("orchestration.policies.min_qps", "%g is negative: want 0 or more requests per second", p.MinQPS)
	}
	if !oneOf(p.KeepAlivePolicy, keepAlivePolicies) {
		bad("orchestration.policies.keep_alive_policy", "%q is not one of %s", p.KeepAlivePolicy, strings.Join(keepAlivePolicies, ", "))
	}
	// The range is predict's to check (predict.New); a state file does not record the step, so
	// histories counted in a demo step must not be read back as minutes, or the reverse.
	if s := time.Duration(p.PredictiveStep); s != time.Minute && c.Orchestration.StateFile != "" {
		bad("orchestration.policies.predictive_step", "%v with a state_file: a step other than 1m is for demos and keeps no state file", s)
	}
	if !c.VLLM.Enabled && !c.RayServe.Enabled && !c.Triton.Enabled {
		bad("vllm.enabled, ray_serve.enabled, triton.enabled", "no runtime is enabled: enable at least one")
	}
	if c.Metrics.Port < 0 || c.Metrics.Port > 65535 {
		bad("metrics.port", "%d: want 0 (off) to 65535", c.Metrics.Port)
	}
	if c.Metrics.MaxModelSeries < 0 {
		bad("metrics.max_model_series", "%d is negative: want 0 (no per-model series) or more", c.Metrics.MaxModelSeries)
	}
	positiveDuration("server.shutdown_timeout", c.Server.ShutdownTimeout)
	positiveDuration("server.heartbeat_interval", c.Server.HeartbeatInterval)
	if c.Server.MaxGateways <= 0 {
		bad("server.max_gateways", "%d: want a positive number", c.Server.MaxGateways)
	}
	if c.Server.MaxModels <= 0 {
		bad("server.max_models", "%d: want a positive number", c.Server.MaxModels)
	}
	c.Server.validateSecurity(bad)
	if c.Server.GatewayTTL < 0 {
		bad("server.gateway_ttl", "%v is negative: want 0 (never forget) or a duration", time.Duration(c.Server.GatewayTTL))
	}
	if _, err := c.RuntimeTable(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.UnloadPolicy(); err != nil {
		errs = append(errs, err)
	}
	if c.Brain.ModelName != "" && !c.Brain.FallbackToRules {
		bad("modelium_brain.model_name", "%q names an LLM advisor, which this version does not have, and fallback_to_rules is false: set fallback_to_rules: true to decide by rules, or remove model_name", c.Brain.ModelName)
	}
	return errors.Join(errs...)
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// Marshal prints the effective configuration as YAML.
func (c *Config) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
