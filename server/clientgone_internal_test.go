package server

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAClientThatWentAwayIsCanceledNotAWarning(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	transportClosing := status.Error(codes.Unavailable, "transport is closing")
	for _, tt := range []struct {
		name string
		ctx  context.Context
		err  error
		want codes.Code
	}{
		{"a send on a closed transport after the client left is CANCELED", gone, transportClosing, codes.Canceled},
		{"a plain error after the client left is CANCELED", gone, errors.New("write: broken pipe"), codes.Canceled},
		{"success after the client left stays success", gone, nil, codes.OK},
		{"UNAVAILABLE while the client is still there stays UNAVAILABLE (shutdown)", context.Background(), transportClosing, codes.Unavailable},
		{"a deadline that passed is not a client going away", deadlineExceeded(t), transportClosing, codes.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(clientGone(tt.ctx, tt.err)); got != tt.want {
				t.Fatalf("code %v, want %v", got, tt.want)
			}
			// The interceptors apply it to what the handler returns.
			_, err := clientGoneUnary(tt.ctx, nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) { return nil, tt.err })
			if got := status.Code(err); got != tt.want {
				t.Fatalf("unary interceptor: code %v, want %v", got, tt.want)
			}
		})
	}
	if codeToLevel(codes.Canceled) >= codeToLevel(codes.Unavailable) {
		t.Fatal("a cancelled call must log below an unavailable one")
	}
}

func deadlineExceeded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	t.Cleanup(cancel)
	<-ctx.Done()
	return ctx
}
