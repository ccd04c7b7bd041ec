package app

import (
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// stackInstance is one instance of a stack as status reports it.
type stackInstance struct {
	Service  string `json:"service"`
	Slot     int    `json:"slot"`
	Instance string `json:"instance"`
	Member   string `json:"member"`
	State    string `json:"state"`
	Hash     string `json:"hash"`
	// Labels are the service's deploy.labels recorded on the instance.
	Labels map[string]string `json:"labels,omitempty"`
	// Ports are the published ports, "HOST:CONTAINER/PROTO".
	Ports []string `json:"ports,omitempty"`
	// Health is the last transition `stack watch` recorded (starting,
	// healthy, unhealthy; watch_health.go); "" where no watch has run its
	// check.
	Health string `json:"health,omitempty"`
	// Reason says why the state is Unknown or Missing
	// (stack_status_slots.go), or, for an unhealthy replica, what its last
	// probe said.
	Reason string `json:"reason,omitempty"`
}

// instancesOf lists the instances a stack owns, by recorded ownership (never
// by name), sorted by service and slot.
func instancesOf(state *model.ClusterState, stack string) []stackInstance {
	out := []stackInstance{}
	for _, in := range state.Instances {
		owner, svc, slot, ok := in.Owned()
		if !ok || owner != stack || in.Project != stack {
			continue
		}
		out = append(out, stackInstance{Service: svc, Slot: slot, Instance: in.Name, Member: in.Member,
			State: in.Status, Hash: in.Config[model.KeyHash], Labels: deployLabels(in.Config),
			Ports: publishedPorts(in.Config), Health: in.Config[model.KeyHealth]})
		if in.Unhealthy() {
			out[len(out)-1].Reason = "unhealthy: " + in.Config[model.KeyHealthOutput]
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		if out[i].Slot != out[j].Slot {
			return out[i].Slot < out[j].Slot
		}
		return out[i].Instance < out[j].Instance
	})
	return out
}

// deployLabels reads deploy.labels back from an instance's config.
func deployLabels(cfg map[string]string) map[string]string {
	var out map[string]string
	for k, v := range cfg {
		if name, ok := strings.CutPrefix(k, model.KeyDeployLabelPrefix); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = v
		}
	}
	return out
}

// publishedPorts reads the published ports back from an instance's config.
func publishedPorts(cfg map[string]string) []string {
	if v := cfg[incus.KeyPublished]; v != "" {
		return strings.Split(v, ",")
	}
	return nil
}
