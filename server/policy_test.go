package server_test

import (
	"testing"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/predict"
	"github.com/modelium/brain/server"
)

func TestGetPolicyNamesTheKeepAlivePolicyThatDecides(t *testing.T) {
	p, err := predict.New(predict.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opts server.Options
		want string
	}{
		{"without a policy the fixed one decides", server.Options{}, "fixed"},
		{"the predictive policy says so", server.Options{Policy: predict.NewEnginePolicy(p, nil)}, "predictive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, _, _ := startServer(t, tt.opts)
			resp, err := client.GetPolicy(ctxT(t), &brainv1.GetPolicyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetKeepAlivePolicy(); got != tt.want {
				t.Fatalf("keep_alive_policy %q, want %q", got, tt.want)
			}
		})
	}
}
