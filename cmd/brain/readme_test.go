package main

// Every grpcurl example in the README runs here, in README order, with the pinned grpcurl against
// the real binary started as the README says, so that none of them can rot. An example states what
// it must print in a trailing comment: `grpcurl ... # -> "runtime": "vllm"`.

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

// readmeExamples returns the grpcurl lines of the README's sh blocks, and the config the README
// starts the brain with for them (the `go run ./cmd/brain --config FILE` line before them).
func readmeExamples(t *testing.T) (examples []readmeExample, config string) {
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
			config = strings.Fields(line)[4]
		case inSh && strings.HasPrefix(line, "grpcurl "):
			cmd, want, _ := strings.Cut(line, " # -> ")
			examples = append(examples, readmeExample{line: n, command: strings.TrimSpace(cmd), want: strings.TrimSpace(want)})
		}
	}
	return examples, config
}

func TestREADMEGrpcurlExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds grpcurl; skipped with -short")
	}
	examples, config := readmeExamples(t)
	if len(examples) < 10 || config == "" {
		t.Fatalf("found %d grpcurl examples and config %q in README.md; want every RPC covered and the config the examples run with", len(examples), config)
	}
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-modfile=../../tools.mod", "-o", binDir, "github.com/fullstorydev/grpcurl/cmd/grpcurl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the pinned grpcurl: %v\n%s", err, out)
	}
	brain := startBrain(t, "--config", filepath.Join("..", "..", config))

	for _, ex := range examples {
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
