package main

import (
	"strings"
	"testing"
)

func TestReportCountsAndVerdicts(t *testing.T) {
	got, err := build(options{dir: "testdata", pkgs: []string{"metrics"}, baseline: "testdata/baseline.tsv", verdicts: "testdata/verdicts.tsv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `metrics` | 4 | 1 | 2 | 1 | 1 | 33.3 % | 50.0 % (measured before) | 1 min 05 s | abc1234 | 1 | 1 | 66.7 % |",
		"- `metrics/ring.go:81:11` CONDITIONALS_BOUNDARY: equivalent: a move of 0 buckets clears nothing either way",
		"- `metrics/ring.go:99:7` CONDITIONALS_BOUNDARY: killed by a test added after this run: TestRingEdges",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

func TestReportListsLivingMutantsWithoutAVerdict(t *testing.T) {
	got, err := build(options{dir: "testdata", pkgs: []string{"metrics"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "- `metrics/ring.go:99:7` CONDITIONALS_BOUNDARY: **no verdict yet**") || !strings.Contains(got, "2 living mutant(s) have no verdict yet.") {
		t.Errorf("report without verdicts:\n%s", got)
	}
}

func TestReportRefusesAMissingPackage(t *testing.T) {
	if _, err := build(options{dir: "testdata", pkgs: []string{"gpu"}}); err == nil {
		t.Error("no error for a package without results")
	}
}

func TestReportFailsUnderTheMinimumEfficacy(t *testing.T) {
	for _, tt := range []struct {
		min  float64
		fail bool
	}{{33, false}, {34, true}} {
		report, err := build(options{dir: "testdata", pkgs: []string{"metrics"}, minEfficacy: tt.min})
		if (err != nil) != tt.fail || report == "" {
			t.Errorf("minimum %v %%: error %v, report of %d bytes; want failure %v and a report", tt.min, err, len(report), tt.fail)
		}
	}
}
