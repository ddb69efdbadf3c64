package server

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus maps an error of a domain package to a gRPC status. It is the one place where domain
// errors meet status codes; handlers return its result unchanged.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, "internal error: the brain could not answer this request; it has been logged")
}

// unimplemented answers an RPC whose issue is not done yet.
func unimplemented(rpc string, issue int) error {
	return status.Errorf(codes.Unimplemented, "%s is not implemented in this version of the brain yet (tracked in issue #%d)", rpc, issue)
}
