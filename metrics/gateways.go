package metrics

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelium/brain/internal/validate"
)

// MaxSyncModels bounds the models in one SyncGateway (owned by internal/validate).
const MaxSyncModels = validate.MaxModelsPerSync

// GatewayModel is one model as its gateway holds it, in a sync.
type GatewayModel struct {
	Model, Runtime, GPUUUID string
	State                   State
	MemoryBytes             int64
}

// SyncResult says what a sync changed in what the tracker held for the gateway; each list is
// sorted.
type SyncResult struct {
	// Added are models the gateway had no state for before (traffic alone does not count).
	Added []string
	// Changed are models whose state, runtime, GPU or memory differed.
	Changed []string
	// Removed are models the tracker held for the gateway that the sync did not list; their
	// placements on the gateway are gone (and the model with them when no other gateway has it).
	Removed []string
}

// SyncGateway replaces everything the tracker holds for one gateway with models, atomically: it
// fails only with a *ValidationError (then nothing changed), else every listed model has exactly
// the given state on the gateway and every other placement of the gateway is dropped. A state that
// changes counts from now (a model synced LOADED is idle from now, or from the brain's start);
// traffic already recorded for a listed model is kept.
func (t *Tracker) SyncGateway(gateway string, models []GatewayModel) (SyncResult, error) {
	now := t.now().UnixNano()
	var v violations
	v.name("gateway_id", gateway, true)
	listed := make(map[string]int, min(len(models), MaxSyncModels))
	if len(models) > MaxSyncModels {
		v.add("models", "%d models, more than %d", len(models), MaxSyncModels)
	} else {
		for i := range models {
			checkGatewayModel(&v, i, &models[i], listed)
		}
	}
	if err := v.err(); err != nil {
		return SyncResult{}, err
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.checkGateway(&v, gateway)
	fresh := 0
	for name := range listed {
		if _, ok := t.models[name]; !ok {
			fresh++
		}
	}
	if fresh > 0 && len(t.models)+fresh > t.cfg.MaxModels {
		v.add("models", "model cap of %d reached", t.cfg.MaxModels)
	}
	if err := v.err(); err != nil {
		return SyncResult{}, err
	}
	g := t.touch(gateway, now)
	g.synced = true

	var res SyncResult
	res.Removed = t.dropPlacements(func(m *model, gw string) bool {
		if gw != g.name {
			return false
		}
		_, keep := listed[m.name]
		return !keep
	})
	for i := range models {
		gm := &models[i]
		m := t.model(gm.Model, now)
		had := m.has(g.name)
		p := t.placement(m, g.name)
		runtime, gpuUUID := t.intern(gm.Runtime), t.intern(gm.GPUUUID)
		switch {
		case !had || p.state == StateUnknown:
			res.Added = append(res.Added, m.name)
		case p.state != gm.State || p.runtime != runtime || p.gpuUUID != gpuUUID || p.memoryBytes != gm.MemoryBytes:
			res.Changed = append(res.Changed, m.name)
		}
		if p.state != gm.State {
			p.state, p.stateTime = gm.State, now
			switch gm.State {
			case StateLoaded:
				p.loadedTime = now
			case StateUnloaded, StateFailed:
				p.inFlight = 0
			}
		}
		p.runtime, p.gpuUUID, p.memoryBytes = runtime, gpuUUID, gm.MemoryBytes
	}
	slices.Sort(res.Added)
	slices.Sort(res.Changed)
	slices.Sort(res.Removed)
	return res, nil
}

// checkGatewayModel checks one model of a sync; listed maps each name to its first index.
func checkGatewayModel(v *violations, i int, m *GatewayModel, listed map[string]int) {
	field := func(name string) string { return fmt.Sprintf("models[%d].%s", i, name) }
	if p := validate.NameProblem(m.Model, true); p != "" {
		v.add(field("model_name"), "%s", p)
	} else if j, dup := listed[m.Model]; dup {
		v.add(field("model_name"), "%q is listed twice (also models[%d])", m.Model, j)
	} else {
		listed[m.Model] = i
	}
	if p := validate.NameProblem(m.Runtime, false); p != "" {
		v.add(field("runtime"), "%s", p)
	}
	if p := validate.NameProblem(m.GPUUUID, false); p != "" {
		v.add(field("gpu_uuid"), "%s", p)
	}
	if !m.State.valid() {
		v.add(field("state"), "required: one of loading, loaded, unloading, unloaded, failed")
	}
	if m.MemoryBytes < 0 {
		v.add(field("memory_bytes"), "negative")
	}
}

// dropPlacements removes every placement for which drop is true, and every model left without a
// placement (its traffic history with it); it returns the names of the models that lost one, in
// the order of first report. The caller holds the write lock.
func (t *Tracker) dropPlacements(drop func(m *model, gateway string) bool) []string {
	var touched []string
	emptied := false
	for _, m := range t.order {
		n := len(m.gateways)
		m.gateways = slices.DeleteFunc(m.gateways, func(p placement) bool {
			if drop(m, p.gateway) {
				t.ids.release(p.id)
				return true
			}
			return false
		})
		if len(m.gateways) == n {
			continue
		}
		touched = append(touched, m.name)
		if len(m.gateways) == 0 {
			delete(t.models, m.name)
			emptied = true
		}
	}
	if emptied {
		t.order = slices.DeleteFunc(t.order, func(m *model) bool { return len(m.gateways) == 0 })
	}
	return touched
}

// Synced says whether a SyncGateway from the gateway was applied since the tracker came to know it
// (since the brain started, or since the gateway was last forgotten).
func (t *Tracker) Synced(gateway string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	g, ok := t.gateways[gateway]
	return ok && g.synced
}

// KeepAlive marks a known gateway seen now, as a report would; an unknown gateway stays unknown (a
// watch stream alone does not make a gateway known, so watchers cannot fill the gateway cap).
func (t *Tracker) KeepAlive(gateway string) {
	now := t.now().UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	if g, ok := t.gateways[gateway]; ok {
		g.lastSeen = max(g.lastSeen, now)
	}
}

// ForgetGateways forgets every gateway not seen (report, sync or KeepAlive) since cutoff, unless
// keep says otherwise (for example, it has an open watch stream), with all of its placements; a
// model left without a placement is forgotten too. It returns the forgotten gateway ids, sorted, and
// counts them (GatewaysForgotten). keep is called under the tracker's lock and must not call back.
func (t *Tracker) ForgetGateways(cutoff time.Time, keep func(gateway string) bool) []string {
	limit := cutoff.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone map[string]struct{}
	for name, g := range t.gateways {
		if g.lastSeen >= limit || (keep != nil && keep(name)) {
			continue
		}
		if gone == nil {
			gone = make(map[string]struct{})
		}
		gone[name] = struct{}{}
	}
	if len(gone) == 0 {
		return nil
	}
	t.dropPlacements(func(_ *model, gateway string) bool {
		_, ok := gone[gateway]
		return ok
	})
	ids := make([]string, 0, len(gone))
	for name := range gone {
		delete(t.gateways, name)
		ids = append(ids, name)
	}
	slices.SortFunc(ids, strings.Compare)
	t.forgotten.Add(int64(len(ids)))
	return ids
}

// Gateways is the number of gateways the tracker knows.
func (t *Tracker) Gateways() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.gateways)
}

// GatewaysForgotten counts the gateways ForgetGateways has forgotten.
func (t *Tracker) GatewaysForgotten() int64 { return t.forgotten.Load() }
