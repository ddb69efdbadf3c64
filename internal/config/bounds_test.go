package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/rules"
)

// defaults is the embedded configuration, which the cases below edit one setting at a time.
func defaults(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatalf("embedded defaults: %v", err)
	}
	return cfg
}

// Every validated setting exactly at its bound is accepted, and one step past it is refused with an
// error that names the key.
func TestValidateBounds(t *testing.T) {
	devices := []gpu.StaticDevice{{TotalBytes: 80 << 30}}
	tests := []struct {
		name    string
		edit    func(c *config.Config)
		wantKey string // "" = accepted; else the error names this key
	}{
		{"the embedded defaults", func(c *config.Config) {}, ""},

		{"a known gpu backend", func(c *config.Config) { c.GPU.Backend = "none" }, ""},
		{"an unknown gpu backend", func(c *config.Config) { c.GPU.Backend = "cuda" }, "gpu.backend"},
		{"an unknown gpu strategy", func(c *config.Config) { c.GPU.Strategy = "first" }, "gpu.strategy"},
		{"headroom of 0 bytes", func(c *config.Config) { c.GPU.HeadroomBytes = 0 }, ""},
		{"headroom of -1 byte", func(c *config.Config) { c.GPU.HeadroomBytes = -1 }, "gpu.headroom_bytes"},
		{"refresh interval of 1ns", func(c *config.Config) { c.GPU.RefreshInterval = 1 }, ""},
		{"refresh interval of 0", func(c *config.Config) { c.GPU.RefreshInterval = 0 }, "gpu.refresh_interval"},
		{"refresh interval of -1ns", func(c *config.Config) { c.GPU.RefreshInterval = -1 }, "gpu.refresh_interval"},
		{"static backend with a device", func(c *config.Config) { c.GPU.Backend, c.GPU.Devices = "static", devices }, ""},
		{"static backend without devices", func(c *config.Config) { c.GPU.Backend = "static" }, "gpu.devices"},
		{"device of 1 byte", func(c *config.Config) { c.GPU.Devices = []gpu.StaticDevice{{TotalBytes: 1}} }, ""},
		{"device of 0 bytes", func(c *config.Config) { c.GPU.Devices = []gpu.StaticDevice{{TotalBytes: 0}} }, "gpu.devices[0].total_bytes"},
		{"device with all its bytes used", func(c *config.Config) { c.GPU.Devices = []gpu.StaticDevice{{TotalBytes: 10, UsedBytes: 10}} }, ""},
		{"device with a byte more used than it has", func(c *config.Config) { c.GPU.Devices = []gpu.StaticDevice{{TotalBytes: 10, UsedBytes: 11}} }, "gpu.devices[0].used_bytes"},
		{"device with -1 byte used", func(c *config.Config) { c.GPU.Devices = []gpu.StaticDevice{{TotalBytes: 10, UsedBytes: -1}} }, "gpu.devices[0].used_bytes"},

		{"decision interval exactly the max", func(c *config.Config) { c.Orchestration.DecisionIntervalSeconds = 3600 }, ""},
		{"decision interval one second past the max", func(c *config.Config) { c.Orchestration.DecisionIntervalSeconds = 3601 }, "orchestration.decision_interval_seconds"},
		{"decision interval of 0", func(c *config.Config) { c.Orchestration.DecisionIntervalSeconds = 0 }, "orchestration.decision_interval_seconds"},
		{"idle threshold of 0", func(c *config.Config) { c.Orchestration.Policies.EvictAfterIdleSeconds = 0 }, ""},
		{"idle threshold of -1", func(c *config.Config) { c.Orchestration.Policies.EvictAfterIdleSeconds = -1 }, "orchestration.policies.evict_after_idle_seconds"},
		{"idle threshold exactly a century", func(c *config.Config) { c.Orchestration.Policies.EvictAfterIdleSeconds = rules.MaxSeconds }, ""},
		{"idle threshold a second past a century", func(c *config.Config) { c.Orchestration.Policies.EvictAfterIdleSeconds = rules.MaxSeconds + 1 }, "orchestration.policies.evict_after_idle_seconds"},
		{"min_qps of 0", func(c *config.Config) { c.Orchestration.Policies.MinQPS = 0 }, ""},
		{"min_qps of -0.001", func(c *config.Config) { c.Orchestration.Policies.MinQPS = -0.001 }, "orchestration.policies.min_qps"},
		{"an unknown keep-alive policy", func(c *config.Config) { c.Orchestration.Policies.KeepAlivePolicy = "lru" }, "orchestration.policies.keep_alive_policy"},
		{"an unload policy the rules refuse", func(c *config.Config) { c.Orchestration.Policies.AlwaysLoaded = []string{""} }, "orchestration.policies"},
		{"predictive step of 1m with a state file", func(c *config.Config) {
			c.Orchestration.Policies.PredictiveStep, c.Orchestration.StateFile = config.Duration(time.Minute), "brain.state"
		}, ""},
		{"predictive step of 30s with a state file", func(c *config.Config) {
			c.Orchestration.Policies.PredictiveStep, c.Orchestration.StateFile = config.Duration(30*time.Second), "brain.state"
		}, "orchestration.policies.predictive_step"},
		{"predictive step of 30s without a state file", func(c *config.Config) {
			c.Orchestration.Policies.PredictiveStep, c.Orchestration.StateFile = config.Duration(30*time.Second), ""
		}, ""},

		{"no runtime enabled", func(c *config.Config) { c.VLLM.Enabled, c.RayServe.Enabled, c.Triton.Enabled = false, false, false }, "no runtime is enabled"},
		{"a runtime rule table the rules refuse", func(c *config.Config) {
			c.RuntimeRules = []rules.Rule{{Name: "x", Runtime: "tgi", Match: rules.Match{Names: []string{"x"}}}}
		}, "runtime_rules"},

		{"metrics port 0", func(c *config.Config) { c.Metrics.Port = 0 }, ""},
		{"metrics port 65535", func(c *config.Config) { c.Metrics.Port = 65535 }, ""},
		{"metrics port 65536", func(c *config.Config) { c.Metrics.Port = 65536 }, "metrics.port"},
		{"metrics port -1", func(c *config.Config) { c.Metrics.Port = -1 }, "metrics.port"},
		{"max_model_series 0", func(c *config.Config) { c.Metrics.MaxModelSeries = 0 }, ""},
		{"max_model_series -1", func(c *config.Config) { c.Metrics.MaxModelSeries = -1 }, "metrics.max_model_series"},

		{"shutdown timeout of 0", func(c *config.Config) { c.Server.ShutdownTimeout = 0 }, "server.shutdown_timeout"},
		{"max_gateways 1", func(c *config.Config) { c.Server.MaxGateways = 1 }, ""},
		{"max_gateways 0", func(c *config.Config) { c.Server.MaxGateways = 0 }, "server.max_gateways"},
		{"max_models 1", func(c *config.Config) { c.Server.MaxModels = 1 }, ""},
		{"max_models 0", func(c *config.Config) { c.Server.MaxModels = 0 }, "server.max_models"},
		{"gateway_ttl 0", func(c *config.Config) { c.Server.GatewayTTL = 0 }, ""},
		{"gateway_ttl -1ns", func(c *config.Config) { c.Server.GatewayTTL = -1 }, "server.gateway_ttl"},

		{"model name with fallback to rules", func(c *config.Config) { c.Brain.ModelName, c.Brain.FallbackToRules = "qwen", true }, ""},
		{"model name without fallback to rules", func(c *config.Config) { c.Brain.ModelName, c.Brain.FallbackToRules = "qwen", false }, "modelium_brain.model_name"},
		{"no model name and no fallback to rules", func(c *config.Config) { c.Brain.ModelName, c.Brain.FallbackToRules = "", false }, ""},

		{"TLS cert and key", func(c *config.Config) { c.Server.TLS.CertFile, c.Server.TLS.KeyFile = "a.crt", "a.key" }, ""},
		{"TLS cert without key", func(c *config.Config) { c.Server.TLS.CertFile = "a.crt" }, "server.tls: cert_file and key_file"},
		{"TLS key without cert", func(c *config.Config) { c.Server.TLS.KeyFile = "a.key" }, "server.tls: cert_file and key_file"},
		{"client CA with TLS", func(c *config.Config) {
			c.Server.TLS.CertFile, c.Server.TLS.KeyFile, c.Server.TLS.ClientCAFile = "a.crt", "a.key", "ca.crt"
		}, ""},
		{"client CA without TLS", func(c *config.Config) { c.Server.TLS.ClientCAFile = "ca.crt" }, "server.tls: client_ca_file"},
		{"client_auth require without TLS", func(c *config.Config) { c.Server.TLS.ClientAuth = "require" }, "server.tls: client_ca_file"},
		{"client_auth empty without TLS", func(c *config.Config) { c.Server.TLS.ClientAuth = "" }, ""},
		{"an unknown client_auth", func(c *config.Config) { c.Server.TLS.ClientAuth = "maybe" }, "server.tls.client_auth"},
		{"TLS refresh interval 0", func(c *config.Config) { c.Server.TLS.RefreshInterval = 0 }, ""},
		{"TLS refresh interval -1ns", func(c *config.Config) { c.Server.TLS.RefreshInterval = -1 }, "server.tls.refresh_interval"},
		{"authorization refresh interval 0", func(c *config.Config) { c.Server.Authorization.RefreshInterval = 0 }, ""},
		{"authorization refresh interval -1ns", func(c *config.Config) { c.Server.Authorization.RefreshInterval = -1 }, "server.authorization.refresh_interval"},
		{"gateway grants with mutual TLS", func(c *config.Config) {
			c.Server.TLS.CertFile, c.Server.TLS.KeyFile, c.Server.TLS.ClientCAFile, c.Server.TLS.ClientAuth = "a.crt", "a.key", "ca.crt", "require"
			c.Server.Authorization.Gateways = []config.GatewayGrant{{Principal: "p", GatewayIDs: []string{"gw-1"}}}
		}, ""},
		{"gateway grants with TLS but client_auth none", func(c *config.Config) {
			c.Server.TLS.CertFile, c.Server.TLS.KeyFile, c.Server.TLS.ClientAuth = "a.crt", "a.key", "none"
			c.Server.Authorization.Gateways = []config.GatewayGrant{{Principal: "p", GatewayIDs: []string{"gw-1"}}}
		}, "server.authorization.gateways"},
		{"gateway grants without TLS", func(c *config.Config) {
			c.Server.Authorization.Gateways = []config.GatewayGrant{{Principal: "p", GatewayIDs: []string{"gw-1"}}}
		}, "server.authorization.gateways"},
		{"a gateway grant without a principal", func(c *config.Config) {
			c.Server.TLS.CertFile, c.Server.TLS.KeyFile, c.Server.TLS.ClientCAFile, c.Server.TLS.ClientAuth = "a.crt", "a.key", "ca.crt", "require"
			c.Server.Authorization.Gateways = []config.GatewayGrant{{GatewayIDs: []string{"gw-1"}}}
		}, "server.authorization: "},
		{"no rate limit and burst 0", func(c *config.Config) { c.Server.RateLimit.PerClientRPS, c.Server.RateLimit.Burst = 0, 0 }, ""},
		{"rate limit with burst 1", func(c *config.Config) { c.Server.RateLimit.PerClientRPS, c.Server.RateLimit.Burst = 5, 1 }, ""},
		{"rate limit with burst 0", func(c *config.Config) { c.Server.RateLimit.PerClientRPS, c.Server.RateLimit.Burst = 5, 0 }, "server.rate_limit.burst"},
		{"negative rate limit", func(c *config.Config) { c.Server.RateLimit.PerClientRPS = -1 }, "server.rate_limit.per_client_rps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaults(t)
			tt.edit(cfg)
			err := cfg.Validate()
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantKey != "" && err == nil:
				t.Fatalf("accepted; want an error naming %q", tt.wantKey)
			case tt.wantKey != "" && !strings.Contains(err.Error(), tt.wantKey):
				t.Fatalf("error %q does not name %q", err, tt.wantKey)
			}
		})
	}
}

// What a file laid over the defaults keeps, and how its mistakes are told.
func TestLoadFile(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantErr   []string // "" parts absent = accepted
		wantRules int
	}{
		{"a file's runtime rules are kept", "runtime_rules:\n  - name: x\n    runtime: ray\n    match: {names: [x]}\n", nil, 1},
		{"a file without runtime rules keeps the default table", "metrics:\n  port: 0\n", nil, 0},
		{"a setting out of bounds names the file", "metrics:\n  port: 65536\n", []string{"brain.yaml", "metrics.port"}, 0},
		{"a string where a flag goes", "vllm:\n  enabled: maybe\n", []string{`"maybe" is not valid here: want true or false`}, 0},
		{"a number where a list goes", "orchestration:\n  policies:\n    always_loaded: 5\n", []string{`"5" is not valid here: want a list`}, 0},
		{"a number where a mapping goes", "orchestration:\n  policies:\n    keep_alive: 5\n", []string{`"5" is not valid here: want a mapping`}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "brain.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("accepted; want an error with %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.RuntimeRules) != tt.wantRules {
				t.Errorf("%d runtime rules; want %d", len(cfg.RuntimeRules), tt.wantRules)
			}
		})
	}
}

// GatewayMap is nil when no gateway is listed: then every principal may act for any gateway.
func TestGatewayMapEmpty(t *testing.T) {
	m, err := defaults(t).Server.GatewayMap()
	if m != nil || err != nil {
		t.Fatalf("GatewayMap() = %v, %v; want nil, nil", m, err)
	}
}

// Marshal prints the effective configuration (--print-config), keys as the file writes them.
func TestMarshalPrintsTheSettings(t *testing.T) {
	out, err := defaults(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "max_gateways: 1000") {
		t.Errorf("Marshal() = %q; want it to print max_gateways: 1000", out)
	}
}
