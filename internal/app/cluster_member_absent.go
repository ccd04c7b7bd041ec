package app

import (
	"context"
	"fmt"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type memberAbsentParams struct {
	Name     string `json:"name"`
	Force    bool   `json:"force"`
	Evacuate *bool  `json:"evacuate"`
}

// selfRemovalWait bounds the wait for a member that removed itself: its
// daemon restarts as a standalone server, which takes a second or two.
const selfRemovalWait = time.Minute

// clusterMemberAbsent removes a member from its cluster: evacuated first
// (unless evacuate is false), then removed gracefully. force removes a
// member that cannot take part (offline): run it on another member then.
func clusterMemberAbsent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p memberAbsentParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	m, found, err := c.Member(p.Name)
	if err != nil {
		return protocol.Response{}, err
	}
	resp := protocol.Response{Result: protocol.True(), Changes: map[string]protocol.Change{}}
	resp.Set("member", p.Name)
	if !found {
		resp.Comment = fmt.Sprintf("%s is not a cluster member; nothing to do", p.Name)
		return resp, nil
	}
	evacuate := (p.Evacuate == nil || *p.Evacuate) && m.Status == model.StatusOnline
	if m.Status == model.StatusOffline && !p.Force {
		return resp, fmt.Errorf("member %s is offline: a graceful removal needs it online; set force to drop it from the cluster "+
			"(whatever it still holds is lost to the cluster), or bring it back first: %w", p.Name, incus.ErrUnreachable)
	}
	resp.Changes["member"] = protocol.Change{Old: map[string]string{"name": m.Name, "status": m.Status, "url": m.URL}, New: nil}
	if evacuate {
		resp.Changes["status"] = protocol.Change{Old: m.Status, New: model.StatusEvacuated}
	}
	if req.Test {
		resp.Result = nil
		resp.Comment = fmt.Sprintf("would remove %s from the cluster%s", p.Name, evacuatedFirst(evacuate))
		return resp, nil
	}
	if evacuate {
		fmt.Fprintf(e.stderr, "incus-fleet: evacuating %s\n", p.Name)
		if err := c.Evacuate(ctx, p.Name, ""); err != nil {
			if !p.Force {
				return resp, fmt.Errorf("evacuating %s before removing it failed, so it was not removed: %w (fix the cause, evacuate it by hand, or set force)", p.Name, err)
			}
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("evacuating %s failed (%v); removing it anyway because force is set", p.Name, err))
			delete(resp.Changes, "status")
			evacuate = false
		}
	}
	if evacuate {
		// Replicas Incus stopped instead of moving would block the removal.
		drained, err := drainFleetReplicas(ctx, c, p.Name) // cluster_member_drain.go
		if len(drained) > 0 {
			resp.Changes["replicas"] = protocol.Change{Old: drained, New: nil}
		}
		if err != nil {
			return resp, fmt.Errorf("%s was evacuated but not removed: %w", p.Name, err)
		}
	}
	self := c.ServerName() == p.Name
	fmt.Fprintf(e.stderr, "incus-fleet: removing %s from the cluster\n", p.Name)
	if err := c.RemoveMember(p.Name, p.Force); err != nil {
		return resp, err
	}
	if self && !p.Force {
		if err := c.WaitStandalone(ctx, selfRemovalWait); err != nil {
			resp.Warnings = append(resp.Warnings, err.Error())
		}
	}
	resp.Comment = fmt.Sprintf("removed %s from the cluster%s", p.Name, evacuatedFirst(evacuate))
	if p.Force {
		resp.Comment += " (forced)"
	}
	return resp, nil
}

func evacuatedFirst(evacuate bool) string {
	if evacuate {
		return " after evacuating it"
	}
	return ""
}
