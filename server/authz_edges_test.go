package server_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modelium/brain/access"
	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/internal/testpki"
	"github.com/modelium/brain/server"
)

// A gateway id of exactly MaxNameBytes is a valid name: authorization treats it as any other. Only a
// longer one (which validation refuses anyway) is replaced by its length in a refusal.
func TestGatewayIDsAtTheNameLimit(t *testing.T) {
	c := newCallers(t)
	atLimit := strings.Repeat("g", server.MaxNameBytes)
	over := strings.Repeat("g", server.MaxNameBytes+1)
	gateways, err := access.NewGateways([]access.GatewayRule{{Principal: "cn-only", GatewayIDs: []string{atLimit}}})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := startTLSServer(t, server.TLSConfig{CertFile: c.p.certFile, KeyFile: c.p.keyFile, ClientCAFile: c.p.caFile,
		ClientAuth: server.ClientAuthRequest}, server.Options{Gateways: gateways})
	tests := []struct {
		name    string
		caller  *testpki.Issued
		gateway string
		want    codes.Code
		message string // what the refusal says
	}{
		{"a gateway id of exactly MaxNameBytes is authorised like any other", &c.cnOnly, atLimit, codes.OK, ""},
		{"a refusal names a gateway id of exactly MaxNameBytes", &c.stranger, atLimit, codes.PermissionDenied,
			fmt.Sprintf(`principal "stranger" may not act for gateway %q`, atLimit)},
		{"a refusal gives only the length of a longer gateway id", &c.stranger, over, codes.PermissionDenied,
			fmt.Sprintf(`principal "stranger" may not act for gateway "(%d bytes)"`, len(over))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(t, addr, c, tt.caller).SyncGateway(ctxT(t), &brainv1.SyncGatewayRequest{GatewayId: tt.gateway})
			if got := status.Code(err); got != tt.want {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			if got := status.Convert(err).Message(); got != tt.message {
				t.Errorf("the refusal says %q; want %q", got, tt.message)
			}
		})
	}
}
