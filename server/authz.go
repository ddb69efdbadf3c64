package server

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/authz"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/modelium/brain/access"
	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// Policy is a grpc-go authz policy (JSON) that restricts RPCs by principal, re-read from its file
// on change.
type Policy struct{ w *authz.FileWatcherInterceptor }

// NewPolicy reads the policy file (failing on a bad one) and re-reads it every refresh; a later
// bad version is logged by grpc-go and the last good one kept.
func NewPolicy(file string, refresh time.Duration) (*Policy, error) {
	w, err := authz.NewFileWatcher(file, refresh)
	if err != nil {
		return nil, fmt.Errorf("authorization policy_file %s: %w", file, err)
	}
	return &Policy{w: w}, nil
}

// Close stops re-reading the file.
func (p *Policy) Close() { p.w.Close() }

// principal is the verified client certificate's principal (access.Principal); ok is false for a
// caller without one (plaintext, or TLS without a verified client certificate).
func principal(ctx context.Context) (name string, ok bool) {
	p, found := peer.FromContext(ctx)
	if !found {
		return "", false
	}
	info, isTLS := p.AuthInfo.(credentials.TLSInfo)
	if !isTLS || len(info.State.VerifiedChains) == 0 || len(info.State.PeerCertificates) == 0 {
		return "", false
	}
	return access.Principal(info.State.PeerCertificates[0]), true
}

// namedGateway is the gateway a request acts for, if any: reports, syncs, a watch with a
// gateway_id, and a ChooseGPU that reserves for a gateway.
func namedGateway(req any) string {
	switch r := req.(type) {
	case *brainv1.ReportModelStateRequest:
		return r.GetGatewayId()
	case *brainv1.ReportTrafficRequest:
		return r.GetGatewayId()
	case *brainv1.SyncGatewayRequest:
		return r.GetGatewayId()
	case *brainv1.WatchUnloadRecommendationsRequest:
		return r.GetGatewayId()
	case *brainv1.WatchRecommendationsRequest:
		return r.GetGatewayId()
	case *brainv1.ChooseGPURequest:
		if r.GetReserve() {
			return r.GetGatewayId()
		}
	}
	return ""
}

// gatewayAuthz enforces Options.Gateways: a request that names a gateway must come from a
// principal that may act for it.
type gatewayAuthz struct{ gateways *access.Gateways }

// check is UNAUTHENTICATED without a verified client certificate, PERMISSION_DENIED for a
// principal the map does not allow; the message says who and why, and nothing of the brain.
func (a gatewayAuthz) check(ctx context.Context, req any) error {
	gw := namedGateway(req)
	if gw == "" {
		return nil
	}
	who, ok := principal(ctx)
	if len(gw) > MaxNameBytes { // not echoed back; validation refuses it for whoever may go on
		gw = fmt.Sprintf("(%d bytes)", len(gw))
	}
	if !ok {
		return status.Errorf(codes.Unauthenticated, "this call acts for gateway %q: it needs a verified client certificate whose principal server.authorization.gateways allows", gw)
	}
	if !a.gateways.Allowed(who, gw) {
		return status.Errorf(codes.PermissionDenied, "principal %q may not act for gateway %q", who, gw)
	}
	return nil
}

func (a gatewayAuthz) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := a.check(ctx, req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (a gatewayAuthz) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &authorizingStream{ServerStream: ss, a: a})
}

type authorizingStream struct {
	grpc.ServerStream
	a gatewayAuthz
}

func (s *authorizingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.a.check(s.Context(), m)
}

// watchScope is which gateways' events a watch without a gateway_id may see: nil for all (no map,
// or a principal allowed any gateway), else the principal's own; an error for a caller the map
// does not know.
func (s *Server) watchScope(ctx context.Context) (func(gateway string) bool, error) {
	g := s.opts.Gateways
	if g == nil {
		return nil, nil
	}
	who, ok := principal(ctx)
	switch {
	case !ok:
		return nil, status.Error(codes.Unauthenticated, "a watch of every gateway needs a verified client certificate whose principal server.authorization.gateways lists")
	case !g.Known(who):
		return nil, status.Errorf(codes.PermissionDenied, "principal %q may act for no gateway", who)
	case g.AllowsAny(who):
		return nil, nil
	}
	return func(gateway string) bool { return g.Allowed(who, gateway) }, nil
}

// rateLimit enforces Options.RateLimiter per client: the principal, else the peer's IP address.
type rateLimit struct{ l *access.Limiter }

func clientKey(ctx context.Context) string {
	if who, ok := principal(ctx); ok {
		return "principal:" + who
	}
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "peer:unknown"
	}
	if tcp, ok := p.Addr.(*net.TCPAddr); ok {
		return "peer:" + tcp.IP.String()
	}
	return "peer:" + p.Addr.String()
}

func (r rateLimit) check(ctx context.Context) error {
	ok, wait := r.l.Allow(clientKey(ctx))
	if ok {
		return nil
	}
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("rate limit: this client (%s) exceeds server.rate_limit; retry in %v", clientKey(ctx), wait.Round(time.Millisecond)))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = d
	}
	return st.Err()
}

func (r rateLimit) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// stream counts a stream's opening as one call; its messages are not limited.
func (r rateLimit) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := r.check(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}
