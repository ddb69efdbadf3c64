package server

import (
	"context"
	"sync"
	"time"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/metrics"
)

// SyncGateway replaces what the brain holds for one gateway with the gateway's whole truth (see
// metrics.Tracker.SyncGateway). Open recommendations for the models it dropped are withdrawn by
// the next evaluation cycle, which withdraws every recommendation whose pair is no longer LOADED.
func (s *Server) SyncGateway(ctx context.Context, req *brainv1.SyncGatewayRequest) (*brainv1.SyncGatewayResponse, error) {
	models := make([]metrics.GatewayModel, len(req.GetModels()))
	for i, m := range req.GetModels() {
		models[i] = metrics.GatewayModel{
			Model:       m.GetModelName(),
			Runtime:     m.GetRuntime(),
			GPUUUID:     m.GetGpuUuid(),
			State:       metrics.State(m.GetState()),
			MemoryBytes: m.GetMemoryBytes(),
		}
	}
	res, err := s.tracker.SyncGateway(req.GetGatewayId(), models)
	if err != nil {
		return nil, s.toStatus(err)
	}
	s.log.InfoContext(ctx, "gateway synced", "gateway_id", req.GetGatewayId(), "models", len(models),
		"added", len(res.Added), "changed", len(res.Changed), "removed", len(res.Removed))
	return &brainv1.SyncGatewayResponse{Added: res.Added, Changed: res.Changed, Removed: res.Removed}, nil
}

// watchers counts the open recommendation streams per gateway: a gateway with one is not forgotten.
type watchers struct {
	mu sync.Mutex
	n  map[string]int
}

func (w *watchers) add(gateway string, d int) {
	if gateway == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = make(map[string]int)
	}
	w.n[gateway] += d
	if w.n[gateway] <= 0 {
		delete(w.n, gateway)
	}
}

func (w *watchers) watched(gateway string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n[gateway] > 0
}

// watchStarted and watchEnded keep a watching gateway alive; when its stream ends, its TTL counts
// from then.
func (s *Server) watchStarted(gateway string) { s.watchers.add(gateway, 1) }

func (s *Server) watchEnded(gateway string) {
	s.watchers.add(gateway, -1)
	if gateway != "" {
		s.tracker.KeepAlive(gateway)
	}
}

// ExpireGateways forgets, as of now, every gateway with no report, sync or open watch stream for
// the gateway TTL, with its models (and the policy's state for them, such as the predictive
// policy's histories); it returns their ids. Without a TTL it forgets nothing. The
// expiry loop calls it; tests call it with a fake clock.
func (s *Server) ExpireGateways(now time.Time) []string {
	ttl := s.opts.GatewayTTL
	if ttl <= 0 {
		return nil
	}
	gone := s.tracker.ForgetGateways(now.Add(-ttl), s.watchers.watched)
	if f, ok := s.opts.Policy.(gatewayForgetter); ok && len(gone) > 0 {
		f.ForgetGateways(gone)
	}
	for _, g := range gone {
		s.log.Info("gateway forgotten: no report, sync or watch stream within the gateway TTL",
			"gateway_id", g, "gateway_ttl", ttl.String())
	}
	return gone
}

// gatewayForgetter is a policy that keeps state per gateway (predict.EnginePolicy: its models'
// histories), to drop along with the gateways the tracker forgets.
type gatewayForgetter interface {
	ForgetGateways(gateways []string)
}

// expiryInterval is how often the expiry loop looks: a tenth of the TTL, so that a gateway is
// forgotten at most 10% late, but at most once a minute and at least once a second.
func expiryInterval(ttl time.Duration) time.Duration {
	return min(max(ttl/10, time.Second), time.Minute)
}

// runExpiry forgets expired gateways until the server shuts down.
func (s *Server) runExpiry() {
	tick := time.NewTicker(expiryInterval(s.opts.GatewayTTL))
	defer tick.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-tick.C:
			s.ExpireGateways(s.now())
		}
	}
}

// snapshotEnd is the marker that ends a stream's snapshot. sync_required tells the gateway to
// sync: the brain has had no sync from it since it started (or forgot it), and a watch without a
// gateway_id cannot be told otherwise. A snapshot is sent at a fresh start and after every reset,
// so a restarted brain reaches every resuming gateway this way.
func (s *Server) snapshotEnd(gateway string, open int) *brainv1.SnapshotEnd {
	return &brainv1.SnapshotEnd{OpenRecommendations: int64(open), SyncRequired: gateway == "" || !s.tracker.Synced(gateway)}
}
