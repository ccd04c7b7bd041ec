package incus

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Replica is a stack's instance as the continuous health loop sees it.
type Replica struct {
	Name    string
	Service string
	Running bool
	Started time.Time // when it last started (Incus's last_used_at)
	Health  string    // model.KeyHealth as recorded
}

// Replicas lists a stack's instances in one call, for the health loop.
func (c *Client) Replicas(ctx context.Context, stack string) ([]Replica, error) {
	var insts []struct {
		Name       string            `json:"name"`
		Status     string            `json:"status"`
		LastUsedAt time.Time         `json:"last_used_at"`
		Config     map[string]string `json:"config"`
	}
	q := url.Values{"recursion": {"1"}}
	if _, err := c.call(ctx, http.MethodGet, "/instances", Scope{Project: stack, Query: q}, nil, &insts); err != nil {
		return nil, classify(err, "list the instances of stack %s", stack)
	}
	out := make([]Replica, 0, len(insts))
	for _, in := range insts {
		if in.Config[model.KeyStack] != stack || in.Config[model.KeyService] == "" {
			continue
		}
		out = append(out, Replica{Name: in.Name, Service: in.Config[model.KeyService], Running: in.Status == "Running",
			Started: in.LastUsedAt, Health: in.Config[model.KeyHealth]})
	}
	return out, nil
}

// maxHealthOutput bounds the probe output kept on an instance.
const maxHealthOutput = 512

// RecordHealth records a replica's health transition on the instance.
func (c *Client) RecordHealth(ctx context.Context, stack, instance, state, output string) error {
	if len(output) > maxHealthOutput {
		output = output[:maxHealthOutput]
	}
	body := instanceConfigPatch{Config: map[string]string{model.KeyHealth: state, model.KeyHealthOutput: output}}
	if _, err := c.call(ctx, http.MethodPatch, instancePath(instance), Scope{Project: stack}, body, nil); err != nil {
		return classify(err, "record the health of %s", instance)
	}
	return nil
}

// Restart restarts an unhealthy replica at once (it is not answering its
// check, so no clean shutdown is waited for).
func (c *Client) Restart(ctx context.Context, stack, instance string) error {
	return c.setStateTimeout(ctx, stack, instance, "restart", -1, true)
}
