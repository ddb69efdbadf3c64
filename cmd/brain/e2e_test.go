package main

// End-to-end tests of the real brain binary: built once, started on free loopback ports, spoken to
// over real gRPC connections and stopped with real signals.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/internal/brainproc"
)

var brainBinary string

func TestMain(m *testing.M) {
	// A prebuilt binary, for hosts without a Go toolchain (the GPU check machine).
	if brainBinary = os.Getenv("MODELIUM_BRAIN_BINARY"); brainBinary != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "brain-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	brainBinary = filepath.Join(dir, "brain")
	build := exec.Command("go", "build", "-o", brainBinary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the brain binary:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// brainProcess is a running brain binary.
type brainProcess struct{ *brainproc.Process }

// startBrain runs the binary with args (after free loopback ports, JSON logs at debug level) and
// waits until it serves. The process is killed when the test ends, if it still runs; its log is
// printed when the test failed.
func startBrain(t *testing.T, args ...string) *brainProcess {
	t.Helper()
	return startBrainIn(t, "", args...)
}

// startBrainIn is startBrain with the brain's working directory dir.
func startBrainIn(t *testing.T, dir string, args ...string) *brainProcess {
	t.Helper()
	binary, err := filepath.Abs(brainBinary)
	if err != nil {
		t.Fatal(err)
	}
	p, err := brainproc.StartIn(context.Background(), dir, binary, append([]string{"--log-level", "debug"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			for _, l := range p.Logs() {
				t.Logf("brain log: %s", l)
			}
		}
	})
	return &brainProcess{p}
}

// Dial opens a client connection to the brain.
func (p *brainProcess) Dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(p.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestE2EHealthServing(t *testing.T) {
	brain := startBrain(t)
	health := healthpb.NewHealthClient(brain.Dial(t))
	for _, svc := range []string{"", "modelium.brain.v1.BrainService"} {
		resp, err := health.Check(callCtx(t), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			t.Fatalf("Health/Check(%q): %v", svc, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Health/Check(%q) = %v, want SERVING", svc, resp.GetStatus())
		}
	}
}

func TestE2EReflectionDescribesDocumentedService(t *testing.T) {
	brain := startBrain(t)
	stream, err := reflectionpb.NewServerReflectionClient(brain.Dial(t)).ServerReflectionInfo(callCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	ask := func(req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	list := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	var services []string
	for _, s := range list.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	for _, want := range []string{"modelium.brain.v1.BrainService", "grpc.health.v1.Health"} {
		if !contains(services, want) {
			t.Errorf("reflection lists %v, missing %s", services, want)
		}
	}

	resp := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "modelium.brain.v1.BrainService"}})
	var fd *descriptorpb.FileDescriptorProto
	for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		f := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw, f); err != nil {
			t.Fatal(err)
		}
		if f.GetPackage() == "modelium.brain.v1" {
			fd = f
		}
	}
	if fd == nil || len(fd.GetService()) != 1 {
		t.Fatalf("no descriptor of modelium.brain.v1 with one service: %v", fd)
	}
	var rpcs []string
	for _, m := range fd.GetService()[0].GetMethod() {
		rpcs = append(rpcs, m.GetName())
	}
	wantRPCs := []string{"ChooseRuntime", "AnalyzeModel", "ChooseGPU", "ShouldUnload", "ReportModelState", "ReportTraffic",
		"WatchUnloadRecommendations", "ListModels", "ListGPUs", "GetPolicy", "PlanPlacement"}
	for _, want := range wantRPCs {
		if !contains(rpcs, want) {
			t.Errorf("BrainService has %v, missing %s", rpcs, want)
		}
	}
	// Every service, RPC, message and field carries its comment, so grpcurl describe shows it.
	documented := map[string]bool{}
	for _, loc := range fd.GetSourceCodeInfo().GetLocation() {
		if strings.TrimSpace(loc.GetLeadingComments()) != "" {
			documented[fmt.Sprint(loc.GetPath())] = true
		}
	}
	const messageTag, fieldTag, serviceTag, methodTag = 4, 2, 6, 2
	for i, m := range fd.GetMessageType() {
		if !documented[fmt.Sprint([]int32{messageTag, int32(i)})] {
			t.Errorf("message %s has no comment in the served descriptor", m.GetName())
		}
		for j, f := range m.GetField() {
			if !documented[fmt.Sprint([]int32{messageTag, int32(i), fieldTag, int32(j)})] {
				t.Errorf("field %s.%s has no comment in the served descriptor", m.GetName(), f.GetName())
			}
		}
	}
	for j, m := range fd.GetService()[0].GetMethod() {
		if !documented[fmt.Sprint([]int32{serviceTag, 0, methodTag, int32(j)})] {
			t.Errorf("rpc %s has no comment in the served descriptor", m.GetName())
		}
	}
}

func TestE2EBadRequestGetsFieldViolations(t *testing.T) {
	brain := startBrain(t)
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	_, err := client.ChooseGPU(callCtx(t), &brainv1.ChooseGPURequest{ModelName: strings.Repeat("m", 300), RequiredBytes: -1})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("ChooseGPU with bad fields = %v, want INVALID_ARGUMENT", err)
	}
	got := map[string]string{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				got[v.GetField()] = v.GetDescription()
			}
		}
	}
	if !strings.Contains(got["model_name"], "256") || !strings.Contains(got["required_bytes"], "positive") {
		t.Errorf("field violations = %v, want model_name (too long) and required_bytes (not positive)", got)
	}
}

func TestE2ESIGTERMEndsOpenStreamAndExitsCleanly(t *testing.T) {
	brain := startBrain(t, "--config", writeConfig(t, "server:\n  shutdown_timeout: 5s\n  heartbeat_interval: 100ms\n"))
	client := brainv1.NewBrainServiceClient(brain.Dial(t))
	stream, err := client.WatchUnloadRecommendations(context.Background(), &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	// The stream is open: the snapshot ends and heartbeats follow.
	sawSnapshotEnd, sawHeartbeat := false, false
	for !sawHeartbeat {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream before SIGTERM: %v", err)
		}
		if msg.GetEpoch() == "" {
			t.Errorf("message without epoch: %v", msg)
		}
		sawSnapshotEnd = sawSnapshotEnd || msg.GetSnapshotEnd() != nil
		sawHeartbeat = msg.GetHeartbeat() != nil
	}
	if !sawSnapshotEnd {
		t.Error("heartbeat before the snapshot-end marker")
	}

	start := time.Now()
	if err := brain.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := stream.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.Unavailable {
			t.Errorf("stream ended with %v, want UNAVAILABLE", err)
		}
		break
	}
	select {
	case <-brain.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("brain did not exit within 10 s of SIGTERM")
	}
	if brain.ExitErr() != nil {
		t.Errorf("brain exited with %v, want a clean exit", brain.ExitErr())
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("shutdown took %v, longer than its 5 s deadline", elapsed)
	}
}

// writeConfig writes a configuration file for one test.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "brain.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// connEvents counts client connection ends, to see a server GOAWAY.
type connEvents struct {
	mu    sync.Mutex
	ended int
}

func (c *connEvents) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (c *connEvents) HandleRPC(context.Context, stats.RPCStats)                         {}
func (c *connEvents) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (c *connEvents) HandleConn(_ context.Context, s stats.ConnStats) {
	if _, ok := s.(*stats.ConnEnd); ok {
		c.mu.Lock()
		c.ended++
		c.mu.Unlock()
	}
}

func TestE2EKeepaliveAdmitsUsualClientSettings(t *testing.T) {
	t.Parallel()
	brain := startBrain(t)
	events := &connEvents{}
	// Pings every 10 s (the least grpc-go allows), also without an open call: with grpc's default
	// enforcement (5 min) the third such ping is answered with GOAWAY too_many_pings, about 30 s in.
	conn, err := grpc.NewClient(brain.GRPCAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
		grpc.WithStatsHandler(events))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	if _, err := health.Check(callCtx(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(35 * time.Second)
	if _, err := health.Check(callCtx(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	events.mu.Lock()
	defer events.mu.Unlock()
	if events.ended != 0 {
		t.Errorf("the brain closed a connection that pinged every 10 s (%d connection ends)", events.ended)
	}
}
