// Command brain runs the Modelium Brain: the gRPC decision service of the Modelium model-serving
// platform. With no --config it runs the embedded defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/rules"
	"github.com/modelium/brain/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "brain:", err)
		os.Exit(1)
	}
}

// flags are the command line.
type flags struct {
	config      string
	grpcAddr    string
	metricsAddr string
	logFormat   string
	logLevel    string
	printConfig bool
	pprofAddr   string
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("brain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "YAML configuration file (an original modelium.yaml works); empty runs the embedded defaults")
	fs.StringVar(&f.grpcAddr, "grpc-addr", ":50051", "gRPC listen address")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "Prometheus /metrics listen address (default :<metrics.port> of the config, :9090); \"off\" disables it")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.printConfig, "print-config", false, "print the effective configuration as YAML and exit")
	fs.StringVar(&f.pprofAddr, "pprof-addr", "", "serve net/http/pprof on this address (a listener of its own); empty (the default) serves none")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	return f, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// run is the whole daemon; it returns when ctx is cancelled (a signal) and the server has stopped.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return err
	}
	table, err := cfg.RuntimeTable()
	if err != nil {
		return err
	}
	if f.printConfig {
		cfg.RuntimeRules = table.Rules()
		out, err := cfg.Marshal()
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	if err := validateAddr("--grpc-addr", f.grpcAddr); err != nil {
		return err
	}
	metricsAddr := f.metricsAddr
	if metricsAddr == "" && cfg.Metrics.Port != 0 {
		metricsAddr = ":" + strconv.Itoa(cfg.Metrics.Port)
	}
	if metricsAddr == "off" {
		metricsAddr = ""
	}
	if metricsAddr != "" {
		if err := validateAddr("--metrics-addr", metricsAddr); err != nil {
			return err
		}
	}
	if cfg.Brain.ModelName != "" {
		log.Warn("modelium_brain.model_name names an LLM advisor, which this version does not have: deciding by rules (fallback_to_rules is true)", "model_name", cfg.Brain.ModelName)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	grpcMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	reg.MustRegister(grpcMetrics)

	unload, err := cfg.UnloadPolicy()
	if err != nil {
		return err
	}
	// The keep-alive policy: nil is the server's default, the fixed one over unload.
	var policy recommend.Policy
	unloadRules := append(slices.Clone(rules.UnloadRules), recommend.RuleNotLoaded)
	predictive, err := predictivePolicy(cfg, log)
	if err != nil {
		return err
	}
	if predictive != nil {
		policy = predict.NewEnginePolicy(predictive, unload)
		unloadRules = append(unloadRules, predict.Rules...)
	}
	tracker := metrics.NewTracker(metrics.Config{MaxGateways: cfg.Server.MaxGateways, MaxModels: cfg.Server.MaxModels})
	recorder, err := metrics.NewRecorder(reg, tracker, metrics.RecorderConfig{
		MaxModelSeries: maxModelSeries(cfg),
		Rules: map[metrics.DecisionKind][]string{
			metrics.DecisionRuntime: ruleNames(table),
			metrics.DecisionGPU:     gpuStrategyNames(),
			metrics.DecisionUnload:  unloadRules,
		},
	})
	if err != nil {
		return fmt.Errorf("prometheus metrics: %w", err)
	}
	inventory, placement, err := gpuInventory(cfg, log)
	if err != nil {
		return err
	}
	defer inventory.Close()
	enabled := cfg.Enabled()
	creds, err := transportCredentials(cfg.Server, log)
	if err != nil {
		return err
	}
	var transport credentials.TransportCredentials
	if creds != nil {
		defer creds.Close()
		transport = creds.Creds
	}
	opts := server.Options{
		UnloadPolicy:       unload,
		Policy:             policy,
		DecisionInterval:   cfg.DecisionInterval(),
		GPUs:               inventory,
		Placement:          placement,
		Tracker:            tracker,
		Recorder:           recorder,
		Logger:             log,
		Rules:              table,
		Enabled:            &enabled,
		HeartbeatInterval:  time.Duration(cfg.Server.HeartbeatInterval),
		GatewayTTL:         time.Duration(cfg.Server.GatewayTTL),
		Creds:              transport,
		UnaryInterceptors:  []grpc.UnaryServerInterceptor{grpcMetrics.UnaryServerInterceptor()},
		StreamInterceptors: []grpc.StreamServerInterceptor{grpcMetrics.StreamServerInterceptor()},
	}
	stopAccess, err := accessOptions(cfg.Server, &opts)
	defer stopAccess()
	if err != nil {
		return err
	}
	srv := server.New(opts)
	grpcMetrics.InitializeMetrics(srv.GRPC())

	lis, err := net.Listen("tcp", f.grpcAddr)
	if err != nil {
		return fmt.Errorf("listen on --grpc-addr %s: %w", f.grpcAddr, err)
	}
	var metricsSrv *http.Server
	if metricsAddr != "" {
		mlis, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			lis.Close()
			return fmt.Errorf("listen on --metrics-addr %s: %w", metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := metricsSrv.Serve(mlis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server stopped", "err", err)
			}
		}()
		log.Info("serving Prometheus metrics", "addr", mlis.Addr().String(), "path", "/metrics")
		warnIfExposed(log, "the metrics endpoint", mlis.Addr(), "anyone who reaches it reads model names, gateways and traffic; bind --metrics-addr to loopback or a private network")
	}

	stopPprof, err := servePprof(f.pprofAddr, log)
	if err != nil {
		lis.Close()
		return err
	}
	defer stopPprof()
	if creds == nil {
		warnIfExposed(log, "the gRPC server", lis.Addr(), "anyone who reaches it can report, sync and watch as any gateway, in plaintext; set server.tls")
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(lis) }()
	stopState := startKeepingState(predictive, cfg.Orchestration.StateFile, log)
	defer stopState()
	log.Info("brain is serving", "grpc_addr", lis.Addr().String(), "epoch", srv.Epoch(),
		"runtimes", enabledRuntimes(cfg), "gpu_backend", inventory.Backend())

	select {
	case err := <-serveErr:
		return fmt.Errorf("grpc server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: health NOT_SERVING, ending streams, draining calls", "deadline", time.Duration(cfg.Server.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Server.ShutdownTimeout))
	defer cancel()
	err = srv.Shutdown(sctx)
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	if err != nil {
		log.Warn("shutdown", "err", err)
	}
	<-serveErr
	stopState() // the last state file write, after the last cycle
	log.Info("stopped")
	return nil
}

func enabledRuntimes(cfg *config.Config) string {
	var on []string
	for _, r := range []struct {
		name string
		on   bool
	}{{"vllm", cfg.VLLM.Enabled}, {"ray", cfg.RayServe.Enabled}, {"triton", cfg.Triton.Enabled}} {
		if r.on {
			on = append(on, r.name)
		}
	}
	return strings.Join(on, ",")
}
