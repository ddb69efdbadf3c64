package metrics

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a report may carry; DESIGN.md sets them for the whole API.
const (
	// MaxNameBytes bounds gateway, model, runtime and GPU names.
	MaxNameBytes = 256
	// MaxSamples bounds the samples in one traffic batch.
	MaxSamples = 10000
	// maxViolations bounds the violations one error lists; the rest are summed up in one more.
	maxViolations = 100
)

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("invalid report")

// FieldViolation names one field of a report and the rule it breaks. Field is a path of proto field
// names ("samples[3].end_time", "gateway_id"), ready for a google.rpc.BadRequest.
type FieldViolation struct {
	Field       string
	Description string
}

// ValidationError is returned for a report that was rejected as a whole; nothing of it was applied.
type ValidationError struct {
	Violations []FieldViolation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid report: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// violations collects field violations, keeping the first maxViolations and counting the rest.
type violations struct {
	list    []FieldViolation
	omitted int
}

func (v *violations) add(field, format string, args ...any) {
	if len(v.list) >= maxViolations {
		v.omitted++
		return
	}
	v.list = append(v.list, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

func (v *violations) err() error {
	if len(v.list) == 0 {
		return nil
	}
	list := v.list
	if v.omitted > 0 {
		list = append(list, FieldViolation{Field: "samples", Description: fmt.Sprintf("%d more violations not listed", v.omitted)})
	}
	return &ValidationError{Violations: list}
}

func (v *violations) name(field, value string, required bool) {
	if p := nameProblem(value, required); p != "" {
		v.add(field, "%s", p)
	}
}

// nameProblem says what is wrong with a name, or "" when nothing is; it formats only on failure,
// so that checking a batch of valid samples allocates nothing.
func nameProblem(value string, required bool) string {
	switch {
	case value == "" && required:
		return "required"
	case len(value) > MaxNameBytes:
		return fmt.Sprintf("%d bytes, more than %d", len(value), MaxNameBytes)
	case !utf8.ValidString(value):
		return "not valid UTF-8"
	}
	return ""
}

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
	if p := nameProblem(s.Model, true); p != "" {
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
