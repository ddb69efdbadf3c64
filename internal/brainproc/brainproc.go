// Package brainproc runs the brain binary as a child process on free loopback ports and learns its
// addresses from its JSON log, for the end-to-end tests and the load generator. It decides
// nothing and is not part of the brain itself.
package brainproc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxLogLines bounds the log lines a Process keeps for error messages.
const maxLogLines = 500

// StartTimeout bounds how long Start waits for the brain to serve.
const StartTimeout = 30 * time.Second

// Process is a running brain binary.
type Process struct {
	// Addresses the brain logged it serves on; MetricsAddr and PprofAddr are empty when off.
	GRPCAddr, MetricsAddr, PprofAddr string
	// epoch is the recommendation stream's epoch of this process, from the same log line.
	epoch string

	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error

	mu    sync.Mutex
	lines []string
}

// Start runs binary with --grpc-addr and --metrics-addr on free loopback ports and JSON logs, then
// args (a flag given again in args wins), and waits for its "brain is serving" line.
func Start(ctx context.Context, binary string, args ...string) (*Process, error) {
	return StartIn(ctx, "", binary, args...)
}

// StartIn is Start with the brain's working directory dir ("" for this process's), against which
// the relative file paths of its configuration resolve.
func StartIn(ctx context.Context, dir, binary string, args ...string) (*Process, error) {
	args = append([]string{"--grpc-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan struct{})
	logsRead := make(chan struct{})
	go func() {
		p.readLogs(stderr, ready)
		close(logsRead)
	}()
	go func() {
		// Wait closes the pipe: only once every line the brain wrote has been read, so that what
		// it logged on its way out (the state file written at shutdown) is in Logs when Exited is
		// closed. The read ends when the brain exits and its end of the pipe closes.
		<-logsRead
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("brain exited before serving (%v):\n%s", p.exitErr, p.logTail(20))
	case <-time.After(StartTimeout):
		p.Kill()
		return nil, fmt.Errorf("brain did not serve within %s:\n%s", StartTimeout, p.logTail(20))
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
}

func (p *Process) readLogs(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var entry map[string]any
		_ = json.Unmarshal(sc.Bytes(), &entry)
		addr, _ := entry["addr"].(string)
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		if len(p.lines) > maxLogLines {
			p.lines = p.lines[1:]
		}
		switch entry["msg"] {
		case "serving Prometheus metrics":
			p.MetricsAddr = addr
		case "serving pprof":
			p.PprofAddr = addr
		case "brain is serving":
			p.GRPCAddr, _ = entry["grpc_addr"].(string)
			p.epoch, _ = entry["epoch"].(string)
			close(ready)
		}
		p.mu.Unlock()
	}
}

// Logs returns the last log lines, oldest first.
func (p *Process) Logs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// WaitLogs polls the log until ok holds of its lines or timeout passes, and returns the lines it
// saw last and whether ok held: what the brain logs about a call can come after the call has
// returned to its client (a refused handshake is logged once the server has given up on it).
func (p *Process) WaitLogs(timeout time.Duration, ok func(lines []string) bool) ([]string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		lines := p.Logs()
		if ok(lines) {
			return lines, true
		}
		if !time.Now().Before(deadline) {
			return lines, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *Process) logTail(n int) string {
	lines := p.Logs()
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Epoch is the epoch of this process's recommendation stream, as it logged it.
func (p *Process) Epoch() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.epoch
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the brain.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Exited is closed when the brain has exited; ExitErr then says how.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr is the brain's exit error (nil for a clean exit); valid once Exited is closed.
func (p *Process) ExitErr() error { return p.exitErr }

// Stop sends SIGTERM and waits for the brain to exit; past timeout it is killed.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.exitErr
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("brain did not stop within %s of SIGTERM; killed", timeout)
	}
}

// Kill kills the brain and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}
