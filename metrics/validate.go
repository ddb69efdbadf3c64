package metrics

import (
	"fmt"
	"time"

	"github.com/modelium/brain/internal/validate"
)

// Limits on what a report may carry: the API's, owned by internal/validate.
const (
	// MaxNameBytes bounds gateway, model, runtime and GPU names.
	MaxNameBytes = validate.MaxNameBytes
	// MaxSamples bounds the samples in one traffic batch.
	MaxSamples = validate.MaxSamplesPerBatch
)

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = validate.ErrInvalid

// FieldViolation names one field of a report and the rule it breaks. Field is a path of proto field
// names ("samples[3].end_time", "gateway_id"), ready for a google.rpc.BadRequest.
type FieldViolation = validate.FieldViolation

// ValidationError is returned for a report that was rejected as a whole; nothing of it was applied.
type ValidationError = validate.Error

// violations collects field violations (see validate.Violations).
type violations struct{ validate.Violations }

func (v *violations) add(field, format string, args ...any) { v.Add(field, format, args...) }

func (v *violations) err() error { return v.Err() }

func (v *violations) name(field, value string, required bool) { v.Name(field, value, required) }

// epoch is the earliest time the tracker stores (it keeps Unix nanoseconds).
var epoch = time.Unix(0, 0)

func (v *violations) time(field string, t time.Time, required bool, now time.Time, skew time.Duration) {
	if p := timeProblem(t, required, now, skew); p != "" {
		v.add(field, "%s", p)
	}
}

// timeProblem checks a timestamp: required (unless optional), not before 1970, not later than now
// plus the clock-skew allowance.
func timeProblem(t time.Time, required bool, now time.Time, skew time.Duration) string {
	switch {
	case t.IsZero():
		if required {
			return "required"
		}
	case t.Before(epoch):
		return "before 1970"
	case t.After(now.Add(skew)):
		return fmt.Sprintf("%v in the future (allowed clock skew %v)", t.Sub(now), skew)
	}
	return ""
}

func sampleField(i int, name string) string {
	return fmt.Sprintf("samples[%d].%s", i, name)
}

// checkSample checks what a sample says on its own, before any tracker state is consulted. Field
// paths are formatted only for a violation.
func (v *violations) checkSample(i int, s *Sample, now time.Time, skew time.Duration) {
	field := func(name string) string { return sampleField(i, name) }
	if p := validate.NameProblem(s.Model, true); p != "" {
		v.add(field("model_name"), "%s", p)
	}
	if p := timeProblem(s.Start, true, now, skew); p != "" {
		v.add(field("start_time"), "%s", p)
	}
	if p := timeProblem(s.End, true, now, skew); p != "" {
		v.add(field("end_time"), "%s", p)
	}
	if !s.Start.IsZero() && !s.End.IsZero() && s.End.Before(s.Start) {
		v.add(field("end_time"), "before start_time")
	}
	if s.Requests < 0 {
		v.add(field("requests"), "negative")
	}
	if s.Errors < 0 {
		v.add(field("errors"), "negative")
	} else if s.Errors > s.Requests && s.Requests >= 0 {
		v.add(field("errors"), "%d errors, more than the %d requests", s.Errors, s.Requests)
	}
	if s.InFlight < 0 {
		v.add(field("in_flight"), "negative")
	}
}
