package incus

import (
	"context"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// project returns a client scoped to a stack's project, targeted at a member
// when the server is clustered.
func (c *Client) project(stack, member string) incusclient.InstanceServer {
	srv := c.srv.UseProject(stack)
	if c.clustered && member != "" {
		srv = srv.UseTarget(member)
	}
	return srv
}

// CreateAndStart creates an instance on a member, copies the service's
// support files into it (files.go) and starts it.
func (c *Client) CreateAndStart(ctx context.Context, stack, member string, post api.InstancesPost, files ...model.File) error {
	srv := c.project(stack, member)
	op, err := srv.CreateInstance(post)
	if err != nil {
		return classify(err, "create %s on %s", post.Name, member)
	}
	if err := c.wait(ctx, op, "create "+post.Name+" on "+member); err != nil {
		return err
	}
	if err := c.pushFiles(stack, post.Name, files); err != nil {
		// Its hash claims the files: an instance without them must not
		// stay behind looking current.
		_ = c.StopAndDelete(ctx, stack, post.Name)
		return err
	}
	crashpoint.Hit("created-not-started")
	if err := c.setState(ctx, stack, post.Name, "start"); err != nil {
		return err
	}
	crashpoint.Hit("started")
	return nil
}

// StopAndDelete stops an instance (forcefully: the plan already decided it
// goes) and deletes it. A missing instance counts as deleted.
func (c *Client) StopAndDelete(ctx context.Context, stack, name string) error {
	srv := c.srv.UseProject(stack)
	inst, _, err := srv.GetInstance(name)
	if err != nil {
		if err = classify(err, "read %s", name); isNotFound(err) {
			return nil
		}
		return err
	}
	if inst.StatusCode != api.Stopped {
		if err := c.setState(ctx, stack, name, "stop"); err != nil {
			return err
		}
	}
	crashpoint.Hit("stopped-not-deleted")
	return c.retryBusy(ctx, "delete "+name, func() error {
		op, err := srv.DeleteInstance(name)
		if err != nil {
			return classify(err, "delete %s", name)
		}
		return c.wait(ctx, op, "delete "+name)
	})
}

func (c *Client) setState(ctx context.Context, stack, name, action string) error {
	req := api.InstanceStatePut{Action: action, Timeout: -1, Force: action == "stop"}
	return c.retryBusy(ctx, action+" "+name, func() error {
		op, err := c.srv.UseProject(stack).UpdateInstanceState(name, req, "")
		if err != nil {
			return classify(err, "%s %s", action, name)
		}
		return c.wait(ctx, op, action+" "+name)
	})
}
