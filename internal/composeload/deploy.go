package composeload

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// toDeploy maps deploy: with Swarm's defaults filled in, so later stages
// never have to know what an absent field means.
func toDeploy(s types.ServiceConfig, w *warnings) (model.DeploySpec, error) {
	d := s.Deploy
	if d == nil {
		d = &types.DeployConfig{}
	}
	var out model.DeploySpec
	var err error
	if out.Mode, out.Replicas, err = modeAndReplicas(s, d); err != nil {
		return out, err
	}
	if out.Placement, err = toPlacement(s.Name, d.Placement); err != nil {
		return out, err
	}
	if out.Resources, err = toResources(s, d.Resources); err != nil {
		return out, err
	}
	if out.RestartPolicy, err = toRestartPolicy(s, w); err != nil {
		return out, err
	}
	if out.UpdateConfig, err = toUpdateConfig(s.Name, "deploy.update_config", d.UpdateConfig, false); err != nil {
		return out, err
	}
	if out.RollbackConfig, err = toUpdateConfig(s.Name, "deploy.rollback_config", d.RollbackConfig, true); err != nil {
		return out, err
	}
	out.Labels = labels(d.Labels)
	return out, nil
}

// modeAndReplicas applies Swarm's rules: replicated by default with one
// replica; `scale:` stands in for deploy.replicas; global takes no count.
func modeAndReplicas(s types.ServiceConfig, d *types.DeployConfig) (string, int, error) {
	switch d.Mode {
	case "", model.ModeReplicated:
		switch {
		case d.Replicas != nil:
			return model.ModeReplicated, *d.Replicas, nil
		case s.Scale != nil:
			return model.ModeReplicated, *s.Scale, nil
		}
		return model.ModeReplicated, 1, nil
	case model.ModeGlobal:
		// compose-go copies scale into deploy.replicas, so check scale first
		// to blame the field the user actually wrote.
		if s.Scale != nil {
			return "", 0, serviceErr(s.Name, "scale", "cannot be used with deploy.mode global; remove scale or use mode replicated")
		}
		if d.Replicas != nil {
			return "", 0, serviceErr(s.Name, "deploy.replicas", "cannot be used with mode global; remove replicas or use mode replicated")
		}
		return model.ModeGlobal, 0, nil
	case "replicated-job", "global-job":
		return "", 0, serviceErr(s.Name, "deploy.mode", "%q is not supported: run-to-completion jobs have no Incus equivalent; use replicated or global", d.Mode)
	default:
		return "", 0, serviceErr(s.Name, "deploy.mode", "%q is unknown; use replicated or global", d.Mode)
	}
}

// toPlacement keeps constraints raw (the constraint package parses them) but
// rejects entries that are empty, which Swarm would refuse later anyway.
func toPlacement(service string, p types.Placement) (model.Placement, error) {
	var out model.Placement
	for i, c := range p.Constraints {
		c = strings.TrimSpace(c)
		if c == "" {
			return out, serviceErr(service, fmt.Sprintf("deploy.placement.constraints[%d]", i), "is empty; remove it or write one such as node.labels.storage == ssd")
		}
		out.Constraints = append(out.Constraints, c)
	}
	for i, pref := range p.Preferences {
		key := strings.TrimSpace(pref.Spread)
		if key == "" {
			return out, serviceErr(service, fmt.Sprintf("deploy.placement.preferences[%d].spread", i), "is empty; name the node attribute to spread over, such as node.labels.zone")
		}
		out.Spread = append(out.Spread, key)
	}
	n, ok := toInt(p.MaxReplicas)
	if !ok {
		return out, serviceErr(service, "deploy.placement.max_replicas_per_node", "%d is too large; use 0 for unlimited", p.MaxReplicas)
	}
	out.MaxReplicasPerNode = n
	return out, nil
}

// toResources maps deploy.resources. The service-level cpus, mem_limit,
// mem_reservation and pids_limit are the non-Swarm spelling of the same
// settings (compose-go already rejects conflicting values), so they fill in
// whatever deploy.resources leaves unset.
func toResources(s types.ServiceConfig, r types.Resources) (model.Resources, error) {
	out := model.Resources{
		LimitCPUs:          float32To64(s.CPUS),
		LimitMemoryBytes:   int64(s.MemLimit),
		LimitPids:          s.PidsLimit,
		ReserveMemoryBytes: int64(s.MemReservation),
	}
	if l := r.Limits; l != nil {
		if l.NanoCPUs != 0 {
			out.LimitCPUs = float32To64(float32(l.NanoCPUs))
		}
		if l.MemoryBytes != 0 {
			out.LimitMemoryBytes = int64(l.MemoryBytes)
		}
		if l.Pids != 0 {
			out.LimitPids = l.Pids
		}
	}
	if res := r.Reservations; res != nil {
		if res.NanoCPUs != 0 {
			out.ReserveCPUs = float32To64(float32(res.NanoCPUs))
		}
		if res.MemoryBytes != 0 {
			out.ReserveMemoryBytes = int64(res.MemoryBytes)
		}
	}
	// Docker spells "no pids limit" as -1; the model uses 0.
	if out.LimitPids == -1 {
		out.LimitPids = 0
	}
	for _, c := range []struct {
		attr string
		bad  bool
	}{
		{"deploy.resources.limits.cpus", out.LimitCPUs < 0 || math.IsNaN(out.LimitCPUs) || math.IsInf(out.LimitCPUs, 0)},
		{"deploy.resources.limits.memory", out.LimitMemoryBytes < 0},
		{"deploy.resources.limits.pids", out.LimitPids < 0},
		{"deploy.resources.reservations.cpus", out.ReserveCPUs < 0 || math.IsNaN(out.ReserveCPUs) || math.IsInf(out.ReserveCPUs, 0)},
		{"deploy.resources.reservations.memory", out.ReserveMemoryBytes < 0},
	} {
		if c.bad {
			return out, serviceErr(s.Name, c.attr, "must be a positive amount; remove it for no limit")
		}
	}
	return out, nil
}

// float32To64 widens compose-go's float32 through its shortest decimal
// form, so "0.1" stays 0.1 instead of 0.10000000149011612.
func float32To64(f float32) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	if err != nil {
		return float64(f)
	}
	return v
}

// toInt narrows compose-go's unsigned counts; ok is false on overflow.
func toInt(u uint64) (int, bool) {
	if u > math.MaxInt {
		return 0, false
	}
	return int(u), true
}
