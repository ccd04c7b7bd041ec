package incus

import (
	"context"
	"encoding/json"
	"fmt"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Event is one Incus lifecycle event, reduced to what a watcher needs.
type Event struct {
	Action   string // e.g. cluster-member-added, instance-deleted
	Name     string // the entity's name, e.g. the member or instance
	Source   string // API path, e.g. /1.0/cluster/members/node4
	Project  string
	Location string // member that emitted it
}

// EventStream is a live subscription to the cluster's lifecycle events.
type EventStream struct {
	l *incusclient.EventListener
}

// SubscribeEvents starts delivering the lifecycle events of all projects
// to fn; once it returns, no later event is missed. Any member relays the
// whole cluster's events, so one connection is enough. fn runs on the
// client's own goroutines, possibly concurrently: it must be quick and
// safe for concurrent use.
func (c *Client) SubscribeEvents(fn func(Event)) (*EventStream, error) {
	l, err := c.srv.GetEventsAllProjects()
	if err != nil {
		return nil, fmt.Errorf("listen to Incus events: %v: %w", err, ErrUnreachable)
	}
	_, err = l.AddHandler([]string{api.EventTypeLifecycle}, func(e api.Event) {
		var lc api.EventLifecycle
		if json.Unmarshal(e.Metadata, &lc) != nil || lc.Action == "" {
			return
		}
		project := lc.Project
		if project == "" {
			project = e.Project
		}
		fn(Event{Action: lc.Action, Name: lc.Name, Source: lc.Source, Project: project, Location: e.Location})
	})
	if err != nil {
		l.Disconnect()
		return nil, fmt.Errorf("listen to Incus events: %w", err)
	}
	return &EventStream{l: l}, nil
}

// Wait blocks until ctx ends (nil; the subscription is closed) or the
// stream breaks (an ErrUnreachable error; subscribe again, on a new Client
// if the server went away).
func (s *EventStream) Wait(ctx context.Context) error {
	defer s.l.Disconnect()
	done := make(chan error, 1)
	go func() { done <- s.l.Wait() }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		return fmt.Errorf("event stream from Incus closed: %v: %w", err, ErrUnreachable)
	}
}

// Members lists the cluster members (one API call), for watchers that poll
// member status: Incus emits no event when a member stops answering.
func (c *Client) Members() ([]model.Member, error) {
	return c.members()
}
