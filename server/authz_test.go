package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modelium/brain/access"
	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/internal/testpki"
	"github.com/modelium/brain/metrics"
	"github.com/modelium/brain/server"
)

// callers are clients of one CA, each naming its principal another way.
type callers struct {
	p                          *pki
	gw1, ops, cnOnly, stranger testpki.Issued
}

func newCallers(t testing.TB) *callers {
	p := newPKI(t)
	return &callers{
		p:        p,
		gw1:      p.clientGood, // URI SAN spiffe://example.org/gateway/gw-1
		ops:      must(p.ca.Issue(testpki.Leaf{CommonName: "ignored", DNSNames: []string{"ops.example.org"}})),
		cnOnly:   must(p.ca.Issue(testpki.Leaf{CommonName: "cn-only"})),
		stranger: must(p.ca.Issue(testpki.Leaf{CommonName: "stranger"})),
	}
}

func gatewayMap(t testing.TB) *access.Gateways {
	g, err := access.NewGateways([]access.GatewayRule{
		{Principal: "spiffe://example.org/gateway/gw-1", GatewayIDs: []string{"gw-1"}},
		{Principal: "ops.example.org", GatewayIDs: []string{access.AnyGateway}},
		{Principal: "cn-only", GatewayIDs: []string{"gw-2", "gw-3"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// startAuthz serves a brain that requests client certificates (so that a client without one
// connects, unauthenticated) and enforces the gateway map.
func startAuthz(t testing.TB, c *callers, o server.Options) (string, *server.Server) {
	o.Gateways = gatewayMap(t)
	addr, _, srv := startTLSServer(t, server.TLSConfig{CertFile: c.p.certFile, KeyFile: c.p.keyFile, ClientCAFile: c.p.caFile,
		ClientAuth: server.ClientAuthRequest}, o)
	return addr, srv
}

func client(t testing.TB, addr string, c *callers, cert *testpki.Issued) brainv1.BrainServiceClient {
	return brainv1.NewBrainServiceClient(dialTLS(t, addr, c.p.ca, cert))
}

// firstWatchMessage opens a watch and returns its first message or error.
func firstWatchMessage(ctx context.Context, cl brainv1.BrainServiceClient, req *brainv1.WatchUnloadRecommendationsRequest) (*brainv1.WatchUnloadRecommendationsResponse, error) {
	stream, err := cl.WatchUnloadRecommendations(ctx, req)
	if err != nil {
		return nil, err
	}
	return stream.Recv()
}

func TestGatewayAuthorization(t *testing.T) {
	c := newCallers(t)
	addr, _ := startAuthz(t, c, server.Options{})
	state := func(gw string) func(context.Context, brainv1.BrainServiceClient) error {
		return func(ctx context.Context, cl brainv1.BrainServiceClient) error {
			_, err := cl.ReportModelState(ctx, &brainv1.ReportModelStateRequest{GatewayId: gw, ModelName: "m", State: brainv1.ModelState_MODEL_STATE_LOADED})
			return err
		}
	}
	traffic := func(gw string) func(context.Context, brainv1.BrainServiceClient) error {
		return func(ctx context.Context, cl brainv1.BrainServiceClient) error {
			_, err := cl.ReportTraffic(ctx, &brainv1.ReportTrafficRequest{GatewayId: gw})
			return err
		}
	}
	sync := func(gw string) func(context.Context, brainv1.BrainServiceClient) error {
		return func(ctx context.Context, cl brainv1.BrainServiceClient) error {
			_, err := cl.SyncGateway(ctx, &brainv1.SyncGatewayRequest{GatewayId: gw})
			return err
		}
	}
	chooseGPU := func(gw string, reserve bool) func(context.Context, brainv1.BrainServiceClient) error {
		return func(ctx context.Context, cl brainv1.BrainServiceClient) error {
			_, err := cl.ChooseGPU(ctx, &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: 1, GatewayId: gw, Reserve: reserve})
			return err
		}
	}
	watch := func(gw string) func(context.Context, brainv1.BrainServiceClient) error {
		return func(ctx context.Context, cl brainv1.BrainServiceClient) error {
			_, err := firstWatchMessage(ctx, cl, &brainv1.WatchUnloadRecommendationsRequest{GatewayId: gw})
			return err
		}
	}
	watchAll := func(gw string) func(context.Context, brainv1.BrainServiceClient) error {
		return func(ctx context.Context, cl brainv1.BrainServiceClient) error {
			stream, err := cl.WatchRecommendations(ctx, &brainv1.WatchRecommendationsRequest{GatewayId: gw})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		}
	}
	chooseRuntime := func(ctx context.Context, cl brainv1.BrainServiceClient) error {
		_, err := cl.ChooseRuntime(ctx, &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "gpt2"}})
		return err
	}
	const allowed = codes.OK
	tests := []struct {
		name   string
		caller *testpki.Issued
		call   func(context.Context, brainv1.BrainServiceClient) error
		want   codes.Code // allowed: the call passed authorization (it may fail later for other reasons)
	}{
		{"a gateway reports for itself (URI SAN)", &c.gw1, state("gw-1"), allowed},
		{"a gateway may not report state for another", &c.gw1, state("gw-2"), codes.PermissionDenied},
		{"a gateway may not report traffic for another", &c.gw1, traffic("gw-2"), codes.PermissionDenied},
		{"a gateway may not sync another", &c.gw1, sync("gw-2"), codes.PermissionDenied},
		{"a gateway may not reserve GPU memory for another", &c.gw1, chooseGPU("gw-2", true), codes.PermissionDenied},
		{"a placement without a reservation names no gateway", &c.gw1, chooseGPU("gw-2", false), allowed},
		{"a gateway may not watch another", &c.gw1, watch("gw-2"), codes.PermissionDenied},
		{"a gateway watches itself", &c.gw1, watch("gw-1"), allowed},
		{"a gateway may not watch another's recommendations of every kind", &c.gw1, watchAll("gw-2"), codes.PermissionDenied},
		{"a client without a certificate may not watch every gateway's recommendations of every kind", nil, watchAll(""), codes.Unauthenticated},
		{"a principal with * acts for any gateway (DNS SAN)", &c.ops, sync("gw-9"), allowed},
		{"a principal by common name acts for its gateways", &c.cnOnly, sync("gw-3"), allowed},
		{"a principal the map does not list is refused", &c.stranger, sync("gw-1"), codes.PermissionDenied},
		{"a client without a certificate may not name a gateway", nil, sync("gw-1"), codes.Unauthenticated},
		{"a client without a certificate may not watch every gateway", nil, watch(""), codes.Unauthenticated},
		{"a principal the map does not list may not watch every gateway", &c.stranger, watch(""), codes.PermissionDenied},
		{"a call that names no gateway needs no certificate", nil, chooseRuntime, allowed},
		{"an oversized gateway id is refused for a principal without *", &c.gw1, sync(strings.Repeat("g", server.MaxNameBytes+1)), codes.PermissionDenied},
		{"a principal with * gets validation's answer to an oversized gateway id", &c.ops, sync(strings.Repeat("g", server.MaxNameBytes+1)), codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(ctxT(t), client(t, addr, c, tt.caller))
			got := status.Code(err)
			if tt.want == allowed {
				if got == codes.PermissionDenied || got == codes.Unauthenticated {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %v; want %v", err, tt.want)
			}
		})
	}
}

func TestAuthorizationRefusalsAreLoggedWithWhoAndWhy(t *testing.T) {
	c := newCallers(t)
	tests := []struct {
		name   string
		caller *testpki.Issued
		want   codes.Code
		log    []string // what the call's log line says beyond the peer's address and the code
	}{
		{"a principal the map does not list", &c.stranger, codes.PermissionDenied, []string{`principal \"stranger\" may not act for gateway \"gw-1\"`}},
		{"a principal acting for another's gateway", &c.cnOnly, codes.PermissionDenied, []string{`principal \"cn-only\" may not act for gateway \"gw-1\"`}},
		{"a client without a certificate", nil, codes.Unauthenticated, []string{"needs a verified client certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, logs, _ := startTLSServer(t, server.TLSConfig{CertFile: c.p.certFile, KeyFile: c.p.keyFile, ClientCAFile: c.p.caFile,
				ClientAuth: server.ClientAuthRequest}, server.Options{Gateways: gatewayMap(t)})
			_, err := client(t, addr, c, tt.caller).SyncGateway(ctxT(t), &brainv1.SyncGatewayRequest{GatewayId: "gw-1"})
			if got := status.Code(err); got != tt.want {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			assertNoInternals(t, err, c.p.dir)
			waitFor(t, func() bool { return strings.Contains(logs.String(), "grpc.code="+tt.want.String()) })
			line := logLine(t, logs.String(), "grpc.code="+tt.want.String())
			for _, want := range append([]string{"level=WARN", "grpc.method=SyncGateway", "peer.address=127.0.0.1:"}, tt.log...) {
				if !strings.Contains(line, want) {
					t.Errorf("the refusal's log line lacks %q:\n%s", want, line)
				}
			}
		})
	}
}

func TestWatchWithoutGatewaySeesOnlyTheCallersGateways(t *testing.T) {
	c := newCallers(t)
	clock := newFakeClock()
	tr := metrics.NewTracker(metrics.Config{Now: clock.Now})
	addr, srv := startAuthz(t, c, server.Options{Tracker: tr, Clock: clock.Now})
	for _, gw := range []string{"gw-1", "gw-2", "gw-3"} {
		if _, err := tr.ReportState(metrics.StateReport{Gateway: gw, Model: "model-on-" + gw, State: metrics.StateLoaded}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	srv.Evaluate(clock.Now())
	seen := func(caller *testpki.Issued) []string {
		stream, err := client(t, addr, c, caller).WatchUnloadRecommendations(ctxT(t), &brainv1.WatchUnloadRecommendationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var gws []string
		for {
			m, err := stream.Recv()
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if m.GetSnapshotEnd() != nil {
				slices.Sort(gws)
				return gws
			}
			gws = append(gws, m.GetRecommended().GetGatewayId())
		}
	}
	for _, tt := range []struct {
		name   string
		caller *testpki.Issued
		want   []string
	}{
		{"a gateway sees its own", &c.gw1, []string{"gw-1"}},
		{"a principal of two gateways sees both", &c.cnOnly, []string{"gw-2", "gw-3"}},
		{"a principal with * sees all", &c.ops, []string{"gw-1", "gw-2", "gw-3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := seen(tt.caller); !slices.Equal(got, tt.want) {
				t.Errorf("snapshot of gateways %v; want %v", got, tt.want)
			}
		})
	}
}

func TestPolicyFileRestrictsRPCsAndIsReread(t *testing.T) {
	c := newCallers(t)
	file := filepath.Join(t.TempDir(), "policy.json")
	write := func(policy string) {
		t.Helper()
		if err := testpki.WriteFile(file, []byte(policy)); err != nil {
			t.Fatal(err)
		}
	}
	// Operators (ops.example.org) may call everything; gateways only what gateways call.
	write(`{"name": "brain", "allow_rules": [
	  {"name": "operators", "source": {"principals": ["ops.example.org"]}},
	  {"name": "gateways", "request": {"paths": ["/modelium.brain.v1.BrainService/ReportModelState", "/modelium.brain.v1.BrainService/SyncGateway"]}}
	]}`)
	policy, err := server.NewPolicy(file, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(policy.Close)
	addr, _ := startAuthz(t, c, server.Options{AuthzPolicy: policy})
	listModels := func(caller *testpki.Issued) error {
		_, err := client(t, addr, c, caller).ListModels(ctxT(t), &brainv1.ListModelsRequest{})
		return err
	}
	if err := listModels(&c.ops); err != nil {
		t.Errorf("an operator's ListModels: %v", err)
	}
	if err := listModels(&c.gw1); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a gateway's ListModels: %v; want PERMISSION_DENIED", err)
	}
	if _, err := client(t, addr, c, &c.gw1).SyncGateway(ctxT(t), &brainv1.SyncGatewayRequest{GatewayId: "gw-1"}); err != nil {
		t.Errorf("a gateway's SyncGateway: %v", err)
	}
	// The file changes under the running brain: every RPC is allowed from the next read on.
	write(`{"name": "brain", "allow_rules": [{"name": "all"}]}`)
	waitFor(t, func() bool { return listModels(&c.gw1) == nil })

	if _, err := server.NewPolicy(filepath.Join(t.TempDir(), "missing.json"), time.Second); err == nil {
		t.Error("NewPolicy of a missing file: no error")
	}
}

func TestRateLimitPerClient(t *testing.T) {
	c := newCallers(t)
	frozen := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) // no token comes back: counts are exact
	const burst = 100
	limiter := access.NewLimiter(10, burst, 0, func() time.Time { return frozen })
	addr, _ := startAuthz(t, c, server.Options{RateLimiter: limiter})
	flooder, other := client(t, addr, c, &c.gw1), client(t, addr, c, &c.ops)

	// The flooder sends 4x its burst as fast as it can, on 8 goroutines, while the other client
	// makes calls of its own beside it.
	results := make(chan error, 4*burst)
	for w := range 8 {
		go func() {
			for range 4 * burst / 8 {
				_, err := flooder.ChooseRuntime(context.Background(), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: fmt.Sprint("m", w)}})
				results <- err
			}
		}()
	}
	var latencies []time.Duration
	for range burst / 2 {
		start := time.Now()
		if _, err := other.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "gpt2"}}); err != nil {
			t.Fatalf("the other client was refused while the flooder flooded: %v", err)
		}
		latencies = append(latencies, time.Since(start))
	}
	ok, limited := 0, 0
	var retry time.Duration
	for range 4 * burst {
		err := <-results
		switch status.Code(err) {
		case codes.OK:
			ok++
		case codes.ResourceExhausted:
			limited++
			for _, d := range status.Convert(err).Details() {
				if ri, isRetry := d.(*errdetails.RetryInfo); isRetry {
					retry = ri.GetRetryDelay().AsDuration()
				}
			}
		default:
			t.Fatalf("flood call: %v", err)
		}
	}
	if ok != burst || limited != 3*burst {
		t.Errorf("the flooder got %d calls through and %d limited; want its burst of %d through, the rest limited", ok, limited, burst)
	}
	if retry <= 0 || retry > time.Second {
		t.Errorf("RetryInfo delay %v; want the time to the next token (0.1 s at 10/s)", retry)
	}
	slices.Sort(latencies)
	t.Logf("the other client beside the flood: %d calls, all OK, latency p50 %v, max %v",
		len(latencies), latencies[len(latencies)/2], latencies[len(latencies)-1])

	// A stream's opening counts as a call.
	stream, err := flooder.WatchUnloadRecommendations(ctxT(t), &brainv1.WatchUnloadRecommendationsRequest{GatewayId: "gw-1"})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a limited client's watch: %v; want RESOURCE_EXHAUSTED", err)
	}
}
