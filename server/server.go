package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/modelium/brain/access"
	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
)

// ServiceName is the full name of the BrainService, as the health service and reflection know it.
const ServiceName = "modelium.brain.v1.BrainService"

// DefaultHeartbeatInterval is how often a quiet recommendation stream gets a heartbeat.
const DefaultHeartbeatInterval = 5 * time.Second

// Options configure a Server. The zero value of every field has a working default.
type Options struct {
	// Logger receives one line per finished call that did not succeed, panics and lifecycle events.
	Logger *slog.Logger
	// Clock tells the time; tests inject a fake one.
	Clock func() time.Time
	// HeartbeatInterval is how often a quiet recommendation stream gets a heartbeat (default DefaultHeartbeatInterval).
	HeartbeatInterval time.Duration
	// Interceptors run inside logging and recovery and before validation, for example Prometheus
	// server metrics.
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor

	// Rules is the runtime rule table (default: rules.DefaultTable()).
	Rules *rules.Table
	// Enabled says which runtimes the table may choose (default: all).
	Enabled *rules.Enabled
	// Recorder counts decisions and recommendations for Prometheus; nil counts nothing.
	Recorder *metrics.Recorder

	// UnloadPolicy is the fixed policy's configuration, which GetPolicy shows (default:
	// rules.DefaultUnloadPolicy()).
	UnloadPolicy *rules.UnloadPolicy
	// Policy decides recommendations, for ShouldUnload and the evaluation loop (default:
	// recommend.NewFixedPolicy(UnloadPolicy)).
	Policy recommend.Policy
	// DecisionInterval is how often the evaluation loop runs (default 10 s); negative runs none,
	// and the caller drives cycles with Server.Evaluate.
	DecisionInterval time.Duration
	// WatchWindow is how many recent recommendation events are kept for exact replay on resume
	// (default 10,000).
	WatchWindow int
	// WatchQueueSize is how many events may wait for one subscriber before they coalesce per
	// (gateway, model) (default 1,024); a subscriber that still has more than WatchMaxPending
	// waiting when the next events are published is cut off with RESOURCE_EXHAUSTED (default
	// 100,000).
	WatchQueueSize, WatchMaxPending int

	// Tracker holds what gateways report (default: a new tracker on Clock).
	Tracker *metrics.Tracker
	// GPUs is the GPU inventory placement reads (default: none, no GPUs).
	GPUs gpu.Inventory
	// Placement tunes GPU placement: default strategy, headroom, reservation TTL.
	Placement gpu.AllocatorConfig
	// Creds are the transport credentials (NewTLS); nil serves plaintext.
	Creds credentials.TransportCredentials
	// AuthzPolicy restricts RPCs by principal (NewPolicy); nil allows every RPC.
	AuthzPolicy *Policy
	// Gateways, when set, lets a call that names a gateway through only from a principal that may
	// act for it (authz.go); nil allows every caller every gateway.
	Gateways *access.Gateways
	// RateLimiter, when set, limits calls per client (authz.go); nil limits nothing.
	RateLimiter *access.Limiter
	// GatewayTTL forgets a gateway, with its models, after this long without a report, a sync or an
	// open watch stream (0: never).
	GatewayTTL time.Duration
	// NextUse estimates when a loaded model is wanted next, for ChooseGPU's eviction plans; nil
	// asks Policy when it estimates victims (the predictive policy's Victims: its history's plan,
	// recency where it has none, weighed by size), else ranks them by their last request (LRU).
	NextUse gpu.NextUseEstimator
}

// Server is the gRPC server of the brain: the BrainService, the health service and reflection,
// behind one interceptor chain.
type Server struct {
	brainv1.UnimplementedBrainServiceServer

	log      *slog.Logger
	now      func() time.Time
	opts     Options
	rules    *rules.Table
	enabled  rules.Enabled
	recorder *metrics.Recorder
	tracker  *metrics.Tracker
	gpus     *gpu.Allocator
	grpc     *grpc.Server
	health   *health.Server
	epoch    string

	// Recommendations: the fixed policy's configuration, the engine and the streams' hub.
	unload   *rules.UnloadPolicy
	engine   *recommend.Engine
	hub      *recommend.Hub[*wire]
	watchers watchers // open recommendation streams per gateway, which keep it from expiring

	// makeRoom orders the publication of an eviction plan's make_room recommendations after the
	// withdrawal of those of ended reservations, so that a victim claimed anew is never withdrawn
	// by the end of its previous claim.
	makeRoom sync.Mutex

	stopOnce sync.Once
	stopping chan struct{} // closed when shutdown starts: streams end with UNAVAILABLE
}

// New builds a Server; Serve starts it.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.Rules == nil {
		o.Rules = rules.DefaultTable()
	}
	if o.Tracker == nil {
		o.Tracker = metrics.NewTracker(metrics.Config{Now: o.Clock})
	}
	if o.GPUs == nil {
		o.GPUs, _ = gpu.Open(gpu.Config{Backend: gpu.BackendNone, Clock: o.Clock}, o.Logger)
	}
	if o.Placement.Clock == nil {
		o.Placement.Clock = o.Clock
	}
	if o.Enabled == nil {
		o.Enabled = &rules.AllEnabled
	}
	s := &Server{
		log:      o.Logger,
		now:      o.Clock,
		opts:     o,
		health:   health.NewServer(),
		epoch:    newEpoch(),
		stopping: make(chan struct{}),
		rules:    o.Rules,
		enabled:  *o.Enabled,
		recorder: o.Recorder,
		tracker:  o.Tracker,
		gpus:     gpu.NewAllocator(o.GPUs, o.Placement),
	}
	s.startRecommendations()

	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(codeToLevel),
	}
	recoveryOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(s.recoverPanic)}
	unary := []grpc.UnaryServerInterceptor{
		logging.UnaryServerInterceptor(slogAdapter(o.Logger), logOpts...),
		clientGoneUnary,
		recovery.UnaryServerInterceptor(recoveryOpts...),
	}
	unary = append(unary, o.UnaryInterceptors...)
	stream := []grpc.StreamServerInterceptor{
		logging.StreamServerInterceptor(slogAdapter(o.Logger), logOpts...),
		clientGoneStream,
		recovery.StreamServerInterceptor(recoveryOpts...),
	}
	stream = append(stream, o.StreamInterceptors...)
	// Access before validation: a caller learns nothing of the rules of a request it may not make.
	if o.AuthzPolicy != nil {
		unary, stream = append(unary, o.AuthzPolicy.w.UnaryInterceptor), append(stream, o.AuthzPolicy.w.StreamInterceptor)
	}
	if o.RateLimiter != nil {
		rl := rateLimit{l: o.RateLimiter}
		unary, stream = append(unary, rl.unary), append(stream, rl.stream)
	}
	if o.Gateways != nil {
		ga := gatewayAuthz{gateways: o.Gateways}
		unary, stream = append(unary, ga.unary), append(stream, ga.stream)
	}
	rv := requestValidator{codec: newLenientCodec()}
	unary, stream = append(unary, rv.unary), append(stream, rv.stream)

	serverOpts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.ForceServerCodecV2(rv.codec),
		// Admit the usual client keepalive settings (pings every 10 s and more, also without an
		// open stream) instead of answering them with GOAWAY too_many_pings, and find dead peers
		// of long-lived watch streams.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	}
	if o.Creds != nil {
		serverOpts = append(serverOpts, grpc.Creds(o.Creds))
	}
	s.grpc = grpc.NewServer(serverOpts...)
	brainv1.RegisterBrainServiceServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, healthService{Server: s.health, stopping: s.stopping})
	if err := registerReflection(s.grpc); err != nil {
		// The descriptor set is embedded at build time; a broken one is a build defect.
		panic(err)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	s.updateGPUHealth()
	go s.watchGPUHealth(time.Second)
	if o.GatewayTTL > 0 {
		go s.runExpiry()
	}
	return s
}

// GRPC returns the underlying grpc.Server, for metrics that need to see its registered services.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Epoch is this process's stream epoch: random per start.
func (s *Server) Epoch() string { return s.epoch }

// Serve accepts connections on lis until Shutdown. It returns nil after a shutdown.
func (s *Server) Serve(lis net.Listener) error {
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Shutdown stops the server gracefully: health turns NOT_SERVING, every open stream ends with
// UNAVAILABLE, in-flight unary calls finish, and past ctx's deadline the rest are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.health.Shutdown()
		close(s.stopping)
		s.hub.Close()
	})
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
		return fmt.Errorf("graceful stop did not finish in time, connections were closed: %w", ctx.Err())
	}
}

// errShuttingDown ends open streams when the brain stops.
var errShuttingDown = status.Error(codes.Unavailable, "the brain is shutting down: reconnect and resume from the last (epoch, sequence) you saw")

// recoverPanic turns a panic into INTERNAL and a log line; the client sees no internals.
func (s *Server) recoverPanic(ctx context.Context, p any) error {
	method, _ := grpc.Method(ctx)
	s.log.ErrorContext(ctx, "panic in handler", "grpc.method", method, "panic", fmt.Sprint(p))
	return status.Error(codes.Internal, "internal error: the brain could not answer this request; it has been logged")
}

// codeToLevel logs successful calls at debug, so that the default info level has one line per
// failed call and none for the hot path.
func codeToLevel(c codes.Code) logging.Level {
	switch c {
	case codes.OK, codes.Canceled:
		return logging.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return logging.LevelError
	default:
		return logging.LevelWarn
	}
}

func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		if !l.Enabled(ctx, slog.Level(lvl)) {
			return
		}
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

func newEpoch() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a clock-derived epoch still differs
		// between starts.
		return fmt.Sprintf("%016x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}
