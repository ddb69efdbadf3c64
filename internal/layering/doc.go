// Package layering holds no code: its test checks the layering DESIGN.md asks for, that the domain
// packages (every package of the module except the wire and the daemons' wiring) depend on neither
// grpc nor the generated code in gen/, so that a decision can change without the wire and be tested
// without a server.
package layering
