package incus

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// memberStatePost is POST /1.0/cluster/members/{name}/state.
type memberStatePost struct {
	Action string `json:"action"`
	Mode   string `json:"mode,omitempty"`
}

// Evacuate moves or stops a member's instances (per their cluster.evacuate
// setting, or mode when given) and marks it Evacuated.
func (c *Client) Evacuate(ctx context.Context, name, mode string) error {
	return c.setMemberState(ctx, name, memberStatePost{Action: "evacuate", Mode: mode})
}

// Restore brings an evacuated member back and its instances with it.
func (c *Client) Restore(ctx context.Context, name string) error {
	return c.setMemberState(ctx, name, memberStatePost{Action: "restore"})
}

func (c *Client) setMemberState(ctx context.Context, name string, req memberStatePost) error {
	return c.callOp(ctx, http.MethodPost, memberPath(name)+"/state", Scope{}, req, req.Action+" "+name)
}

// RemoveMember removes a member from the cluster. Without force Incus
// refuses while the member still holds instances, and tells the member to
// reset itself to a standalone server; with force it only drops the member
// from the database, which is what an unreachable member needs.
func (c *Client) RemoveMember(name string, force bool) error {
	s := Scope{}
	if force {
		s.Query = url.Values{"force": {"1"}}
	}
	_, err := c.call(context.Background(), http.MethodDelete, memberPath(name), s, nil, nil)
	return classify(err, "remove cluster member %s", name)
}

// WaitStandalone waits until this server answers again as a standalone
// server: a member that removed itself restarts its daemon.
func (c *Client) WaitStandalone(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		info, _, err := c.serverInfo(ctx)
		if err == nil && !info.Environment.ServerClustered {
			c.clustered, c.server = false, info.Environment.ServerName
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the daemon did not come back as a standalone server within %s: %w", limit, ErrTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
