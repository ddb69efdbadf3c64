package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/modelium/brain/access"
	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/server"
)

// transportCredentials builds the TLS credentials, or nil (plaintext) without server.tls.
func transportCredentials(s config.ServerSection, log *slog.Logger) (*server.TLS, error) {
	if !s.TLS.Enabled() {
		return nil, nil
	}
	creds, err := server.NewTLS(s.TLS.Config(), log)
	if err != nil {
		return nil, fmt.Errorf("server.%w", err)
	}
	return creds, nil
}

// accessOptions sets the authorization and rate-limit options; the returned function stops the
// policy file's watcher.
func accessOptions(s config.ServerSection, o *server.Options) (stop func(), err error) {
	stop = func() {}
	if o.Gateways, err = s.GatewayMap(); err != nil {
		return stop, fmt.Errorf("server.authorization: %w", err)
	}
	if f := s.Authorization.PolicyFile; f != "" {
		refresh := time.Duration(s.Authorization.RefreshInterval)
		if refresh <= 0 {
			refresh = server.DefaultTLSRefreshInterval
		}
		if o.AuthzPolicy, err = server.NewPolicy(f, refresh); err != nil {
			return stop, fmt.Errorf("server.%w", err)
		}
		stop = o.AuthzPolicy.Close
	}
	if r := s.RateLimit; r.PerClientRPS > 0 {
		o.RateLimiter = access.NewLimiter(r.PerClientRPS, r.Burst, 0, nil)
	}
	return stop, nil
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
