package access_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/access"
)

func TestPrincipal(t *testing.T) {
	spiffe, _ := url.Parse("spiffe://example.org/gateway/gw-1")
	tests := []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{"a URI SAN comes first", &x509.Certificate{URIs: []*url.URL{spiffe}, DNSNames: []string{"gw.example.org"}, Subject: pkix.Name{CommonName: "cn"}}, "spiffe://example.org/gateway/gw-1"},
		{"else a DNS SAN", &x509.Certificate{DNSNames: []string{"gw.example.org", "other"}, Subject: pkix.Name{CommonName: "cn"}}, "gw.example.org"},
		{"else the common name", &x509.Certificate{Subject: pkix.Name{CommonName: "cn"}}, "cn"},
		{"no certificate is nobody", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := access.Principal(tt.cert); got != tt.want {
				t.Errorf("Principal = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestGateways(t *testing.T) {
	g, err := access.NewGateways([]access.GatewayRule{
		{Principal: "a", GatewayIDs: []string{"gw-1", "gw-2"}},
		{Principal: "ops", GatewayIDs: []string{"*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		principal, gateway string
		want               bool
	}{
		{"a listed gateway", "a", "gw-2", true},
		{"an unlisted gateway", "a", "gw-3", false},
		{"* is any gateway", "ops", "anything", true},
		{"an unknown principal", "b", "gw-1", false},
		{"nobody", "", "gw-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.Allowed(tt.principal, tt.gateway); got != tt.want {
				t.Errorf("Allowed(%q, %q) = %v; want %v", tt.principal, tt.gateway, got, tt.want)
			}
		})
	}
	if !g.AllowsAny("ops") || g.AllowsAny("a") || !g.Known("a") || g.Known("b") {
		t.Error("AllowsAny or Known is wrong")
	}
}

func TestNewGatewaysRejectsBadRules(t *testing.T) {
	tests := []struct {
		name  string
		rules []access.GatewayRule
		want  string
	}{
		{"a rule without a principal", []access.GatewayRule{{GatewayIDs: []string{"g"}}}, "gateways[0].principal: required"},
		{"a rule without gateways", []access.GatewayRule{{Principal: "p"}}, "gateways[0].gateway_ids"},
		{"a principal twice", []access.GatewayRule{{Principal: "p", GatewayIDs: []string{"g"}}, {Principal: "p", GatewayIDs: []string{"h"}}}, "listed twice"},
		{"an empty gateway id", []access.GatewayRule{{Principal: "p", GatewayIDs: []string{""}}}, "gateway_ids[0]: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := access.NewGateways(tt.rules); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewGateways: %v; want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := access.NewLimiter(2, 3, 2, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("call %d within the burst was limited", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Errorf("past the burst: ok %v, retry in %v; want limited, 500ms (2 a second)", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another client was limited by the first one's calls")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("a token did not come back after 500ms")
	}
	// A third client past maxClients (2) evicts: "a" and "b" were seen within the refill time, so
	// half are dropped at random, and the new client gets its own bucket.
	if ok, _ := l.Allow("c"); !ok {
		t.Error("a new client past the bucket cap was limited")
	}
}
