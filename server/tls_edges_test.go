package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/credentials/tls/certprovider"
	"google.golang.org/grpc/credentials/tls/certprovider/pemfile"
	"google.golang.org/grpc/security/advancedtls"

	"github.com/modelium/brain/internal/testpki"
)

// askedProvider is a file watcher that says when it is first asked for key material, so that a
// test can write the files only once a handshake waits for them.
type askedProvider struct {
	certprovider.Provider
	asked chan struct{}
}

func (p askedProvider) KeyMaterial(ctx context.Context) (*certprovider.KeyMaterial, error) {
	select {
	case p.asked <- struct{}{}:
	default:
	}
	return p.Provider.KeyMaterial(ctx)
}

// watchFiles watches o's files (which may not exist yet), re-reading them often.
func watchFiles(t *testing.T, o pemfile.Options) askedProvider {
	t.Helper()
	o.RefreshDuration = 10 * time.Millisecond
	p, err := pemfile.NewProvider(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return askedProvider{Provider: p, asked: make(chan struct{}, 1)}
}

// edgeMust is v, or a panic on a setup error.
func edgeMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// der is the DER of an issued certificate.
func der(t *testing.T, i testpki.Issued) []byte {
	t.Helper()
	b, _ := pem.Decode(i.CertPEM)
	if b == nil {
		t.Fatal("no PEM block in the issued certificate")
	}
	return b.Bytes
}

// waitAsked waits until p is asked for key material.
func waitAsked(t *testing.T, p askedProvider) {
	t.Helper()
	select {
	case <-p.asked:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider was never asked for key material")
	}
}

// A brain whose files are not yet read when a handshake comes (the watcher reads them in the
// background, just after the start) waits for them rather than refusing the client.
func TestAHandshakeWaitsForTheFilesFirstRead(t *testing.T) {
	ca := edgeMust(testpki.NewCA("edge CA"))
	brain := edgeMust(ca.Issue(testpki.Leaf{CommonName: "brain", DNSNames: []string{"localhost"}}))

	t.Run("a handshake in request mode waits for the brain's certificate", func(t *testing.T) {
		dir := t.TempDir()
		caFile := filepath.Join(dir, "ca.pem")
		if err := testpki.WriteFile(caFile, ca.PEM); err != nil {
			t.Fatal(err)
		}
		identity := watchFiles(t, pemfile.Options{CertFile: filepath.Join(dir, "brain.crt"), KeyFile: filepath.Join(dir, "brain.key")})
		roots := watchFiles(t, pemfile.Options{RootFile: caFile})
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lis.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		served := make(chan error, 1)
		go func() {
			conn, err := lis.Accept()
			if err != nil {
				served <- err
				return
			}
			defer conn.Close()
			served <- tls.Server(conn, requestConfig(identity, roots)).HandshakeContext(ctx)
		}()
		conn, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		dialed := make(chan error, 1)
		go func() {
			dialed <- tls.Client(conn, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS12}).HandshakeContext(ctx)
		}()

		waitAsked(t, identity)
		if _, _, err := brain.Write(dir, "brain"); err != nil {
			t.Fatal(err)
		}
		if err := <-served; err != nil {
			t.Errorf("the brain refused the handshake instead of waiting for its certificate: %v", err)
		}
		if err := <-dialed; err != nil {
			t.Errorf("client: %v", err)
		}
	})

	t.Run("a client certificate's check waits for the client CA", func(t *testing.T) {
		dir := t.TempDir()
		caFile := filepath.Join(dir, "ca.pem")
		roots := watchFiles(t, pemfile.Options{RootFile: caFile})
		type result struct {
			rc  *advancedtls.RootCertificates
			err error
		}
		got := make(chan result, 1)
		go func() {
			rc, err := recordingRoots(roots, &sync.Map{})(&advancedtls.ConnectionInfo{})
			got <- result{rc, err}
		}()

		waitAsked(t, roots)
		if err := testpki.WriteFile(caFile, ca.PEM); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.err != nil || r.rc == nil || r.rc.TrustCerts == nil || !r.rc.TrustCerts.Equal(ca.Pool()) {
			t.Errorf("roots: %+v, %v; want the client CA once its file is read", r.rc, r.err)
		}
	})
}

// recordingRoots notes the leaf a client presented, and nothing for a client that presented none.
func TestRecordingRootsNotesOnlyAPresentedCertificate(t *testing.T) {
	ca := edgeMust(testpki.NewCA("edge CA"))
	leaf := der(t, edgeMust(ca.Issue(testpki.Leaf{CommonName: "gw-1"})))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := testpki.WriteFile(caFile, ca.PEM); err != nil {
		t.Fatal(err)
	}
	roots := watchFiles(t, pemfile.Options{RootFile: caFile})
	tests := []struct {
		name  string
		certs [][]byte
		want  []byte // the noted leaf; nil: nothing noted
	}{
		{"a handshake without a client certificate notes nothing", nil, nil},
		{"a handshake with an empty chain notes nothing", [][]byte{}, nil},
		{"a presented chain is noted by its leaf", [][]byte{leaf, ca.Cert.Raw}, leaf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			presented := &sync.Map{}
			server, client := net.Pipe()
			defer server.Close()
			defer client.Close()
			if _, err := recordingRoots(roots, presented)(&advancedtls.ConnectionInfo{RawConn: server, RawCerts: tt.certs}); err != nil {
				t.Fatal(err)
			}
			noted, ok := presented.Load(server)
			if tt.want == nil {
				if ok {
					t.Errorf("noted %v for a client that presented no certificate", noted)
				}
				return
			}
			if b, _ := noted.([]byte); !bytes.Equal(b, tt.want) {
				t.Errorf("noted %v; want the presented leaf", noted)
			}
		})
	}
}

// presentedCertificate finds whose certificate a refused handshake refused: in crypto/tls's
// verification error, else the one recordingRoots noted, else none.
func TestPresentedCertificateOfARefusedHandshake(t *testing.T) {
	ca := edgeMust(testpki.NewCA("edge CA"))
	inError := edgeMust(x509.ParseCertificate(der(t, edgeMust(ca.Issue(testpki.Leaf{CommonName: "in-error"})))))
	noted := der(t, edgeMust(ca.Issue(testpki.Leaf{CommonName: "noted"})))
	refused := errors.New("tls: bad certificate")
	tests := []struct {
		name   string
		err    error
		noted  any
		wantCN string // "": none
	}{
		{"crypto/tls's verification error carries it", fmt.Errorf("handshake: %w", &tls.CertificateVerificationError{
			UnverifiedCertificates: []*x509.Certificate{inError}, Err: refused}), noted, "in-error"},
		{"a verification error without certificates falls back to the noted one", &tls.CertificateVerificationError{Err: refused}, noted, "noted"},
		{"a verification error without certificates and nothing noted: none", &tls.CertificateVerificationError{Err: refused}, nil, ""},
		{"another error: the noted one", refused, noted, "noted"},
		{"a noted certificate that does not parse: none", refused, []byte("not DER"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := presentedCertificate(tt.err, tt.noted)
			switch {
			case tt.wantCN == "" && got != nil:
				t.Errorf("got %q; want none", got.Subject.CommonName)
			case tt.wantCN != "" && (got == nil || got.Subject.CommonName != tt.wantCN):
				t.Errorf("got %v; want %q", got, tt.wantCN)
			}
		})
	}
}
