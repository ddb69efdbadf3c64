package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelium/brain/internal/brainproc"
)

// brainProcess is the brain binary under test, started on free loopback ports with JSON logs at
// the production level (info: successful calls are not logged).
type brainProcess struct{ *brainproc.Process }

// startBrain runs binary with --config and waits for its "brain is serving" log line.
func startBrain(ctx context.Context, binary, config string, pprof bool) (*brainProcess, error) {
	args := []string{"--log-level", "info"}
	if config != "" {
		args = append(args, "--config", config)
	}
	if pprof {
		args = append(args, "--pprof-addr", "127.0.0.1:0")
	}
	p, err := brainproc.Start(ctx, binary, args...)
	if err != nil {
		return nil, err
	}
	return &brainProcess{p}, nil
}

// Stop sends SIGTERM and waits for the brain to stop; past 15 s it is killed.
func (p *brainProcess) Stop() error { return p.Process.Stop(15 * time.Second) }

// Memory is what the kernel and the Go runtime say the brain holds.
type Memory struct {
	RSSBytes      int64 `json:"rss_bytes"`        // VmRSS: resident now
	PeakRSSBytes  int64 `json:"peak_rss_bytes"`   // VmHWM: the high-water mark so far
	HeapInuse     int64 `json:"heap_inuse_bytes"` // go_memstats_heap_inuse_bytes (live and not yet collected)
	GoroutineSize int64 `json:"goroutines"`       // go_goroutines
}

// Memory reads /proc/PID/status and the brain's Prometheus metrics.
func (p *brainProcess) Memory(ctx context.Context) (Memory, error) {
	var m Memory
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return m, fmt.Errorf("read the brain's RSS: %w", err)
	}
	for line := range strings.Lines(string(status)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch name {
		case "VmRSS":
			m.RSSBytes = kib(value)
		case "VmHWM":
			m.PeakRSSBytes = kib(value)
		}
	}
	if p.MetricsAddr == "" {
		return m, nil
	}
	gauges, err := scrape(ctx, "http://"+p.MetricsAddr+"/metrics", "go_memstats_heap_inuse_bytes", "go_goroutines")
	if err != nil {
		return m, err
	}
	m.HeapInuse, m.GoroutineSize = int64(gauges[0]), int64(gauges[1])
	return m, nil
}

// kib parses a /proc/PID/status size ("  123456 kB").
func kib(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	return n << 10
}

// scrape reads unlabelled gauges from a Prometheus text exposition.
func scrape(ctx context.Context, url string, names ...string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	out := make([]float64, len(names))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for i, n := range names {
			if name == n {
				out[i], _ = strconv.ParseFloat(value, 64)
			}
		}
	}
	return out, sc.Err()
}

// cpuProfile fetches a CPU profile of the brain over its pprof listener while load runs.
func (p *brainProcess) cpuProfile(ctx context.Context, seconds int, path string, load func(context.Context) error) error {
	if p.PprofAddr == "" {
		return errors.New("the brain serves no pprof (was it started with --pprof-addr?)")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loadErr := make(chan error, 1)
	go func() { loadErr <- load(ctx) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.PprofAddr, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch the CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch the CPU profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	cancel()
	if err := <-loadErr; err != nil && !errors.Is(err, context.Canceled) {
		f.Close()
		return err
	}
	return f.Close()
}

// CPUTime is the user and system CPU time the brain has used, from /proc/PID/stat (in clock
// ticks of 10 ms: a slice of a second or more keeps the error to a few per cent).
func (p *brainProcess) CPUTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID()))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it are plain numbers.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// selfCPUTime is the user and system CPU time this process has used.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
