package main

import (
	"context"
	"fmt"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
)

// MemoryResult is the brain's memory with many tracked models and the fan-out's subscribers.
type MemoryResult struct {
	Models      int `json:"models"`      // models reported LOADED, each with traffic
	Subscribers int `json:"subscribers"` // open watch streams while measured
	// Idle is right after the start; Before is with the subscribers, before the models; After is
	// with both, after a few evaluation cycles over all the models.
	Idle   Memory `json:"idle"`
	Before Memory `json:"before"`
	After  Memory `json:"after"`
	// RSSRatio is After.RSS over Idle.RSS; the per-model figures are (After - Before) / Models.
	RSSRatio          float64 `json:"rss_ratio_to_idle"`
	RSSPerModelBytes  float64 `json:"rss_per_model_bytes"`
	HeapPerModelBytes float64 `json:"heap_per_model_bytes"`
	// LoadSeconds is how long reporting the models took (traffic in batches of 10,000, then one
	// ReportModelState each, over the load's connections).
	LoadSeconds float64 `json:"load_seconds"`
}

// measureMemory reports models LOADED on gatewayMemory, each with traffic and a request in flight
// (so that the evaluation loop, which runs over all of them, recommends none), and reads the
// brain's memory before and after.
func measureMemory(ctx context.Context, brain *brainProcess, p *pool, models int, settle time.Duration) (MemoryResult, error) {
	res := MemoryResult{Models: models}
	var err error
	if res.Before, err = brain.Memory(ctx); err != nil {
		return res, err
	}
	start := time.Now()
	const batch = 10_000 // the most samples a batch may carry
	batches := (models + batch - 1) / batch
	err = p.each(ctx, batches, func(ctx context.Context, c brainv1.BrainServiceClient, b int) error {
		n := min(batch, models-b*batch)
		if _, err := c.ReportTraffic(ctx, trafficBatch(gatewayMemory, "bench-memory", n, b*batch, 1, time.Now())); err != nil {
			return fmt.Errorf("report traffic for models %d..%d: %w", b*batch, b*batch+n-1, err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	now := time.Now()
	err = p.each(ctx, models, func(ctx context.Context, c brainv1.BrainServiceClient, i int) error {
		return reportLoaded(ctx, c, gatewayMemory, fmt.Sprintf("bench-memory-%06d", i), i, now)
	})
	if err != nil {
		return res, err
	}
	res.LoadSeconds = round(time.Since(start).Seconds(), 2)
	time.Sleep(settle)
	if res.After, err = brain.Memory(ctx); err != nil {
		return res, err
	}
	res.RSSPerModelBytes = round(float64(res.After.RSSBytes-res.Before.RSSBytes)/float64(models), 0)
	res.HeapPerModelBytes = round(float64(res.After.HeapInuse-res.Before.HeapInuse)/float64(models), 0)
	return res, nil
}
