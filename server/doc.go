// Package server is the gRPC face of the brain: it validates requests, translates between the
// modelium.brain.v1 wire types and the domain packages (rules, gpu, metrics), maps domain errors to
// status codes in one place (errors.go), and runs the unload-recommendation stream.
//
// It decides nothing itself: every decision is made by a domain package and only carried here.
package server
