package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modelium/brain/gpu"
	"github.com/modelium/brain/hfconfig"
	"github.com/modelium/brain/internal/validate"
	"github.com/modelium/brain/recommend"
)

// fieldError places a domain error under a request field (for example the config.json of
// "model"), so that its field violation names the whole path.
type fieldError struct {
	prefix string
	err    error
}

func (e *fieldError) Error() string { return e.prefix + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func inField(prefix string, err error) error { return &fieldError{prefix: prefix, err: err} }

func joinField(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// toStatus maps an error of a domain package to a gRPC status. It is the one place where domain
// errors meet status codes; handlers return its result unchanged. Errors it does not know become
// INTERNAL with a log line, and their text never reaches the client.
func (s *Server) toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var prefix string
	var fe *fieldError
	if errors.As(err, &fe) {
		prefix = fe.prefix
	}
	var (
		cfgErr *hfconfig.ConfigError
		valErr *validate.Error
	)
	switch {
	case errors.As(err, &cfgErr):
		field := "config_json"
		if cfgErr.Input == hfconfig.InputIndex {
			field = "safetensors_index_json"
		}
		desc := cfgErr.Msg
		if cfgErr.Field != "" {
			desc = fmt.Sprintf("key %q: %s", cfgErr.Field, desc)
		}
		if cfgErr.Line > 0 {
			desc = fmt.Sprintf("at line %d, column %d (byte offset %d): %s", cfgErr.Line, cfgErr.Column, cfgErr.Offset, desc)
		}
		var v violations
		v.add(joinField(prefix, field), "%s", desc)
		return v.err()
	case errors.As(err, &valErr):
		var v violations
		for _, fv := range valErr.Violations {
			v.add(joinField(prefix, fv.Field), "%s", fv.Description)
		}
		return v.err()
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request's deadline passed")
	}
	if m := statusOfDomain(err); m != nil {
		return m
	}
	s.log.Error("unmapped error: answering INTERNAL", "err", err)
	return status.Error(codes.Internal, "internal error: the brain could not answer this request; it has been logged")
}

// statusOfDomain maps the remaining domain errors (GPU placement, unknown models); nil when err
// is none of them.
func statusOfDomain(err error) error {
	var nofit *gpu.NoFitError
	switch {
	case errors.As(err, &nofit):
		return placementStatus(nofit)
	case errors.Is(err, gpu.ErrUnavailable):
		return status.Errorf(codes.Unavailable, "GPU inventory unavailable, retry later: %v", err)
	}
	var (
		slow    *recommend.SlowSubscriberError
		unknown *recommend.UnknownModelError
	)
	switch {
	case errors.As(err, &slow):
		return slowSubscriberStatus(slow)
	case errors.As(err, &unknown):
		return status.Error(codes.NotFound, unknown.Error())
	case errors.Is(err, recommend.ErrStopped):
		return errShuttingDown
	}
	return nil
}

// slowSubscriberStatus is RESOURCE_EXHAUSTED with an ErrorInfo that carries the resume cursor as
// metadata.
func slowSubscriberStatus(e *recommend.SlowSubscriberError) error {
	st := status.New(codes.ResourceExhausted, e.Error())
	if d, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason: "WATCH_SUBSCRIBER_TOO_SLOW",
		Domain: ServiceName,
		Metadata: map[string]string{
			"resume_epoch":          e.Epoch,
			"resume_after_sequence": strconv.FormatUint(e.Delivered, 10),
		},
	}); err == nil {
		st = d
	}
	return st.Err()
}
