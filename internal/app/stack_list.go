package app

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// stackSummary is one stack as stack.list reports it.
type stackSummary struct {
	Name     string           `json:"name"`
	Services []serviceSummary `json:"services"`
	// Update is ok, updating, paused, rolled_back or rollback_failed
	// (the update record of the stack, stack_update.go).
	Update string `json:"update"`
	// LastChange is when the newest of its instances was created: every
	// change incus-fleet makes to a slot creates its instance anew.
	LastChange string `json:"last_change,omitempty"`
	Error      string `json:"error,omitempty"` // an unreadable record
}

type serviceSummary struct {
	Name    string `json:"name"`
	Mode    string `json:"mode"`
	Desired int    `json:"desired"`
	Running int    `json:"running"`
}

// updateStates maps the update record's states to what stack.list shows.
var updateStates = map[string]string{
	"":                   "ok",
	updateRunning:        "updating",
	updatePaused:         "paused",
	updateRolledBack:     "rolled_back",
	updateRollbackFailed: "rollback_failed",
}

// stackList lists every stack with two Incus requests (projects, then the
// instances of all projects), whatever the number of stacks.
func stackList(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p struct{}
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	stacks, err := c.ListStacks(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	insts, err := c.ListOwnedInstances(ctx, "")
	if err != nil {
		return protocol.Response{}, err
	}
	out := make([]stackSummary, 0, len(stacks))
	for _, s := range stacks {
		out = append(out, summarise1(s, insts))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	resp := protocol.Response{Result: protocol.True(), Comment: fmt.Sprintf("%d stacks", len(out))}
	resp.Set("stacks", out)
	return resp, nil
}

func summarise1(s incus.StackProject, insts []incus.OwnedInstance) stackSummary {
	sum := stackSummary{Name: s.Name, Services: []serviceSummary{}, Update: "ok"}
	index := map[string]int{} // service name → position in sum.Services
	if s.Spec != "" {
		if stack, _, err := decodeSpec(s.Name, s.Spec); err != nil {
			sum.Error = err.Error()
		} else {
			for _, svc := range stack.Services {
				ss := serviceSummary{Name: svc.Name, Mode: svc.Deploy.Mode, Desired: svc.Deploy.Replicas}
				if ss.Mode == "" {
					ss.Mode = model.ModeReplicated
				}
				if ss.Mode == model.ModeGlobal {
					ss.Desired = 0 // counted from the slots below
				}
				sum.Services = append(sum.Services, ss)
			}
		}
	}
	for i := range sum.Services {
		index[sum.Services[i].Name] = i
	}
	if u, err := readUpdate(s.Name, incus.StackRecord{Update: s.Update}); err != nil {
		sum.Error = err.Error()
	} else if u != nil {
		sum.Update = updateStates[u.State]
		if sum.Update == "" {
			sum.Update = u.State
		}
	}
	var last time.Time
	for _, in := range insts {
		owner, svc, _, ok := in.Owned()
		if !ok || owner != s.Name || in.Project != s.Name {
			continue
		}
		if in.CreatedAt.After(last) {
			last = in.CreatedAt
		}
		i, known := index[svc]
		if !known { // a service no longer in the spec, still running
			i = len(sum.Services)
			index[svc] = i
			sum.Services = append(sum.Services, serviceSummary{Name: svc, Mode: model.ModeReplicated})
		}
		ss := &sum.Services[i]
		if ss.Mode == model.ModeGlobal {
			ss.Desired++
		}
		if in.Status == "Running" {
			ss.Running++
		}
	}
	sort.Slice(sum.Services, func(i, j int) bool { return sum.Services[i].Name < sum.Services[j].Name })
	if !last.IsZero() {
		sum.LastChange = last.UTC().Format(time.RFC3339)
	}
	return sum
}
