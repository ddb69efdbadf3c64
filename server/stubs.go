package server

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The RPCs below answer UNIMPLEMENTED until their issue lands; each moves to its own file then.

// unimplemented answers an RPC whose issue is not done yet.
func unimplemented(rpc string, issue int) error {
	return status.Errorf(codes.Unimplemented, "%s is not implemented in this version of the brain yet (tracked in issue #%d)", rpc, issue)
}
