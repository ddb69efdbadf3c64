package main

// Every grpcurl example in the README runs here, in README order, with the pinned grpcurl against
// the real binary started as the README says, so that none of them can rot. An example states what
// it must print in a trailing comment: `grpcurl ... # -> "runtime": "vllm"`. The TLS examples run in
// a folder of their own, after the README's own line that makes their certificates.

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type readmeExample struct {
	line    int
	command string
	want    string
}

// readmeRun is one brain the README starts (its `go run ./cmd/brain --config FILE` line) and the
// grpcurl lines after it, up to the next such line.
type readmeRun struct {
	config string
	// setup are the README's `go run ./internal/testpki/cmd/devcerts ...` lines before the brain's:
	// they make the files its configuration names, relative to the folder the brain runs in.
	setup    []string
	examples []readmeExample
}

const devcertsCommand = "go run ./internal/testpki/cmd/devcerts"

// readmeRuns returns the brains the README's sh blocks start and the grpcurl lines run against each.
func readmeRuns(t *testing.T) []readmeRun {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var runs []readmeRun
	var setup []string
	sc := bufio.NewScanner(f)
	inSh := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
		case strings.HasPrefix(line, "```"):
			inSh = false
		case inSh && strings.HasPrefix(line, devcertsCommand+" "):
			command, _, _ := strings.Cut(line, " #")
			setup = append(setup, strings.TrimSpace(command))
		case inSh && strings.HasPrefix(line, "go run ./cmd/brain --config "):
			runs = append(runs, readmeRun{config: strings.Fields(line)[4], setup: setup})
			setup = nil
		case inSh && strings.HasPrefix(line, "grpcurl "):
			if len(runs) == 0 {
				t.Fatalf("README.md:%d: a grpcurl example before any `go run ./cmd/brain --config` line", n)
			}
			cmd, want, _ := strings.Cut(line, " # -> ")
			r := &runs[len(runs)-1]
			r.examples = append(r.examples, readmeExample{line: n, command: strings.TrimSpace(cmd), want: strings.TrimSpace(want)})
		}
	}
	return runs
}

func TestREADMEGrpcurlExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds grpcurl; skipped with -short")
	}
	runs := readmeRuns(t)
	// The plaintext brain with every RPC covered first; among the others, the pre-warm demo's
	// (configs/predictive-demo.yaml) and the mutual TLS one with the line that makes its certificates.
	withSetup := slices.IndexFunc(runs, func(r readmeRun) bool { return len(r.setup) > 0 && len(r.examples) > 0 })
	demo := slices.IndexFunc(runs, func(r readmeRun) bool { return r.config == "configs/predictive-demo.yaml" && len(r.examples) > 0 })
	if len(runs) < 3 || len(runs[0].examples) < 10 || withSetup < 0 || demo < 0 {
		t.Fatalf("found %d brains in README.md; want the plaintext one with every RPC covered, the pre-warm demo's, and the mutual TLS one with the line that makes its certificates", len(runs))
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	for _, pkg := range []string{"-modfile=tools.mod github.com/fullstorydev/grpcurl/cmd/grpcurl", "./internal/testpki/cmd/devcerts"} {
		build := exec.Command("go", append([]string{"build", "-o", binDir}, strings.Fields(pkg)...)...)
		build.Dir = repo
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	path := "PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH")

	for _, run := range runs {
		t.Run(run.config, func(t *testing.T) {
			// The brain and grpcurl run in the repository, or, for a run that makes files first, in
			// a folder of its own as the README's relative paths expect.
			brainDir, dir := "", repo
			if len(run.setup) > 0 {
				dir = t.TempDir()
				brainDir = dir
			}
			for _, s := range run.setup {
				cmd := exec.Command("bash", "-c", strings.Replace(s, devcertsCommand, filepath.Join(binDir, "devcerts"), 1))
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", s, err, out)
				}
			}
			brain := startBrainIn(t, brainDir, "--config", filepath.Join(repo, run.config))
			for _, ex := range run.examples {
				command := strings.ReplaceAll(ex.command, "localhost:50051", brain.GRPCAddr)
				want := strings.ReplaceAll(ex.want, "localhost:50051", brain.GRPCAddr)
				if !strings.Contains(command, "-max-time") {
					command = strings.Replace(command, "grpcurl ", "grpcurl -max-time 10 ", 1)
				}
				cmd := exec.Command("bash", "-c", command)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), path)
				start := time.Now()
				out, err := cmd.CombinedOutput()
				t.Logf("README.md:%d %s (%v)\n%s", ex.line, ex.command, time.Since(start).Round(time.Millisecond), out)
				// A gRPC error ("Code: ..."), a refused connection ("Failed to dial ...") and a
				// watch cut by -max-time end grpcurl with an error status.
				wantsError := strings.HasPrefix(want, "Code:") || strings.HasPrefix(want, "Failed to dial") || strings.Contains(ex.command, "-max-time")
				if err != nil && !wantsError {
					t.Errorf("README.md:%d failed: %v", ex.line, err)
				}
				if err == nil && strings.HasPrefix(want, "Failed to dial") {
					t.Errorf("README.md:%d succeeded; want it refused", ex.line)
				}
				if want != "" && !strings.Contains(string(out), want) {
					t.Errorf("README.md:%d printed no %q", ex.line, want)
				}
			}
		})
	}
}
