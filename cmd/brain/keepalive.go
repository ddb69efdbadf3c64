package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/modelium/brain/internal/config"
	"github.com/modelium/brain/predict"
)

// predictivePolicy returns the predictive keep-alive policy when the configuration asks for it
// (nil otherwise), with the histories of orchestration.state_file when there is one: a missing
// file starts empty; an unreadable, foreign or truncated one is logged and ignored.
func predictivePolicy(c *config.Config, log *slog.Logger) (*predict.Policy, error) {
	if c.Orchestration.Policies.KeepAlivePolicy != config.KeepAlivePredictive {
		return nil, nil
	}
	p, err := predict.New(predict.Config{Step: time.Duration(c.Orchestration.Policies.PredictiveStep)})
	if err != nil {
		return nil, err
	}
	path := c.Orchestration.StateFile
	if path == "" {
		return p, nil
	}
	switch found, err := p.ReadFile(path); {
	case err != nil:
		log.Warn("state file ignored: the predictive policy starts without history", "path", path, "err", err)
	case found:
		log.Info("state file read", "path", path, "models", p.Len())
	default:
		log.Info("no state file yet: the predictive policy starts without history", "path", path)
	}
	return p, nil
}

// keepState writes the policy's histories to path every predict.SaveInterval until ctx ends, then
// once more (at shutdown). A failed write is logged; the next one tries again. It returns when the
// last write is done.
func keepState(ctx context.Context, p *predict.Policy, path string, log *slog.Logger) {
	if p == nil || path == "" {
		return
	}
	t := time.NewTicker(predict.SaveInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := p.WriteFile(path); err != nil {
				log.Warn("state file not written", "path", path, "err", err)
			}
		case <-ctx.Done():
			if err := p.WriteFile(path); err != nil {
				log.Warn("state file not written at shutdown", "path", path, "err", err)
				return
			}
			log.Info("state file written", "path", path, "models", p.Len())
			return
		}
	}
}

// startKeepingState runs keepState in the background and returns the function that stops it and
// waits for its last write; calling that more than once is harmless.
func startKeepingState(p *predict.Policy, path string, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { keepState(ctx, p, path, log); close(done) }()
	return sync.OnceFunc(func() { cancel(); <-done })
}
