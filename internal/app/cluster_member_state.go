package app

import (
	"context"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// memberStateParams names the member to evacuate or restore.
type memberStateParams struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
	// Check (evacuate only) runs cluster.member.maintenance_check first
	// and evacuates only if it passes.
	Check bool `json:"check"`
}

// clusterMemberEvacuate moves or stops a member's instances for
// maintenance and marks it Evacuated; an evacuated member is left alone.
func clusterMemberEvacuate(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	return memberState(ctx, e, req, model.StatusEvacuated)
}

// clusterMemberRestore brings an evacuated member back; any other member
// is left alone.
func clusterMemberRestore(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	return memberState(ctx, e, req, model.StatusOnline)
}

func memberState(ctx context.Context, e *env, req *protocol.Request, want string) (protocol.Response, error) {
	var p memberStateParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	m, found, err := c.Member(p.Name)
	if err != nil {
		return protocol.Response{}, err
	}
	if !found {
		return protocol.Response{}, fmt.Errorf("no cluster member named %s here (is connection.socket a member of that cluster?): %w", p.Name, incus.ErrNotFound)
	}
	resp := protocol.Response{Result: protocol.True(), Changes: map[string]protocol.Change{}}
	resp.Set("member", p.Name)
	resp.Set("status", m.Status)
	verb := "evacuate"
	if want == model.StatusOnline {
		verb = "restore"
	}
	// Evacuate acts on anything not yet evacuated; restore only on an
	// evacuated member (an offline one cannot be restored from here).
	needed := m.Status != model.StatusEvacuated
	if want == model.StatusOnline {
		needed = m.Status == model.StatusEvacuated
	}
	if !needed {
		resp.Comment = fmt.Sprintf("%s is %s; nothing to do", p.Name, m.Status)
		return resp, nil
	}
	if verb == "evacuate" && p.Check {
		res, err := maintenanceCheck(ctx, c, p.Name)
		if res != nil {
			resp.Warnings = res.Warnings
			resp.Set("services", res.Services)
		}
		if err != nil {
			return resp, err
		}
	}
	resp.Changes["status"] = protocol.Change{Old: m.Status, New: want}
	if req.Test {
		resp.Result = nil
		resp.Comment = fmt.Sprintf("would %s %s", verb, p.Name)
		return resp, nil
	}
	fmt.Fprintf(e.stderr, "incus-fleet: %s %s\n", map[string]string{"evacuate": "evacuating", "restore": "restoring"}[verb], p.Name)
	if verb == "evacuate" {
		err = c.Evacuate(ctx, p.Name, p.Mode)
	} else {
		err = c.Restore(ctx, p.Name)
	}
	if err != nil {
		return resp, err
	}
	resp.Set("status", want)
	resp.Comment = fmt.Sprintf("%sd %s", verb, p.Name)
	return resp, nil
}
