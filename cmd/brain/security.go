package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

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

// enabled says whether the brain serves TLS.
func (t TLSSection) enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

func (t TLSSection) config() server.TLSConfig {
	return server.TLSConfig{CertFile: t.CertFile, KeyFile: t.KeyFile, ClientCAFile: t.ClientCAFile,
		ClientAuth: t.ClientAuth, RefreshInterval: time.Duration(t.RefreshInterval)}
}

// validateSecurity checks the security settings of the server section that need no file; the
// files are read when the brain starts (server.NewTLS), with errors that name them.
func (s ServerSection) validateSecurity(bad func(key, format string, args ...any)) {
	t := s.TLS
	switch t.ClientAuth {
	case "", server.ClientAuthNone, server.ClientAuthRequest, server.ClientAuthRequire:
	default:
		bad("server.tls.client_auth", "%q: want none, request or require", t.ClientAuth)
	}
	if t.enabled() && (t.CertFile == "" || t.KeyFile == "") {
		bad("server.tls", "cert_file and key_file go together")
	}
	if !t.enabled() && (t.ClientCAFile != "" || (t.ClientAuth != "" && t.ClientAuth != server.ClientAuthNone)) {
		bad("server.tls", "client_ca_file and client_auth need cert_file and key_file (TLS)")
	}
	if t.RefreshInterval < 0 {
		bad("server.tls.refresh_interval", "%v is negative", time.Duration(t.RefreshInterval))
	}
}

// transportCredentials builds the TLS credentials, or nil (plaintext) without server.tls.
func (s ServerSection) transportCredentials(log *slog.Logger) (*server.TLS, error) {
	if !s.TLS.enabled() {
		return nil, nil
	}
	creds, err := server.NewTLS(s.TLS.config(), log)
	if err != nil {
		return nil, fmt.Errorf("server.%w", err)
	}
	return creds, nil
}

// beyondLoopback says whether a listener can be reached from other hosts: any address that is not
// a loopback one (the unspecified 0.0.0.0 and :: included).
func beyondLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return !ok || !tcp.IP.IsLoopback()
}

// warnIfExposed logs a warning for a plaintext listener that other hosts can reach.
func warnIfExposed(log *slog.Logger, what string, addr net.Addr, why string) {
	if beyondLoopback(addr) {
		log.Warn(what+" listens beyond loopback without TLS: "+why, "addr", addr.String())
	}
}
