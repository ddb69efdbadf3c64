package server_test

import (
	"context"
	"crypto/tls"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/server"
)

// BenchmarkMTLS compares, over loopback TCP with mutual TLS and the gateway map on, ChooseRuntime
// with grpc.health.v1.Health/Check (the floor of any call on this server), and both with
// plaintext; Handshake is a new connection's TLS handshake and first call.
func BenchmarkMTLS(b *testing.B) {
	p := newPKI(b)
	c := &callers{p: p, gw1: p.clientGood}
	addr, _ := startAuthz(b, c, server.Options{})
	req := &brainv1.ChooseRuntimeRequest{Model: &brainv1.ModelSpec{Name: "meta-llama/Llama-3.1-8B"}}
	ctx := context.Background()

	run := func(b *testing.B, conn *grpc.ClientConn) {
		brain, health := brainv1.NewBrainServiceClient(conn), healthpb.NewHealthClient(conn)
		b.Run("ChooseRuntime", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := brain.ChooseRuntime(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("HealthCheck", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("mtls", func(b *testing.B) { run(b, dialTLS(b, addr, p.ca, &p.clientGood)) })
	plainAddr := startPlain(b)
	b.Run("plaintext", func(b *testing.B) {
		conn, err := grpc.NewClient(plainAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		run(b, conn)
	})
	// A new connection and its first call: the handshake's cost is the mtls figure minus the
	// plaintext one.
	connect := func(b *testing.B, target string, creds credentials.TransportCredentials) {
		b.ReportAllocs()
		for b.Loop() {
			conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
			conn.Close()
		}
	}
	b.Run("mtls/NewConnection", func(b *testing.B) {
		cert := must(p.clientGood.TLS())
		connect(b, addr, credentials.NewTLS(&tls.Config{RootCAs: p.ca.Pool(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	})
	b.Run("plaintext/NewConnection", func(b *testing.B) { connect(b, plainAddr, insecure.NewCredentials()) })
}
