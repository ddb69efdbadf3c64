package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/modelium/brain/access"
	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/internal/testpki"
)

// BenchmarkGatewayAuthorization is what the gateway map adds to a call that names a gateway: the
// principal from the verified certificate, and the map lookup (DESIGN.md's budget: <= 1 us).
func BenchmarkGatewayAuthorization(b *testing.B) {
	ca, err := testpki.NewCA("bench CA")
	if err != nil {
		b.Fatal(err)
	}
	issued, err := ca.Issue(testpki.Leaf{CommonName: "gw-1", URIs: []string{"spiffe://example.org/gateway/gw-1"}})
	if err != nil {
		b.Fatal(err)
	}
	pair, err := issued.TLS()
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		b.Fatal(err)
	}
	ctx := peer.NewContext(context.Background(), &peer.Peer{
		Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 5000},
		AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{
			PeerCertificates: []*x509.Certificate{leaf},
			VerifiedChains:   [][]*x509.Certificate{{leaf, ca.Cert}},
		}},
	})
	rules := []access.GatewayRule{{Principal: "spiffe://example.org/gateway/gw-1", GatewayIDs: []string{"gw-1"}}}
	for i := range 1000 { // a realistic map: many principals
		rules = append(rules, access.GatewayRule{Principal: "spiffe://example.org/gateway/other-" + string(rune('a'+i%26)) + string(rune('0'+i%10)) + string(rune(i)), GatewayIDs: []string{"x"}})
	}
	g, err := access.NewGateways(rules)
	if err != nil {
		b.Fatal(err)
	}
	a := gatewayAuthz{gateways: g}
	req := &brainv1.ReportModelStateRequest{GatewayId: "gw-1", ModelName: "m", State: brainv1.ModelState_MODEL_STATE_LOADED}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.check(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
