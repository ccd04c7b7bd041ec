package maintenance

import (
	"context"
	"encoding/json"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// recordedSpec is the part of a stack record (stack.present writes it in
// the stack's project) the check reads: each service's deploy section.
// Nothing else is decoded, so environment values are never held here.
type recordedSpec struct {
	Services []struct {
		Name   string
		Deploy model.DeploySpec
	} `json:"services"`
}

// Gather reads members, running stack instances and each stack's deployed
// deploy sections.
func Gather(ctx context.Context, c *incus.Client, state *model.ClusterState) ([]Member, []Service, error) {
	members := make([]Member, 0, len(state.Members))
	for _, m := range state.Members {
		members = append(members, Member{Name: m.Name, Status: m.Status})
	}
	specs, err := c.DeployedSpecs(ctx)
	if err != nil {
		return nil, nil, err
	}
	type key struct{ stack, service string }
	byKey := map[key]*Service{}
	for stack, raw := range specs {
		var spec recordedSpec
		if json.Unmarshal([]byte(raw), &spec) != nil {
			continue // unreadable: judged by its running instances below
		}
		for _, s := range spec.Services {
			byKey[key{stack, s.Name}] = &Service{Stack: stack, Service: s.Name, Deploy: s.Deploy, Recorded: true, RunningOn: map[string]int{}}
		}
	}
	for _, in := range state.Instances {
		stack, service, _, ok := in.Owned()
		if !ok || in.Status != "Running" {
			continue
		}
		s := byKey[key{stack, service}]
		if s == nil {
			s = &Service{Stack: stack, Service: service, RunningOn: map[string]int{}}
			byKey[key{stack, service}] = s
		}
		s.RunningOn[in.Member]++
	}
	services := make([]Service, 0, len(byKey))
	for _, s := range byKey {
		services = append(services, *s)
	}
	return members, services, nil
}
