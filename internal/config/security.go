package config

import (
	"time"

	"github.com/modelium/brain/access"
	"github.com/modelium/brain/server"
)

// TLSSection is `server.tls`: the brain's certificate and how it asks clients for theirs. The
// files are re-read every refresh_interval, so a rotated certificate or CA reaches new connections
// without a restart.
type TLSSection struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
	// ClientAuth is none, request or require (server.ClientAuth*).
	ClientAuth      string   `yaml:"client_auth"`
	RefreshInterval Duration `yaml:"refresh_interval"`
}

// AuthorizationSection is `server.authorization`: which principal (from its client certificate)
// may act for which gateways, and a grpc-go authz policy over RPCs.
type AuthorizationSection struct {
	// Gateways, when listed, is enforced on every RPC that names a gateway.
	Gateways []GatewayGrant `yaml:"gateways"`
	// PolicyFile is a grpc-go authz policy (JSON), re-read every RefreshInterval.
	PolicyFile      string   `yaml:"policy_file"`
	RefreshInterval Duration `yaml:"refresh_interval"`
}

// GatewayGrant is one principal and the gateway ids it may act for ("*": any).
type GatewayGrant struct {
	Principal  string   `yaml:"principal"`
	GatewayIDs []string `yaml:"gateway_ids"`
}

// RateLimitSection is `server.rate_limit`: a token bucket per client (its principal, or its IP
// address without a client certificate).
type RateLimitSection struct {
	// PerClientRPS is the sustained calls a second per client; 0 turns the limit off.
	PerClientRPS float64 `yaml:"per_client_rps"`
	// Burst is how many calls a client may make at once.
	Burst int `yaml:"burst"`
}

// Enabled says whether the brain serves TLS.
func (t TLSSection) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Config is the section as server.NewTLS takes it.
func (t TLSSection) Config() server.TLSConfig {
	return server.TLSConfig{CertFile: t.CertFile, KeyFile: t.KeyFile, ClientCAFile: t.ClientCAFile,
		ClientAuth: t.ClientAuth, RefreshInterval: time.Duration(t.RefreshInterval)}
}

// validateSecurity checks the security settings that need no file; the files are read when the
// brain starts (server.NewTLS, server.NewPolicy), with errors that name them.
func (s ServerSection) validateSecurity(bad func(key, format string, args ...any)) {
	t := s.TLS
	switch t.ClientAuth {
	case "", server.ClientAuthNone, server.ClientAuthRequest, server.ClientAuthRequire:
	default:
		bad("server.tls.client_auth", "%q: want none, request or require", t.ClientAuth)
	}
	if t.Enabled() && (t.CertFile == "" || t.KeyFile == "") {
		bad("server.tls", "cert_file and key_file go together")
	}
	if !t.Enabled() && (t.ClientCAFile != "" || (t.ClientAuth != "" && t.ClientAuth != server.ClientAuthNone)) {
		bad("server.tls", "client_ca_file and client_auth need cert_file and key_file (TLS)")
	}
	if t.RefreshInterval < 0 {
		bad("server.tls.refresh_interval", "%v is negative", time.Duration(t.RefreshInterval))
	}
	a := s.Authorization
	if len(a.Gateways) > 0 {
		if _, err := s.GatewayMap(); err != nil {
			bad("server.authorization", "%v", err)
		}
		if !t.Enabled() || t.ClientAuth == "" || t.ClientAuth == server.ClientAuthNone {
			bad("server.authorization.gateways", "principals come from client certificates: set server.tls with client_auth request or require")
		}
	}
	if a.RefreshInterval < 0 {
		bad("server.authorization.refresh_interval", "%v is negative", time.Duration(a.RefreshInterval))
	}
	r := s.RateLimit
	if r.PerClientRPS < 0 {
		bad("server.rate_limit.per_client_rps", "%g is negative: want 0 (no limit) or more calls a second", r.PerClientRPS)
	}
	if r.PerClientRPS > 0 && r.Burst < 1 {
		bad("server.rate_limit.burst", "%d: want at least 1 call with per_client_rps set", r.Burst)
	}
}

// GatewayMap is server.authorization.gateways as the access package enforces it; nil when empty.
func (s ServerSection) GatewayMap() (*access.Gateways, error) {
	if len(s.Authorization.Gateways) == 0 {
		return nil, nil
	}
	rules := make([]access.GatewayRule, len(s.Authorization.Gateways))
	for i, g := range s.Authorization.Gateways {
		rules[i] = access.GatewayRule{Principal: g.Principal, GatewayIDs: g.GatewayIDs}
	}
	return access.NewGateways(rules)
}
