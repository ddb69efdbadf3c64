package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/tls/certprovider"
	"google.golang.org/grpc/credentials/tls/certprovider/pemfile"
	"google.golang.org/grpc/security/advancedtls"

	"github.com/modelium/brain/access"
)

// Client certificate modes of TLSConfig.ClientAuth.
const (
	// ClientAuthNone asks clients for no certificate.
	ClientAuthNone = "none"
	// ClientAuthRequest asks for a certificate and verifies one that is given; a client without
	// one still connects (and has no principal).
	ClientAuthRequest = "request"
	// ClientAuthRequire refuses a handshake without a certificate that the client CA signed.
	ClientAuthRequire = "require"
)

// DefaultTLSRefreshInterval is how often the certificate, key and CA files are re-read when
// TLSConfig.RefreshInterval is zero.
const DefaultTLSRefreshInterval = time.Minute

// TLSConfig names the PEM files of the brain's TLS identity and of the CA its clients'
// certificates must chain to.
type TLSConfig struct {
	// CertFile and KeyFile are the brain's certificate (chain) and key; they must be in the same
	// directory (pemfile's rule: replace both at once, for example by swapping a symlinked folder).
	CertFile, KeyFile string
	// ClientCAFile holds the CA certificates that sign client certificates; required with
	// ClientAuthRequest and ClientAuthRequire.
	ClientCAFile string
	// ClientAuth is ClientAuthNone (default when empty), ClientAuthRequest or ClientAuthRequire.
	ClientAuth string
	// RefreshInterval is how often the files are re-read (DefaultTLSRefreshInterval when zero): a
	// rotated certificate is served to new connections from the next read on, without a restart.
	RefreshInterval time.Duration
}

// TLS is the brain's transport credentials with the file watchers behind them.
type TLS struct {
	// Creds go into Options.Creds.
	Creds     credentials.TransportCredentials
	providers []certprovider.Provider
}

// Close stops re-reading the files.
func (t *TLS) Close() {
	for _, p := range t.providers {
		p.Close()
	}
}

// NewTLS checks the files once (so that a wrong path or a key that does not match its certificate
// fails the start with a clear error) and builds credentials that re-read them every
// RefreshInterval with grpc-go's pemfile providers. ClientAuthNone and ClientAuthRequire use
// grpc-go's advancedtls; ClientAuthRequest, which advancedtls does not offer (it has no client
// certificate or a required one), is crypto/tls's VerifyClientCertIfGiven fed by the same
// providers.
func NewTLS(c TLSConfig, log *slog.Logger) (*TLS, error) {
	if c.ClientAuth == "" {
		c.ClientAuth = ClientAuthNone
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultTLSRefreshInterval
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	t := &TLS{}
	presented := &sync.Map{}
	identity, err := pemfile.NewProvider(pemfile.Options{CertFile: c.CertFile, KeyFile: c.KeyFile, RefreshDuration: c.RefreshInterval})
	if err != nil {
		return nil, fmt.Errorf("tls: watch %s and %s: %w", c.CertFile, c.KeyFile, err)
	}
	t.providers = append(t.providers, identity)
	var roots certprovider.Provider
	if c.ClientAuth != ClientAuthNone {
		if roots, err = pemfile.NewProvider(pemfile.Options{RootFile: c.ClientCAFile, RefreshDuration: c.RefreshInterval}); err != nil {
			t.Close()
			return nil, fmt.Errorf("tls: watch %s: %w", c.ClientCAFile, err)
		}
		t.providers = append(t.providers, roots)
	}

	var creds credentials.TransportCredentials
	switch c.ClientAuth {
	case ClientAuthRequest:
		creds = credentials.NewTLS(requestConfig(identity, roots))
	default:
		o := &advancedtls.Options{
			IdentityOptions:   advancedtls.IdentityCertificateOptions{IdentityProvider: identity},
			RequireClientCert: c.ClientAuth == ClientAuthRequire,
			VerificationType:  advancedtls.CertVerification,
			MinTLSVersion:     tls.VersionTLS12,
			MaxTLSVersion:     tls.VersionTLS13,
		}
		if roots != nil {
			o.RootOptions = advancedtls.RootCertificateOptions{GetRootCertificates: recordingRoots(roots, presented)}
		}
		if creds, err = advancedtls.NewServerCreds(o); err != nil {
			t.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
	}
	t.Creds = &loggingCreds{TransportCredentials: creds, log: log, presented: presented}
	return t, nil
}

// check reads the files once: pemfile's providers would otherwise wait, silently, for files that
// never become valid.
func (c TLSConfig) check() error {
	switch c.ClientAuth {
	case ClientAuthNone, ClientAuthRequest, ClientAuthRequire:
	default:
		return fmt.Errorf("tls: client_auth %q: want none, request or require", c.ClientAuth)
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return errors.New("tls: cert_file and key_file are both required")
	}
	if _, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
		return fmt.Errorf("tls: load cert_file %s and key_file %s: %w", c.CertFile, c.KeyFile, err)
	}
	if c.ClientAuth == ClientAuthNone {
		if c.ClientCAFile != "" {
			return fmt.Errorf("tls: client_ca_file %s is set but client_auth is none: set client_auth to request or require, or drop client_ca_file", c.ClientCAFile)
		}
		return nil
	}
	if c.ClientCAFile == "" {
		return fmt.Errorf("tls: client_auth %s needs client_ca_file", c.ClientAuth)
	}
	pem, err := os.ReadFile(c.ClientCAFile)
	if err != nil {
		return fmt.Errorf("tls: read client_ca_file: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return fmt.Errorf("tls: client_ca_file %s holds no PEM certificate", c.ClientCAFile)
	}
	return nil
}

// requestConfig asks for a client certificate and verifies one that is given, against the CA the
// roots provider holds at the handshake; the identity is the provider's at the handshake too.
func requestConfig(identity, roots certprovider.Provider) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			ctx, cancel := context.WithTimeout(hello.Context(), 5*time.Second)
			defer cancel()
			id, err := identity.KeyMaterial(ctx)
			if err != nil {
				return nil, fmt.Errorf("identity certificate: %w", err)
			}
			ca, err := roots.KeyMaterial(ctx)
			if err != nil {
				return nil, fmt.Errorf("client CA: %w", err)
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: id.Certs,
				ClientCAs:    ca.Roots,
				ClientAuth:   tls.VerifyClientCertIfGiven,
				NextProtos:   []string{"h2"},
			}, nil
		},
	}
}

// recordingRoots is the roots provider's CA for advancedtls, which asks for it once per handshake
// with the client's certificates in hand, before verifying them: it notes them against the
// connection so that a refused handshake can say whose certificate it refused (advancedtls's
// verification error does not carry it).
func recordingRoots(roots certprovider.Provider, presented *sync.Map) func(*advancedtls.ConnectionInfo) (*advancedtls.RootCertificates, error) {
	return func(ci *advancedtls.ConnectionInfo) (*advancedtls.RootCertificates, error) {
		if ci.RawConn != nil && len(ci.RawCerts) > 0 {
			presented.Store(ci.RawConn, ci.RawCerts[0])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		km, err := roots.KeyMaterial(ctx)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		return &advancedtls.RootCertificates{TrustCerts: km.Roots}, nil
	}
}

// loggingCreds logs every refused handshake: the peer's address, the TLS reason and, when the
// client presented a certificate, whose it is (its principal as authorization reads it, its issuer
// and validity). The client sees only a failed connection (UNAVAILABLE), nothing of the brain.
type loggingCreds struct {
	credentials.TransportCredentials
	log *slog.Logger
	// presented holds, per connection in handshake, the leaf certificate (DER) the client
	// presented, as recordingRoots noted it; shared by clones.
	presented *sync.Map
}

func (c *loggingCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	leaf, _ := c.presented.LoadAndDelete(conn)
	if err != nil {
		attrs := []any{"peer.address", conn.RemoteAddr().String(), "reason", err.Error()}
		if cert := presentedCertificate(err, leaf); cert != nil {
			attrs = append(attrs, clientCertificateAttrs(cert)...)
		}
		c.log.Warn("TLS handshake refused", attrs...)
	}
	return out, info, err
}

func (c *loggingCreds) Clone() credentials.TransportCredentials {
	return &loggingCreds{TransportCredentials: c.TransportCredentials.Clone(), log: c.log, presented: c.presented}
}

// presentedCertificate is the client's leaf certificate of a refused handshake: crypto/tls's
// verification error carries it (ClientAuthRequest), else recordingRoots noted it (advancedtls);
// nil when the client presented none (or none that parses).
func presentedCertificate(err error, noted any) *x509.Certificate {
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
		return verr.UnverifiedCertificates[0]
	}
	der, ok := noted.([]byte)
	if !ok {
		return nil
	}
	cert, perr := x509.ParseCertificate(der)
	if perr != nil {
		return nil
	}
	return cert
}

// clientCertificateAttrs says whose a certificate is, for a log line: the principal (the same
// access.Principal that authorization uses), the issuer and the validity period, as a refused, so
// unverified, certificate claims them. slog quotes or escapes them: a name cannot forge a line.
func clientCertificateAttrs(cert *x509.Certificate) []any {
	return []any{
		"client.principal", access.Principal(cert),
		"client.issuer", cert.Issuer.String(),
		"client.not_before", cert.NotBefore.UTC().Format(time.RFC3339),
		"client.not_after", cert.NotAfter.UTC().Format(time.RFC3339),
	}
}
