package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/rules"
)

func TestEmbeddedDefaults(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatalf("embedded defaults do not load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"all runtimes enabled", [3]bool{cfg.VLLM.Enabled, cfg.RayServe.Enabled, cfg.Triton.Enabled}, [3]bool{true, true, true}},
		{"gpu backend auto", cfg.GPU.Backend, "auto"},
		{"most_free is the default strategy", cfg.GPU.Strategy, "most_free"},
		{"seed idle threshold of 300 s", cfg.Orchestration.Policies.EvictAfterIdleSeconds, 300.0},
		{"seed qps threshold of 0.1", cfg.Orchestration.Policies.MinQPS, 0.1},
		{"decision interval 10 s", cfg.Orchestration.DecisionIntervalSeconds, 10.0},
		{"metrics port 9090", cfg.Metrics.Port, 9090},
		{"refresh every second", time.Duration(cfg.GPU.RefreshInterval), time.Second},
		{"no advisor model", cfg.Brain.ModelName, ""},
		{"predictive keep-alive policy (it beats fixed 5 min on rows 1-500)", cfg.Orchestration.Policies.KeepAlivePolicy, "predictive"},
		{"no state file", cfg.Orchestration.StateFile, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestOriginalModeliumYAMLLoadsUnchanged(t *testing.T) {
	cfg, err := config.Load(filepath.Join("testdata", "modelium.yaml"))
	if err != nil {
		t.Fatalf("an original-style modelium.yaml must load unchanged: %v", err)
	}
	if cfg.RayServe.Enabled || !cfg.VLLM.Enabled || !cfg.Triton.Enabled {
		t.Errorf("runtimes: vllm=%v ray=%v triton=%v, want true false true", cfg.VLLM.Enabled, cfg.RayServe.Enabled, cfg.Triton.Enabled)
	}
	if got := cfg.Orchestration.Policies.EvictAfterIdleSeconds; got != 600 {
		t.Errorf("evict_after_idle_seconds = %v, want 600", got)
	}
	if got := cfg.Orchestration.DecisionIntervalSeconds; got != 15 {
		t.Errorf("decision_interval_seconds = %v, want 15", got)
	}
	if got := cfg.Orchestration.Policies.AlwaysLoaded; len(got) != 1 || got[0] != "critical-model-v1" {
		t.Errorf("always_loaded = %v", got)
	}
	if cfg.Brain.ModelName != "modelium/brain-v1" || !cfg.Brain.FallbackToRules {
		t.Errorf("modelium_brain = %+v", cfg.Brain)
	}
	if cfg.Orchestration.Policies.KeepAlivePolicy != "predictive" || cfg.Orchestration.StateFile != "" {
		t.Errorf("keep_alive_policy %q, state_file %q: want the defaults predictive and none", cfg.Orchestration.Policies.KeepAlivePolicy, cfg.Orchestration.StateFile)
	}
	// Keys the file leaves out keep their defaults.
	if cfg.GPU.Strategy != "most_free" || cfg.Orchestration.Policies.MinQPS != 0.1 {
		t.Errorf("defaults not kept: strategy %q, min_qps %v", cfg.GPU.Strategy, cfg.Orchestration.Policies.MinQPS)
	}
}

func TestStaticConfigWithKeepAlive(t *testing.T) {
	cfg, err := config.Load(filepath.Join("testdata", "static-two-gpus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.GPU.Devices) != 2 || cfg.GPU.Devices[1].TotalBytes != 80<<30 {
		t.Errorf("devices = %+v", cfg.GPU.Devices)
	}
	ka := cfg.Orchestration.Policies.KeepAlive
	if !ka["embedder"].Forever {
		t.Errorf("keep_alive -1 must mean forever, got %+v", ka["embedder"])
	}
	if k := ka["chat-small"]; k.Forever || k.After != 0 {
		t.Errorf("keep_alive 0 must mean as soon as idle, got %+v", k)
	}
	if k := ka["chat-large"]; k.After != 10*time.Minute {
		t.Errorf("keep_alive 10m, got %+v", k)
	}
}

func TestBadConfigFiles(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // every fragment must appear in the one error
	}{
		{"unknown key in a section the brain reads names file and line",
			"vllm:\n  enabled: true\n  enabeld: false\n", []string{"bad.yaml", "line 3", "enabeld"}},
		{"unknown key in policies", "orchestration:\n  policies:\n    evict_after_idle_secs: 10\n", []string{"line 3", "evict_after_idle_secs"}},
		{"wrong type", "orchestration:\n  decision_interval_seconds: often\n", []string{"line 2", "often"}},
		{"negative threshold", "orchestration:\n  policies:\n    evict_after_idle_seconds: -5\n", []string{"orchestration.policies.evict_after_idle_seconds", "negative"}},
		{"negative min_qps", "orchestration:\n  policies:\n    min_qps: -1\n", []string{"orchestration.policies.min_qps"}},
		{"unknown keep-alive policy", "orchestration:\n  policies:\n    keep_alive_policy: lru\n", []string{"orchestration.policies.keep_alive_policy", `"lru"`, "fixed, predictive"}},
		{"a demo step with a state file", "orchestration:\n  state_file: /tmp/s\n  policies:\n    keep_alive_policy: predictive\n    predictive_step: 2s\n",
			[]string{"orchestration.policies.predictive_step", "state_file"}},
		{"no runtime enabled", "vllm: {enabled: false}\nray_serve: {enabled: false}\ntriton: {enabled: false}\n", []string{"no runtime is enabled"}},
		{"bad metrics port", "metrics:\n  port: 70000\n", []string{"metrics.port", "65535"}},
		{"advisor without fallback refuses to start", "modelium_brain:\n  model_name: modelium/brain-v1\n  fallback_to_rules: false\n", []string{"modelium_brain.model_name", "fallback_to_rules"}},
		{"unknown gpu backend lists allowed values", "gpu:\n  backend: cuda\n", []string{"gpu.backend", "auto, nvml, static, none"}},
		{"unknown strategy lists allowed values", "gpu:\n  strategy: random\n", []string{"gpu.strategy", "most_free, best_fit"}},
		{"static backend without devices", "gpu:\n  backend: static\n", []string{"gpu.devices"}},
		{"used more than total", "gpu:\n  backend: static\n  devices: [{name: a, total_bytes: 10, used_bytes: 20}]\n", []string{"gpu.devices[0].used_bytes"}},
		{"bad keep_alive", "orchestration:\n  policies:\n    keep_alive: {m: -5}\n", []string{"keep_alive", "negative"}},
		{"unknown runtime in a rule", "runtime_rules:\n  - name: x\n    runtime: tgi\n    match: {names: [x]}\n", []string{"runtime_rules", "tgi"}},
		{"rule with an empty match", "runtime_rules:\n  - name: x\n    runtime: ray\n    match: {}\n", []string{"runtime_rules", "x"}},
		{"unreachable rule after a catch-all", "runtime_rules:\n  - name: all\n    runtime: ray\n    match: {any: true}\n  - name: late\n    runtime: ray\n    match: {names: [gpt2]}\n", []string{"runtime_rules", "late"}},
		{"unknown key in a rule", "runtime_rules:\n  - name: x\n    runtime: ray\n    match: {model: [x]}\n", []string{"line 4", "model"}},
		{"bad duration", "gpu:\n  refresh_interval: soon\n", []string{"line 2", "soon"}},
		{"zero duration", "server:\n  shutdown_timeout: 0s\n", []string{"server.shutdown_timeout", "positive duration"}},
		{"duration beyond a century", "gpu:\n  refresh_interval: 1e12\n", []string{"line 2", "out of range"}},
		{"decision interval that would never run", "orchestration:\n  decision_interval_seconds: 1e12\n", []string{"orchestration.decision_interval_seconds", "at most 3600"}},
		{"idle threshold beyond a century", "orchestration:\n  policies:\n    evict_after_idle_seconds: 1e12\n", []string{"orchestration.policies.evict_after_idle_seconds"}},
		{"not yaml", "vllm: [\n", []string{"bad.yaml"}},
		{"negative gateway ttl", "server:\n  gateway_ttl: -1s\n", []string{"server.gateway_ttl", "negative"}},
		{"unknown client_auth", "server:\n  tls: {cert_file: a.crt, key_file: a.key, client_auth: maybe}\n", []string{"server.tls.client_auth", "none, request or require"}},
		{"a certificate without its key", "server:\n  tls: {cert_file: a.crt}\n", []string{"server.tls", "go together"}},
		{"a gateway map without client certificates", "server:\n  authorization:\n    gateways: [{principal: p, gateway_ids: [g]}]\n", []string{"server.authorization.gateways", "client_auth"}},
		{"a gateway grant without gateways", "server:\n  authorization:\n    gateways: [{principal: p}]\n", []string{"server.authorization", "gateway_ids"}},
		{"a negative rate", "server:\n  rate_limit: {per_client_rps: -1}\n", []string{"server.rate_limit.per_client_rps"}},
		{"a rate without a burst", "server:\n  rate_limit: {per_client_rps: 10, burst: 0}\n", []string{"server.rate_limit.burst"}},
		{"client authentication without TLS", "server:\n  tls: {client_ca_file: ca.pem, client_auth: require}\n", []string{"server.tls", "need cert_file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(path)
			if err == nil {
				t.Fatal("bad file accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad grpc address", []string{"--grpc-addr", "localhost"}, "--grpc-addr"},
		{"bad grpc port", []string{"--grpc-addr", ":99999"}, "--grpc-addr"},
		{"bad metrics address", []string{"--grpc-addr", "127.0.0.1:0", "--metrics-addr", "nowhere"}, "--metrics-addr"},
		{"bad log format", []string{"--log-format", "xml"}, "--log-format"},
		{"bad log level", []string{"--log-level", "loud"}, "--log-level"},
		{"missing config file", []string{"--config", "/nonexistent/brain.yaml"}, "read config"},
		{"stray argument", []string{"serve"}, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), c.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("run(%v) = %v, want an error about %s", c.args, err, c.want)
			}
		})
	}
}

func TestPrintConfigRoundTrips(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--print-config", "--config", filepath.Join("testdata", "static-two-gpus.yaml")}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backend: static", "strategy: best_fit", "embedder: -1", "decision_interval_seconds: 10"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out.String())
		}
	}
	// What --print-config prints is itself a valid configuration file with the same meaning.
	path := filepath.Join(t.TempDir(), "printed.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("printed configuration does not load: %v", err)
	}
	if !cfg.Orchestration.Policies.KeepAlive["embedder"].Forever || cfg.GPU.Strategy != "best_fit" {
		t.Errorf("printed configuration changed meaning: %+v", cfg.Orchestration.Policies)
	}
}

func TestMaxModelSeriesZeroMeansNone(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want int
	}{
		{"metrics: {max_model_series: 0}\n", -1},
		{"metrics: {max_model_series: 50}\n", 50},
		{"", 1000},
	} {
		path := filepath.Join(t.TempDir(), "m.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := maxModelSeries(cfg); got != c.want {
			t.Errorf("%q: recorder MaxModelSeries %d, want %d", c.yaml, got, c.want)
		}
	}
}

func TestExampleRuntimeRulesReplaceTheTable(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "configs", "runtime-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	table, err := cfg.RuntimeTable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		model rules.Model
		want  string
	}{
		{rules.Model{Name: "resnet50", Format: "ONNX"}, "triton"},
		{rules.Model{Architecture: "LlamaForCausalLM"}, "vllm"},
		{rules.Model{Name: "gpt2"}, "ray"}, // not in this table's LLM list
	} {
		if d := table.Choose(c.model, cfg.Enabled()); d.Runtime != c.want {
			t.Errorf("%+v: %s by %s, want %s", c.model, d.Runtime, d.Rule, c.want)
		}
	}
}

func TestBeyondLoopback(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want bool
	}{
		{"IPv4 loopback is local", "127.0.0.1:50051", false},
		{"IPv6 loopback is local", "[::1]:50051", false},
		{"all IPv4 interfaces are reachable", "0.0.0.0:50051", true},
		{"all interfaces are reachable", "[::]:50051", true},
		{"a private address is reachable", "10.1.2.3:50051", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := beyondLoopback(addr); got != tt.want {
				t.Errorf("beyondLoopback(%s) = %v; want %v", tt.addr, got, tt.want)
			}
		})
	}
}
