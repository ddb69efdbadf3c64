package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/rules"
	"github.com/modelium/brain/server"
)

// defaultOwners maps each key of the embedded default configuration that a package also defaults
// to that package's constant: the package owns the value, and the embedded file (what
// --print-config shows and the README documents) must agree with it.
func defaultOwners(c *config.Config) []struct {
	key       string
	got, want any
} {
	return []struct {
		key       string
		got, want any
	}{
		{"gpu.strategy", c.GPU.Strategy, gpu.DefaultStrategy.Name()},
		{"gpu.refresh_interval", time.Duration(c.GPU.RefreshInterval), gpu.DefaultRefreshInterval},
		{"gpu.max_snapshot_age", time.Duration(c.GPU.MaxSnapshotAge), gpu.DefaultMaxSnapshotAge},
		{"gpu.reservation_ttl", time.Duration(c.GPU.ReservationTTL), gpu.DefaultReservationTTL},
		{"orchestration.decision_interval_seconds", time.Duration(c.Orchestration.DecisionIntervalSeconds * float64(time.Second)), server.DefaultDecisionInterval},
		{"orchestration.policies.evict_after_idle_seconds", time.Duration(c.Orchestration.Policies.EvictAfterIdleSeconds * float64(time.Second)), rules.DefaultEvictAfterIdle},
		{"orchestration.policies.min_qps", c.Orchestration.Policies.MinQPS, rules.DefaultMinQPS},
		{"orchestration.policies.predictive_step", time.Duration(c.Orchestration.Policies.PredictiveStep), predict.DefaultStep},
		{"metrics.max_model_series", c.Metrics.MaxModelSeries, metrics.DefaultMaxModelSeries},
		{"server.heartbeat_interval", time.Duration(c.Server.HeartbeatInterval), server.DefaultHeartbeatInterval},
		{"server.max_gateways", c.Server.MaxGateways, metrics.DefaultMaxGateways},
		{"server.max_models", c.Server.MaxModels, metrics.DefaultMaxModels},
		{"server.tls.refresh_interval", time.Duration(c.Server.TLS.RefreshInterval), server.DefaultTLSRefreshInterval},
		{"server.tls.client_auth", c.Server.TLS.ClientAuth, server.ClientAuthNone},
		{"server.authorization.refresh_interval", time.Duration(c.Server.Authorization.RefreshInterval), server.DefaultTLSRefreshInterval},
	}
}

func TestEmbeddedDefaultsAgreeWithThePackagesThatOwnThem(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range defaultOwners(cfg) {
		if o.got != o.want {
			t.Errorf("%s: embedded default.yaml says %v, the owning package's default is %v", o.key, o.got, o.want)
		}
	}
}

// TestREADMEConfigurationTableShowsTheDefaults reads the README's configuration table and checks
// that the default it prints for each key is the embedded configuration's.
func TestREADMEConfigurationTableShowsTheDefaults(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // first column (keys, backquoted) -> second column
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	short := func(d config.Duration) string {
		s := time.Duration(d).String()
		s = strings.TrimSuffix(s, "0s")
		s = strings.TrimSuffix(s, "0m")
		if s == "" || strings.HasSuffix(s, "h") || strings.HasSuffix(s, "m") {
			return s
		}
		return time.Duration(d).String()
	}
	want := map[string]string{
		"`gpu.backend`":  "`" + cfg.GPU.Backend + "`",
		"`gpu.strategy`": "`" + cfg.GPU.Strategy + "`",
		"`gpu.headroom_bytes`": func() string {
			if cfg.GPU.HeadroomBytes%(1<<20) == 0 {
				return itoa(cfg.GPU.HeadroomBytes>>20) + " MiB"
			}
			return itoa(cfg.GPU.HeadroomBytes)
		}(),
		"`gpu.refresh_interval`":                            "`" + short(cfg.GPU.RefreshInterval) + "`",
		"`gpu.max_snapshot_age`":                            "`" + short(cfg.GPU.MaxSnapshotAge) + "`",
		"`gpu.reservation_ttl`":                             "`" + short(cfg.GPU.ReservationTTL) + "`",
		"`orchestration.decision_interval_seconds`":         "`" + ftoa(cfg.Orchestration.DecisionIntervalSeconds) + "`",
		"`orchestration.policies.evict_after_idle_seconds`": "`" + ftoa(cfg.Orchestration.Policies.EvictAfterIdleSeconds) + "`",
		"`orchestration.policies.min_qps`":                  "`" + ftoa(cfg.Orchestration.Policies.MinQPS) + "`",
		"`metrics.port`":                                    "`" + itoa(int64(cfg.Metrics.Port)) + "`",
		"`metrics.max_model_series`":                        "`" + itoa(int64(cfg.Metrics.MaxModelSeries)) + "`",
		"`server.shutdown_timeout`":                         "`" + short(cfg.Server.ShutdownTimeout) + "`",
		"`server.heartbeat_interval`":                       "`" + short(cfg.Server.HeartbeatInterval) + "`",
		"`server.max_gateways`, `server.max_models`":        "`" + itoa(int64(cfg.Server.MaxGateways)) + "`, `" + itoa(int64(cfg.Server.MaxModels)) + "`",
		"`server.gateway_ttl`":                              "`" + short(cfg.Server.GatewayTTL) + "`",
		"`server.tls.client_auth`":                          "`" + cfg.Server.TLS.ClientAuth + "`",
		"`server.tls.refresh_interval`":                     "`" + short(cfg.Server.TLS.RefreshInterval) + "`",
		"`server.authorization.refresh_interval`":           "`" + short(cfg.Server.Authorization.RefreshInterval) + "`",
		"`server.rate_limit.per_client_rps`":                "`" + ftoa(cfg.Server.RateLimit.PerClientRPS) + "`",
		"`server.rate_limit.burst`":                         "`" + itoa(int64(cfg.Server.RateLimit.Burst)) + "`",
	}
	for key, w := range want {
		got, ok := rows[key]
		if !ok {
			t.Errorf("README's configuration table has no row for %s", key)
			continue
		}
		if got != w {
			t.Errorf("README's configuration table says %s defaults to %s; the embedded configuration says %s", key, got, w)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
