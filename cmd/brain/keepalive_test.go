package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/predict"
)

func TestPredictivePolicyAndItsStateFile(t *testing.T) {
	dir := t.TempDir()
	saved, _ := predict.New(predict.Config{})
	for m := range 5 {
		saved.Observe(predict.Key{Gateway: "gw", Model: "timer"}, time.Unix(int64(m)*600, 0))
	}
	good := filepath.Join(dir, "good.state")
	if err := saved.WriteFile(good); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.state")
	if err := os.WriteFile(truncated, data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		policy     string
		stateFile  string
		wantPolicy bool
		wantModels int
		wantLog    string
	}{
		{"the fixed policy has no predictive state", config.KeepAliveFixed, good, false, 0, ""},
		{"predictive without a state file starts empty", config.KeepAlivePredictive, "", true, 0, ""},
		{"a missing state file starts empty", config.KeepAlivePredictive, filepath.Join(dir, "missing"), true, 0, "no state file yet"},
		{"a state file restores the histories", config.KeepAlivePredictive, good, true, 1, "state file read"},
		{"a truncated state file is logged and ignored", config.KeepAlivePredictive, truncated, true, 0, "state file ignored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			cfg := &config.Config{}
			cfg.Orchestration.Policies.KeepAlivePolicy = tc.policy
			cfg.Orchestration.StateFile = tc.stateFile
			p, err := predictivePolicy(cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			if (p != nil) != tc.wantPolicy {
				t.Fatalf("policy %v, want one: %v", p, tc.wantPolicy)
			}
			if p != nil && p.Len() != tc.wantModels {
				t.Errorf("%d models, want %d", p.Len(), tc.wantModels)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log %q, want %q", logs.String(), tc.wantLog)
			}
		})
	}
}

func TestStateIsWrittenAtShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "brain.state")
	p, _ := predict.New(predict.Config{})
	p.Observe(predict.Key{Gateway: "gw", Model: "m"}, time.Unix(600, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { keepState(ctx, p, path, slog.New(slog.DiscardHandler)); close(done) }()
	cancel()
	<-done
	q, _ := predict.New(predict.Config{})
	if found, err := q.ReadFile(path); !found || err != nil || q.Len() != 1 {
		t.Errorf("after shutdown: found %v, err %v, %d models; want the one model", found, err, q.Len())
	}
}
