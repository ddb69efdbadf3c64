package server

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errClientGone answers a call whose client cancelled it or closed its connection.
var errClientGone = status.Error(codes.Canceled, "the client went away (cancelled the call or closed its connection)")

// clientGone reports a call whose client went away as CANCELED, whatever error the handler met
// on the way out (a Send on a closed transport answers UNAVAILABLE "transport is closing"): a
// gateway that disconnects is normal, so the call's log line is at debug, not a warning. It runs
// inside the logging interceptor.
func clientGone(ctx context.Context, err error) error {
	if err != nil && ctx.Err() == context.Canceled {
		if st, ok := status.FromError(err); !ok || st.Code() != codes.Canceled {
			return errClientGone
		}
	}
	return err
}

func clientGoneUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	return resp, clientGone(ctx, err)
}

func clientGoneStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return clientGone(ss.Context(), handler(srv, ss))
}
