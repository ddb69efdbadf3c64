package validate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/modelium/brain/internal/validate"
)

func TestNameRule(t *testing.T) {
	for _, tt := range []struct {
		name     string
		value    string
		required bool
		want     string
	}{
		{"a required name that is missing is refused", "", true, "required"},
		{"an optional name may be empty", "", false, ""},
		{"a name of exactly the limit is accepted", strings.Repeat("x", validate.MaxNameBytes), true, ""},
		{"a name one byte over the limit is refused", strings.Repeat("x", validate.MaxNameBytes+1), true, "is 257 bytes long; at most 256 bytes are allowed"},
		{"a name that is not UTF-8 is refused", "\xff", true, "is not valid UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := validate.NameProblem(tt.value, tt.required); got != tt.want {
				t.Fatalf("NameProblem = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestViolationsListAtMostAHundredAndCountTheRest(t *testing.T) {
	var v validate.Violations
	if v.Err() != nil {
		t.Fatal("no violation must be no error")
	}
	for range 105 {
		v.Add("samples", "bad")
	}
	var e *validate.Error
	if err := v.Err(); !errors.As(err, &e) || !errors.Is(err, validate.ErrInvalid) {
		t.Fatalf("Err() = %v, want an *Error matching ErrInvalid", err)
	}
	if len(e.Violations) != 101 || e.Violations[100].Description != "5 more violations not listed" {
		t.Fatalf("got %d violations (last %+v); want 100 listed and one saying 5 more", len(e.Violations), e.Violations[len(e.Violations)-1])
	}
}

func TestViolationsUnderTheLimitAreListedAsRecorded(t *testing.T) {
	var v validate.Violations
	v.Add("gateway_id", "required")
	v.Name("model_name", strings.Repeat("m", validate.MaxNameBytes+1), true)
	v.Name("runtime", "vllm", true) // a good name records nothing
	err := v.Err()
	var e *validate.Error
	if !errors.As(err, &e) || len(e.Violations) != 2 {
		t.Fatalf("Err() = %v; want exactly the 2 violations recorded, no count line", err)
	}
	want := "invalid request: gateway_id: required; model_name: is 257 bytes long; at most 256 bytes are allowed"
	if err.Error() != want {
		t.Errorf("Error() = %q; want %q", err.Error(), want)
	}
}

func TestViolationsAtTheLimitAreAllListed(t *testing.T) {
	var v validate.Violations
	for range 100 {
		v.Add("samples", "bad")
	}
	var e *validate.Error
	if err := v.Err(); !errors.As(err, &e) || len(e.Violations) != 100 || e.Violations[99].Description != "bad" {
		t.Fatalf("100 violations: %v; want all 100 listed and no count line", err)
	}
}
