// Package maintenance answers the question a rolling member maintenance
// asks before each member: can this member be evacuated now without any
// stack's service dropping below the running replicas its deploy section
// allows? (cluster.member.maintenance_check, and cluster.member.evacuate
// with check: true.) Check is pure; Gather (gather.go) reads Incus.
package maintenance

import (
	"fmt"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Service is one stack service: its deploy section as deployed, and where
// its replicas run now.
type Service struct {
	Stack, Service string
	Deploy         model.DeploySpec
	Recorded       bool           // false: no deployed spec, running count taken as desired
	RunningOn      map[string]int // member -> running replicas
}

// Member is a member's name and status.
type Member struct{ Name, Status string }

// Verdict is the check of one service.
type Verdict struct {
	Stack   string `json:"stack"`
	Service string `json:"service"`
	Desired int    `json:"desired"`
	Running int    `json:"running"`
	// OnMember runs on the member to evacuate; After is what keeps
	// running right after the evacuation (evacuation stops or moves them,
	// and stack instances with proxy devices are stopped).
	OnMember int `json:"on_member"`
	After    int `json:"after"`
	// Floor is the fewest running replicas update_config allows:
	// desired - parallelism (parallelism 0 = all at once: no floor).
	Floor int `json:"floor"`
	// Reachable is how many replicas the other online members can hold
	// (max_replicas_per_node), i.e. what a rebalance gets back.
	Reachable int    `json:"reachable"`
	OK        bool   `json:"ok"`
	Reason    string `json:"reason,omitempty"`
}

// Result is the whole check.
type Result struct {
	Member   string    `json:"member"`
	OK       bool      `json:"ok"`
	Services []Verdict `json:"services"`
	Warnings []string  `json:"-"`
}

// Check decides whether member can be evacuated.
func Check(member string, members []Member, services []Service) Result {
	res := Result{Member: member, OK: true, Services: []Verdict{}}
	remaining := 0
	for _, m := range members {
		if m.Name != member && m.Status == model.StatusOnline {
			remaining++
		}
	}
	sort.Slice(services, func(i, j int) bool {
		if services[i].Stack != services[j].Stack {
			return services[i].Stack < services[j].Stack
		}
		return services[i].Service < services[j].Service
	})
	for _, s := range services {
		v := verdict(member, remaining, s)
		if !v.OK {
			res.OK = false
		} else if v.Reachable < v.Desired && v.OnMember > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("stack %s: service %s will run %d of %d replicas until %s is restored "+
				"(the %d other online member(s) hold at most %d)", s.Stack, s.Service, v.Reachable, v.Desired, member, remaining, v.Reachable))
		}
		res.Services = append(res.Services, v)
	}
	return res
}

func verdict(member string, remaining int, s Service) Verdict {
	v := Verdict{Stack: s.Stack, Service: s.Service}
	for m, n := range s.RunningOn {
		v.Running += n
		if m == member {
			v.OnMember += n
		}
	}
	v.After = v.Running - v.OnMember
	global := s.Deploy.Mode == model.ModeGlobal
	v.Desired = s.Deploy.Replicas
	if global || !s.Recorded {
		v.Desired = v.Running
	}
	tolerance := s.Deploy.UpdateConfig.Parallelism
	if !s.Recorded {
		tolerance = 1 // Swarm's default parallelism
	}
	if tolerance == 0 {
		tolerance = v.Desired // parallelism 0: the whole service may update at once
	}
	v.Floor = max(0, v.Desired-tolerance)
	switch {
	case global:
		v.Reachable = v.After // one per member: nothing moves
	case s.Deploy.Placement.MaxReplicasPerNode > 0:
		v.Reachable = min(v.Desired, s.Deploy.Placement.MaxReplicasPerNode*remaining)
	case remaining > 0:
		v.Reachable = v.Desired
	}
	v.OK = true
	switch {
	case v.OnMember == 0:
		// Not touched by this evacuation (even if short already: that is
		// the health report's business, not this member's).
	case v.After < v.Floor:
		v.OK = false
		v.Reason = fmt.Sprintf("evacuating %s stops %d of its %d running replicas, leaving %d; update_config.parallelism %d allows at most %d "+
			"down at once (at least %d of %d running)", member, v.OnMember, v.Running, v.After, tolerance, tolerance, v.Floor, v.Desired)
	case v.Reachable < v.Floor:
		v.OK = false
		v.Reason = fmt.Sprintf("after evacuating %s the other %d online member(s) can hold only %d replicas (max_replicas_per_node %d), "+
			"below the %d that update_config.parallelism %d requires", member, remaining, v.Reachable,
			s.Deploy.Placement.MaxReplicasPerNode, v.Floor, tolerance)
	}
	return v
}

// Refusal is the message for a failed check: every service that blocks,
// and what to do.
func (r Result) Refusal() string {
	var lines []string
	for _, v := range r.Services {
		if !v.OK {
			lines = append(lines, fmt.Sprintf("stack %s service %s: %s", v.Stack, v.Service, v.Reason))
		}
	}
	return fmt.Sprintf("evacuating %s now would take services below what their deploy section allows: %s. "+
		"Wait until the missing replicas run elsewhere, add members or capacity, or raise update_config.parallelism; nothing was changed",
		r.Member, strings.Join(lines, "; "))
}
