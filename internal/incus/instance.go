package incus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// InstancesPost is POST /1.0/instances: a new instance and its source.
type InstancesPost struct {
	Name     string                       `json:"name"`
	Type     string                       `json:"type,omitempty"` // container or virtual-machine
	Source   InstanceSource               `json:"source"`
	Config   map[string]string            `json:"config,omitempty"`
	Devices  map[string]map[string]string `json:"devices,omitempty"`
	Profiles []string                     `json:"profiles"`
	Start    bool                         `json:"start,omitempty"`

	// addressHook: the instance's init is replaced or run as a user, so
	// CreateAndStart gives its NICs their addresses (spec_dhcp.go).
	addressHook bool
}

// InstanceTypeContainer is the only instance type stacks use.
const InstanceTypeContainer = "container"

// Instance is an instance as Incus lists it, as far as we read it.
type Instance struct {
	Name       string            `json:"name"`
	Project    string            `json:"project"`
	Location   string            `json:"location"`
	Status     string            `json:"status"`
	StatusCode int               `json:"status_code"`
	Type       string            `json:"type"`
	Config     map[string]string `json:"config"`
	LastUsedAt time.Time         `json:"last_used_at"` // its last start
}

// instanceStatePut is PUT /1.0/instances/{name}/state.
type instanceStatePut struct {
	Action  string `json:"action"`
	Timeout int    `json:"timeout"`
	Force   bool   `json:"force"`
}

func instancePath(name string) string { return "/instances/" + url.PathEscape(name) }

// CreateAndStart creates an instance on a member, copies the service's
// support files into it (files.go) and starts it.
func (c *Client) CreateAndStart(ctx context.Context, stack, member string, post InstancesPost, files ...model.File) error {
	s := Scope{Project: stack}
	if c.clustered {
		s.Target = member
	}
	if hook, ok := withAddressHook(&post); ok { // spec_dhcp.go
		files = append(files[:len(files):len(files)], hook) // not into the caller's array
	}
	if err := c.callOp(ctx, http.MethodPost, "/instances", s, post, "create "+post.Name+" on "+member); err != nil {
		if !errors.Is(err, errOpVanished) || !c.instanceIs(ctx, stack, post.Name, -1) {
			return err
		}
	}
	if err := c.pushFiles(ctx, stack, post.Name, files); err != nil {
		// Its hash claims the files: an instance without them must not
		// stay behind looking current.
		_ = c.StopAndDelete(ctx, stack, post.Name)
		return err
	}
	if err := c.applyUserName(ctx, stack, post.Name, post.Config); err != nil { // user.go
		_ = c.StopAndDelete(ctx, stack, post.Name)
		return err
	}
	crashpoint.Hit("created-not-started")
	if err := c.setState(ctx, stack, post.Name, "start"); err != nil && !alreadyRunning(err) {
		// The instance's own failure only when its member still answers
		// for it: a member lost meanwhile is the cluster's.
		if ClusterFault(ctx, err) || !c.instanceIs(ctx, stack, post.Name, -1) {
			return err
		}
		return &RunError{fmt.Errorf("%s does not start: %w", post.Name, err)}
	}
	crashpoint.Hit("started")
	return nil
}

// StopAndDelete stops an instance (forcefully: the plan already decided it
// goes) and deletes it. A missing instance counts as deleted.
//
// A container whose main process keeps exiting flaps: Incus restarts it
// (boot.autorestart) until it gives up, so between our read, stop and
// delete it may have stopped by itself ("The instance is already stopped")
// or started again ("Instance is running"). Both mean: look again; and
// after the first such race its autorestart is turned off, so the next
// look is not raced again (seen under load losing five races in a row).
func (c *Client) StopAndDelete(ctx context.Context, stack, name string) error {
	const attempts = 8
	for attempt := 1; ; attempt++ {
		err := c.stopAndDeleteOnce(ctx, stack, name)
		if err == nil || attempt == attempts || !flapped(err) || ctx.Err() != nil {
			return err
		}
		if attempt == 1 {
			body := instanceConfigPatch{Config: map[string]string{"boot.autorestart": "false"}}
			_, _ = c.call(ctx, http.MethodPatch, instancePath(name), Scope{Project: stack}, body, nil) // it goes anyway
		}
		// A restart in flight (its start hook may wait seconds for a
		// DHCP lease) finishes before the next look.
		if sleepCtx(ctx, time.Second) != nil {
			return err
		}
	}
}

// sleepCtx waits d, or less when ctx ends first (then its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (c *Client) stopAndDeleteOnce(ctx context.Context, stack, name string) error {
	var inst Instance
	if _, err := c.call(ctx, http.MethodGet, instancePath(name), Scope{Project: stack}, nil, &inst); err != nil {
		if err = classify(err, "read %s", name); isNotFound(err) {
			return nil
		}
		return err
	}
	if inst.StatusCode != statusStopped {
		if err := c.stop(ctx, stack, name, StopTimeout(inst.Config)); err != nil {
			return err
		}
	}
	crashpoint.Hit("stopped-not-deleted")
	return c.retryBusy(ctx, "delete "+name, func() error {
		err := c.callOp(ctx, http.MethodDelete, instancePath(name), Scope{Project: stack}, nil, "delete "+name)
		if errors.Is(err, errOpVanished) && !c.instanceIs(ctx, stack, name, -1) {
			return nil
		}
		return err
	})
}

// instanceIs reports whether an instance exists (status -1) or exists with
// that status code: how a caller learns what an operation Incus forgot did.
func (c *Client) instanceIs(ctx context.Context, stack, name string, status int) bool {
	var inst Instance
	if _, err := c.call(ctx, http.MethodGet, instancePath(name), Scope{Project: stack}, nil, &inst); err != nil {
		return false
	}
	return status < 0 || inst.StatusCode == status
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
	req := instanceStatePut{Action: action, Timeout: timeout, Force: force}
	want := statusRunning
	if action == "stop" {
		want = statusStopped
	}
	return c.retryBusy(ctx, action+" "+name, func() error {
		err := c.callOp(ctx, http.MethodPut, instancePath(name)+"/state", Scope{Project: stack}, req, action+" "+name)
		if errors.Is(err, errOpVanished) && c.instanceIs(ctx, stack, name, want) {
			return nil
		}
		return err
	})
}
