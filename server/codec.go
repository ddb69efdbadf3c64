package server

import (
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// lenientCodec is grpc's proto codec, except that a request whose bytes do not decode (bad wire
// format, invalid UTF-8 in a string) is handed on empty and remembered, so that validation answers
// INVALID_ARGUMENT. grpc itself would answer INTERNAL, as if the brain had failed.
type lenientCodec struct {
	encoding.CodecV2
	undecodable *sync.Map // request message -> its decoding error
}

func newLenientCodec() lenientCodec {
	return lenientCodec{CodecV2: encoding.GetCodecV2(proto.Name), undecodable: &sync.Map{}}
}

func (c lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.CodecV2.Unmarshal(data, v); err != nil {
		c.undecodable.Store(v, err)
	}
	return nil
}

// decodeError returns, once, the decoding error of a request message, or nil.
func (c lenientCodec) decodeError(v any) error {
	if err, ok := c.undecodable.LoadAndDelete(v); ok {
		return err.(error)
	}
	return nil
}
