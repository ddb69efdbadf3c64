// Package access decides who may act for which gateway, and how often a client may call: the
// principal a client certificate names, the map from principals to the gateway ids they may use,
// and per-client token buckets. It knows nothing of gRPC or of the wire (server/ extracts the
// certificate and the gateway id of a request and maps refusals to status codes), and it holds no
// model or GPU state.
package access
