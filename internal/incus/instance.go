package incus

import (
	"context"
	"time"

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
		if err := c.stop(ctx, stack, name, StopTimeout(inst.Config)); err != nil {
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
	return c.setStateTimeout(ctx, stack, name, action, -1, action == "stop")
}

// stop stops an instance: at once (forced) without a grace period, else
// cleanly (stop_signal, or SIGPWR to init) and forced once grace runs out,
// as Docker stops a container after stop_grace_period.
func (c *Client) stop(ctx context.Context, stack, name string, grace time.Duration) error {
	if grace <= 0 {
		return c.setState(ctx, stack, name, "stop")
	}
	if err := c.setStateTimeout(ctx, stack, name, "stop", int(grace.Seconds()), false); err == nil {
		return nil
	}
	return c.setState(ctx, stack, name, "stop")
}

func (c *Client) setStateTimeout(ctx context.Context, stack, name, action string, timeout int, force bool) error {
	req := api.InstanceStatePut{Action: action, Timeout: timeout, Force: force}
	return c.retryBusy(ctx, action+" "+name, func() error {
		op, err := c.srv.UseProject(stack).UpdateInstanceState(name, req, "")
		if err != nil {
			return classify(err, "%s %s", action, name)
		}
		return c.wait(ctx, op, action+" "+name)
	})
}
