// Package server is the gRPC face of the brain: it validates requests, translates between the
// modelium.brain.v1 wire types and the domain packages (rules, gpu, metrics, recommend), and maps
// domain errors to status codes in one place (errors.go).
//
// It decides nothing itself and holds no state machine: every decision is made by a domain
// package, and the recommendation streams are the recommend package's engine and hub, of which
// this package builds the wire messages (wire.go) and runs one sender per stream (watch.go).
package server
