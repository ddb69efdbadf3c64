package main

// Every grpcurl example in the README runs here, in README order, with the pinned grpcurl against
// the real binary started as the README says, so that none of them can rot. An example states what
// it must print in a trailing comment: `grpcurl ... # -> "runtime": "vllm"`. A README line
// `go run ./cmd/brain --config FILE` starts a section: the examples after it run against a brain
// started with that file (a fresh one for each section).

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type readmeExample struct {
	line    int
	command string
	want    string
}

// readmeSection is the config of one `go run ./cmd/brain --config FILE` line of the README and the
// grpcurl examples after it, up to the next such line.
type readmeSection struct {
	config   string
	examples []readmeExample
}

// readmeExamples returns the README's sections, in README order.
func readmeExamples(t *testing.T) (sections []readmeSection) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inSh := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
		case strings.HasPrefix(line, "```"):
			inSh = false
		case inSh && strings.HasPrefix(line, "go run ./cmd/brain --config "):
			sections = append(sections, readmeSection{config: strings.Fields(line)[4]})
		case inSh && strings.HasPrefix(line, "grpcurl "):
			if len(sections) == 0 {
				t.Fatalf("README.md:%d: a grpcurl example before any `go run ./cmd/brain --config` line", n)
			}
			cmd, want, _ := strings.Cut(line, " # -> ")
			s := &sections[len(sections)-1]
			s.examples = append(s.examples, readmeExample{line: n, command: strings.TrimSpace(cmd), want: strings.TrimSpace(want)})
		}
	}
	return sections
}

func TestREADMEGrpcurlExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds grpcurl; skipped with -short")
	}
	sections := readmeExamples(t)
	examples := 0
	for _, s := range sections {
		examples += len(s.examples)
	}
	if examples < 10 {
		t.Fatalf("found %d grpcurl examples in README.md; want every RPC covered", examples)
	}
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-modfile=../../tools.mod", "-o", binDir, "github.com/fullstorydev/grpcurl/cmd/grpcurl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the pinned grpcurl: %v\n%s", err, out)
	}
	for _, s := range sections {
		if len(s.examples) > 0 {
			runREADMESection(t, s, binDir)
		}
	}
}

// runREADMESection starts the brain with the section's config and runs its examples in order.
func runREADMESection(t *testing.T, s readmeSection, binDir string) {
	brain := startBrain(t, "--config", filepath.Join("..", "..", s.config))
	for _, ex := range s.examples {
		command := strings.ReplaceAll(ex.command, "localhost:50051", brain.GRPCAddr)
		if !strings.Contains(command, "-max-time") {
			command = strings.Replace(command, "grpcurl ", "grpcurl -max-time 10 ", 1)
		}
		cmd := exec.Command("bash", "-c", command)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		start := time.Now()
		out, err := cmd.CombinedOutput()
		t.Logf("README.md:%d %s (%v)\n%s", ex.line, ex.command, time.Since(start).Round(time.Millisecond), out)
		wantsError := strings.HasPrefix(ex.want, "Code:") || strings.Contains(ex.command, "-max-time")
		if err != nil && !wantsError {
			t.Errorf("README.md:%d failed: %v", ex.line, err)
		}
		if ex.want != "" && !strings.Contains(string(out), ex.want) {
			t.Errorf("README.md:%d printed no %q", ex.line, ex.want)
		}
	}
}
