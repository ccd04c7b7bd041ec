package incus

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// StackProject is a stack's project as `stack ls` reads it: its record
// keys only (never the rest of the config).
type StackProject struct {
	Name   string
	Spec   string // KeySpecCurrent
	Update string // KeyUpdate
}

// ListStacks returns every project that is a stack managed by incus-fleet
// (model.KeyStack names the project itself), in one request whatever the
// number of stacks.
func (c *Client) ListStacks(ctx context.Context) ([]StackProject, error) {
	var projects []project
	if _, err := c.call(ctx, http.MethodGet, "/projects", Scope{Query: url.Values{"recursion": {"1"}}}, nil, &projects); err != nil {
		return nil, classify(err, "list projects")
	}
	out := []StackProject{}
	for _, p := range projects {
		if p.Config[model.KeyStack] != p.Name || p.Name == "" {
			continue
		}
		out = append(out, StackProject{Name: p.Name, Spec: p.Config[KeySpecCurrent], Update: p.Config[KeyUpdate]})
	}
	return out, nil
}

// OwnedInstance is an instance of some stack with the times `stack ls` and
// `stack logs` need; only its user.fleet.* config is kept.
type OwnedInstance struct {
	model.Instance
	CreatedAt  time.Time
	LastUsedAt time.Time // Incus sets it when the instance starts
}

// ListOwnedInstances lists the instances of every project (project = "")
// or of one, in one request, with their creation and last start times.
func (c *Client) ListOwnedInstances(ctx context.Context, project string) ([]OwnedInstance, error) {
	q := url.Values{"recursion": {"1"}}
	if project == "" {
		q.Set("all-projects", "true")
	}
	var insts []struct {
		Instance
		CreatedAt  time.Time `json:"created_at"`
		LastUsedAt time.Time `json:"last_used_at"`
	}
	if _, err := c.call(ctx, http.MethodGet, "/instances", Scope{Project: project, Query: q}, nil, &insts); err != nil {
		return nil, classify(err, "list instances")
	}
	out := make([]OwnedInstance, 0, len(insts))
	for _, in := range insts {
		member := in.Location
		if !c.clustered || member == "" {
			member = c.memberName()
		}
		proj := in.Project
		if proj == "" {
			proj = project
		}
		out = append(out, OwnedInstance{
			Instance:  model.Instance{Name: in.Name, Project: proj, Member: member, Status: in.Status, Config: fleetKeys(in.Config)},
			CreatedAt: in.CreatedAt, LastUsedAt: in.LastUsedAt,
		})
	}
	return out, nil
}
