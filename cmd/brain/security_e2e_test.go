package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/internal/testpki"
)

// testPKI writes a CA, the brain's certificate (for 127.0.0.1) and a gateway's client certificate
// into dir, made now: nothing that expires is committed.
type testPKI struct {
	ca                        *testpki.CA
	caFile, certFile, keyFile string
	gateway                   tls.Certificate
	gatewayCert, gatewayKey   string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca, err := testpki.NewCA("brain e2e CA")
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{ca: ca, caFile: filepath.Join(dir, "ca.pem")}
	if err := testpki.WriteFile(p.caFile, ca.PEM); err != nil {
		t.Fatal(err)
	}
	brain, err := ca.Issue(testpki.Leaf{CommonName: "brain", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.certFile, p.keyFile, err = brain.Write(dir, "brain"); err != nil {
		t.Fatal(err)
	}
	gw, err := ca.Issue(testpki.Leaf{CommonName: "gw-1", URIs: []string{"spiffe://example.org/gateway/gw-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.gatewayCert, p.gatewayKey, err = gw.Write(dir, "gw-1"); err != nil {
		t.Fatal(err)
	}
	if p.gateway, err = gw.TLS(); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsConfig is the server.tls section for mutual TLS with these files.
func (p *testPKI) tlsConfig() string {
	return fmt.Sprintf("server:\n  tls:\n    cert_file: %s\n    key_file: %s\n    client_ca_file: %s\n    client_auth: require\n"+
		"  authorization:\n    gateways: [{principal: \"spiffe://example.org/gateway/gw-1\", gateway_ids: [gw-1]}]\n",
		p.certFile, p.keyFile, p.caFile)
}

func (p *testPKI) dial(t *testing.T, addr string, withCert bool) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{RootCAs: p.ca.Pool(), MinVersion: tls.VersionTLS12}
	if withCert {
		cfg.Certificates = []tls.Certificate{p.gateway}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestE2EMutualTLS(t *testing.T) {
	p := newTestPKI(t)
	brain := startBrain(t, "--config", writeConfig(t, p.tlsConfig()))
	check := func(conn *grpc.ClientConn) error {
		_, err := healthpb.NewHealthClient(conn).Check(callCtx(t), &healthpb.HealthCheckRequest{})
		return err
	}
	gw := p.dial(t, brain.GRPCAddr, true)
	if err := check(gw); err != nil {
		t.Errorf("a gateway with a certificate of the client CA: %v", err)
	}
	// server.authorization.gateways: the gateway acts for itself, not for another.
	brainClient := brainv1.NewBrainServiceClient(gw)
	if _, err := brainClient.SyncGateway(callCtx(t), &brainv1.SyncGatewayRequest{GatewayId: "gw-1"}); err != nil {
		t.Errorf("gw-1 syncs itself: %v", err)
	}
	if _, err := brainClient.SyncGateway(callCtx(t), &brainv1.SyncGatewayRequest{GatewayId: "gw-2"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gw-1 syncs gw-2: %v; want PERMISSION_DENIED", err)
	}
	if err := check(p.dial(t, brain.GRPCAddr, false)); status.Code(err) != codes.Unavailable {
		t.Errorf("a client without a certificate: %v; want UNAVAILABLE", err)
	}
	conn, err := grpc.NewClient(brain.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := check(conn); status.Code(err) != codes.Unavailable {
		t.Errorf("a plaintext client: %v; want UNAVAILABLE", err)
	}
	// The refusals are logged by the server after the clients have their errors: wait for them.
	var refused, denied bool
	lines, _ := brain.WaitLogs(10*time.Second, func(lines []string) bool {
		refused, denied = false, false
		for _, l := range lines {
			refused = refused || strings.Contains(l, "TLS handshake refused") && strings.Contains(l, "peer.address")
			denied = denied || strings.Contains(l, `principal \"spiffe://example.org/gateway/gw-1\" may not act for gateway \"gw-2\"`)
		}
		return refused && denied
	})
	for _, l := range lines {
		if strings.Contains(l, "beyond loopback") {
			t.Errorf("a brain with TLS on loopback warned: %s", l)
		}
	}
	if !refused || !denied {
		t.Errorf("the log does not say who was refused and why (handshake %v, gateway %v):\n%s", refused, denied, strings.Join(lines, "\n"))
	}
}

func TestE2EPlaintextBeyondLoopbackWarns(t *testing.T) {
	brain := startBrain(t, "--grpc-addr", "0.0.0.0:0")
	warned := false
	for _, l := range brain.Logs() {
		warned = warned || strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "the gRPC server listens beyond loopback without TLS")
	}
	if !warned {
		t.Errorf("a plaintext brain on 0.0.0.0 did not warn; its log:\n%s", strings.Join(brain.Logs(), "\n"))
	}
}
