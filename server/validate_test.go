package server_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/modelium/brain/server"
)

// rawCodec sends bytes as they are, to put malformed protobuf on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}
func (rawCodec) Name() string { return "proto" }

func TestUndecodableRequestIsInvalidArgument(t *testing.T) {
	_, _, conn := startServer(t, server.Options{})
	cases := []struct {
		name, method string
		body         []byte
	}{
		{"invalid UTF-8 in a string field", "/modelium.brain.v1.BrainService/ListModels", []byte{0x0a, 0x02, 0xff, 0xfe}},
		{"truncated wire format", "/modelium.brain.v1.BrainService/ShouldUnload", []byte{0xff, 0xff, 0xff}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out []byte
			err := conn.Invoke(ctxT(t), c.method, &c.body, &out, grpc.ForceCodecV2(rawCodec{}))
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "modelium.brain.v1.") {
				t.Errorf("got %v, want INVALID_ARGUMENT naming the request message", err)
			}
		})
	}
}
