package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/modelium/brain/internal/testpki"
	"github.com/modelium/brain/server"
)

// pki is a CA with the brain's certificate written to a folder, as an operator deploys them.
type pki struct {
	t                 testing.TB
	dir               string
	ca                *testpki.CA
	certFile, keyFile string
	caFile            string
	clientGood        testpki.Issued
	clientOtherCA     testpki.Issued
	clientExpired     testpki.Issued
	otherCA           *testpki.CA
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	p := &pki{t: t, dir: t.TempDir()}
	p.ca = must(testpki.NewCA("brain test CA"))
	p.otherCA = must(testpki.NewCA("another CA"))
	p.certFile, p.keyFile = p.writeServerCert("brain-a")
	p.caFile = filepath.Join(p.dir, "client-ca.pem")
	if err := testpki.WriteFile(p.caFile, p.ca.PEM); err != nil {
		t.Fatal(err)
	}
	p.clientGood = must(p.ca.Issue(testpki.Leaf{CommonName: "gw-1", URIs: []string{"spiffe://example.org/gateway/gw-1"}}))
	p.clientOtherCA = must(p.otherCA.Issue(testpki.Leaf{CommonName: "gw-1"}))
	p.clientExpired = must(p.ca.Issue(testpki.Leaf{CommonName: "gw-1",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}))
	return p
}

// writeServerCert (re)writes the brain's certificate, for 127.0.0.1, with a common name to tell
// certificates apart.
func (p *pki) writeServerCert(cn string) (string, string) {
	p.t.Helper()
	issued := must(p.ca.Issue(testpki.Leaf{CommonName: cn, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}))
	certFile, keyFile, err := issued.Write(p.dir, "brain")
	if err != nil {
		p.t.Fatal(err)
	}
	return certFile, keyFile
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// syncBuffer is a log destination that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTLS serves a brain with TLS on a loopback port; it returns the address and its log.
func startTLS(t testing.TB, c server.TLSConfig, o server.Options) (string, *syncBuffer) {
	addr, logs, _ := startTLSServer(t, c, o)
	return addr, logs
}

func startTLSServer(t testing.TB, c server.TLSConfig, o server.Options) (string, *syncBuffer, *server.Server) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	creds, err := server.NewTLS(c, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(creds.Close)
	o.Creds, o.Logger = creds.Creds, log
	if o.DecisionInterval == 0 {
		o.DecisionInterval = -1
	}
	srv := server.New(o)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return lis.Addr().String(), logs, srv
}

// startPlain serves a brain without TLS on a loopback port.
func startPlain(t testing.TB) string {
	t.Helper()
	srv := server.New(server.Options{DecisionInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return lis.Addr().String()
}

// dialTLS connects as a client trusting the brain's CA, with a client certificate when given.
func dialTLS(t testing.TB, addr string, ca *testpki.CA, client *testpki.Issued) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	if client != nil {
		// Always sent: crypto/tls would otherwise send none when the brain's accepted CAs do not
		// include its issuer, and the test would not see the brain refuse it.
		cert := must(client.TLS())
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// servedCN makes a call on conn and returns the common name of the certificate the brain showed.
func servedCN(t testing.TB, conn *grpc.ClientConn) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p peer.Peer
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p)); err != nil {
		return "", err
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		t.Fatalf("the call was not over TLS: %T", p.AuthInfo)
	}
	return info.State.PeerCertificates[0].Subject.CommonName, nil
}

func TestTLSRotatedFilesReachNewConnectionsWithoutARestart(t *testing.T) {
	p := newPKI(t)
	addr, _ := startTLS(t, server.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile,
		ClientAuth: server.ClientAuthRequire, RefreshInterval: 20 * time.Millisecond}, server.Options{})
	old := dialTLS(t, addr, p.ca, &p.clientGood)
	if cn, err := servedCN(t, old); err != nil || cn != "brain-a" {
		t.Fatalf("first connection: served %q, %v; want brain-a", cn, err)
	}

	// The certificate is rotated under the running brain.
	p.writeServerCert("brain-b")
	waitFor(t, func() bool {
		cn, err := servedCN(t, dialTLS(t, addr, p.ca, &p.clientGood))
		return err == nil && cn == "brain-b"
	})
	if _, err := servedCN(t, old); err != nil {
		t.Errorf("the connection made before the rotation broke: %v", err)
	}

	// The client CA is rotated: certificates of the new CA are accepted, the old CA's no longer.
	if err := testpki.WriteFile(p.caFile, p.otherCA.PEM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := servedCN(t, dialTLS(t, addr, p.ca, &p.clientOtherCA))
		return err == nil
	})
	if _, err := servedCN(t, dialTLS(t, addr, p.ca, &p.clientGood)); status.Code(err) != codes.Unavailable {
		t.Errorf("a client of the CA rotated out: %v; want UNAVAILABLE", err)
	}
}

func TestTLSClientCertificates(t *testing.T) {
	p := newPKI(t)
	// Each refused certificate names its principal another way, as authorization reads it.
	otherCA := must(p.otherCA.Issue(testpki.Leaf{CommonName: "ignored", DNSNames: []string{"gw-other.example.org"}}))
	expiredAt := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	expired := must(p.ca.Issue(testpki.Leaf{CommonName: "ignored", URIs: []string{"spiffe://example.org/gateway/expired"},
		NotBefore: expiredAt.Add(-24 * time.Hour), NotAfter: expiredAt}))
	tests := []struct {
		name   string
		mode   string
		client *testpki.Issued
		want   codes.Code
		// log is what the refusal's log line says beyond the peer's address and the reason; absent
		// is what it must not say.
		log, absent []string
	}{
		{"require refuses a client without a certificate", server.ClientAuthRequire, nil, codes.Unavailable,
			[]string{"didn't provide a certificate"}, []string{"client.principal"}},
		{"require refuses a certificate of another CA", server.ClientAuthRequire, &otherCA, codes.Unavailable,
			[]string{"client.principal=gw-other.example.org", `client.issuer="CN=another CA"`, "unknown authority"}, nil},
		{"require refuses an expired certificate", server.ClientAuthRequire, &expired, codes.Unavailable,
			[]string{"client.principal=spiffe://example.org/gateway/expired", `client.issuer="CN=brain test CA"`,
				"client.not_after=" + expiredAt.Format(time.RFC3339), "expired"}, nil},
		{"require admits a certificate of the client CA", server.ClientAuthRequire, &p.clientGood, codes.OK, nil, nil},
		{"request admits a client without a certificate", server.ClientAuthRequest, nil, codes.OK, nil, nil},
		{"request refuses a certificate of another CA", server.ClientAuthRequest, &otherCA, codes.Unavailable,
			[]string{"client.principal=gw-other.example.org", `client.issuer="CN=another CA"`, "unknown authority"}, nil},
		{"request refuses an expired certificate", server.ClientAuthRequest, &expired, codes.Unavailable,
			[]string{"client.principal=spiffe://example.org/gateway/expired", "client.not_after=" + expiredAt.Format(time.RFC3339), "expired"}, nil},
		{"request admits a certificate of the client CA", server.ClientAuthRequest, &p.clientGood, codes.OK, nil, nil},
		{"none admits a client without a certificate", server.ClientAuthNone, nil, codes.OK, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := server.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile, ClientAuth: tt.mode}
			if tt.mode == server.ClientAuthNone {
				c.ClientCAFile = ""
			}
			addr, logs := startTLS(t, c, server.Options{})
			_, err := servedCN(t, dialTLS(t, addr, p.ca, tt.client))
			if got := status.Code(err); got != tt.want {
				t.Fatalf("call: %v; want %v", err, tt.want)
			}
			if tt.want != codes.Unavailable {
				if l := logs.String(); strings.Contains(l, "TLS handshake refused") {
					t.Errorf("an admitted client's handshake was logged as refused:\n%s", l)
				}
				return
			}
			assertNoInternals(t, err, p.dir)
			// The brain says who (the peer's address and the certificate's principal, issuer and
			// validity) and why (the TLS reason).
			waitFor(t, func() bool { return strings.Contains(logs.String(), "TLS handshake refused") })
			line := logLine(t, logs.String(), "TLS handshake refused")
			for _, want := range append([]string{"peer.address=127.0.0.1:", "reason="}, tt.log...) {
				if !strings.Contains(line, want) {
					t.Errorf("the refusal's log line lacks %q:\n%s", want, line)
				}
			}
			for _, not := range tt.absent {
				if strings.Contains(line, not) {
					t.Errorf("the refusal's log line has %q:\n%s", not, line)
				}
			}
		})
	}
}

// logLine is the first line of logs that contains msg.
func logLine(t testing.TB, logs, msg string) string {
	t.Helper()
	for l := range strings.Lines(logs) {
		if strings.Contains(l, msg) {
			return l
		}
	}
	t.Fatalf("no log line has %q:\n%s", msg, logs)
	return ""
}

// assertNoInternals fails when a refusal tells the client something of the brain's insides: a
// stack trace, a source or certificate file path.
func assertNoInternals(t testing.TB, err error, dir string) {
	t.Helper()
	msg := err.Error()
	for _, leak := range []string{dir, "goroutine ", ".go:", ".pem", ".crt", ".key", "panic"} {
		if strings.Contains(msg, leak) {
			t.Errorf("the client's error tells %q: %s", leak, msg)
		}
	}
}

func TestNewTLSRejectsBadSettings(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name string
		c    server.TLSConfig
		want string
	}{
		{"an unknown client_auth", server.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientAuth: "maybe"}, "want none, request or require"},
		{"a certificate without its key", server.TLSConfig{CertFile: p.certFile}, "both required"},
		{"a missing certificate file", server.TLSConfig{CertFile: p.certFile + ".missing", KeyFile: p.keyFile}, "load cert_file"},
		{"require without a client CA", server.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientAuth: server.ClientAuthRequire}, "needs client_ca_file"},
		{"a client CA with client_auth none", server.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile}, "client_auth is none"},
		{"a client CA file without a certificate", server.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.keyFile, ClientAuth: server.ClientAuthRequest}, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.NewTLS(tt.c, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewTLS: %v; want an error saying %q", err, tt.want)
			}
		})
	}
}
