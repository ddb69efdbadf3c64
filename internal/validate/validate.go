// Package validate owns the limits every report and request of the brain shares (DESIGN.md,
// "Errors and bad input") and the field violation a domain package answers with when a value breaks
// one of its rules. It decides nothing about models or GPUs: the rules themselves live with the
// package that owns their meaning (the tracker checks a sample, the allocator a placement); this
// package gives them one vocabulary, one name rule and one error type, which the server maps to a
// google.rpc.BadRequest in one place.
package validate

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits shared by the whole API.
const (
	// MaxNameBytes bounds every name: gateway, model, runtime, GPU UUID, reservation id, epoch.
	MaxNameBytes = 256
	// MaxConfigJSONBytes bounds a config.json or safetensors index (1 MiB).
	MaxConfigJSONBytes = 1 << 20
	// MaxSamplesPerBatch bounds the samples of one traffic report.
	MaxSamplesPerBatch = 10_000
	// MaxFilterEntries bounds a list of names in a filter or an exclusion list.
	MaxFilterEntries = 1_000
	// MaxModelsPerSync bounds the models of one SyncGateway: the most one gateway can say it holds.
	MaxModelsPerSync = 10_000
	// maxListed bounds the violations one error lists; the rest are summed up in one more.
	maxListed = 100
)

// ErrInvalid is matched (errors.Is) by every *Error.
var ErrInvalid = errors.New("invalid request")

// FieldViolation names one field and the rule it breaks. Field is a path of proto field names
// ("samples[3].end_time", "gateway_id"), ready for a google.rpc.BadRequest.
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a request or report rejected as a whole; nothing of it was applied.
type Error struct {
	Violations []FieldViolation
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid request: ")
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
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Violations collects the field violations of one request, keeping the first 100 and counting the
// rest. The zero value is ready; it allocates only when something is wrong.
type Violations struct {
	list    []FieldViolation
	omitted int
}

// Add records that field breaks a rule, described by format and args.
func (v *Violations) Add(field, format string, args ...any) {
	if len(v.list) >= maxListed {
		v.omitted++
		return
	}
	v.list = append(v.list, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Name checks a name field (see [NameProblem]).
func (v *Violations) Name(field, value string, required bool) {
	if p := NameProblem(value, required); p != "" {
		v.Add(field, "%s", p)
	}
}

// Err is nil when nothing was recorded, else an *Error listing the violations.
func (v *Violations) Err() error {
	if len(v.list) == 0 {
		return nil
	}
	list := v.list
	if v.omitted > 0 {
		list = append(list, FieldViolation{Field: list[len(list)-1].Field, Description: fmt.Sprintf("%d more violations not listed", v.omitted)})
	}
	return &Error{Violations: list}
}

// NameProblem says what is wrong with a name, or "" when nothing is: present when required, at
// most MaxNameBytes, valid UTF-8. It formats only on failure, so that checking a batch of valid
// names allocates nothing.
func NameProblem(value string, required bool) string {
	switch {
	case value == "" && required:
		return "required"
	case len(value) > MaxNameBytes:
		return fmt.Sprintf("is %d bytes long; at most %d bytes are allowed", len(value), MaxNameBytes)
	case !utf8.ValidString(value):
		return "is not valid UTF-8"
	}
	return ""
}
