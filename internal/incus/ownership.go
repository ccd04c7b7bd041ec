package incus

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Owner is what an instance must say about itself before incus-fleet stops
// or deletes it: the stack (which is also its project), the service and the
// slot. A plan is made from a snapshot of the cluster; between that look and
// the delete, a name may have come to mean another instance (a copy, a
// hand-made instance, another stack's), and a mistaken delete loses a
// running service.
type Owner struct {
	Stack   string
	Service string
	Slot    int
}

// ownedInstance is the part of GET /1.0/instances/NAME the check reads.
type ownedInstance struct {
	Name    string            `json:"name"`
	Project string            `json:"project"`
	Config  map[string]string `json:"config"`
}

// check compares an instance as Incus reports it with the owner a step
// expects, naming what differs.
func (o Owner) check(in ownedInstance) error {
	switch {
	case in.Project != "" && in.Project != o.Stack:
		return fmt.Errorf("instance %s is in project %q, not in stack %s's project; left alone: %w", in.Name, in.Project, o.Stack, ErrConflict)
	case in.Config[model.KeyStack] != o.Stack:
		return fmt.Errorf("instance %s does not belong to stack %s (%s=%q); left alone: %w", in.Name, o.Stack, model.KeyStack, in.Config[model.KeyStack], ErrConflict)
	case o.Service != "" && in.Config[model.KeyService] != o.Service:
		return fmt.Errorf("instance %s belongs to service %q, not %q; left alone: %w", in.Name, in.Config[model.KeyService], o.Service, ErrConflict)
	case o.Slot > 0 && in.Config[model.KeySlot] != strconv.Itoa(o.Slot):
		return fmt.Errorf("instance %s holds slot %q of %s, not slot %d; left alone: %w", in.Name, in.Config[model.KeySlot], o.Service, o.Slot, ErrConflict)
	}
	return nil
}

// StopAndDeleteOwned deletes an instance of the stack's project only after
// checking that it carries exactly the owner's stack, service and slot. A
// missing instance counts as deleted.
func (c *Client) StopAndDeleteOwned(ctx context.Context, o Owner, name string) error {
	var in ownedInstance
	if _, err := c.call(ctx, "GET", "/instances/"+url.PathEscape(name), Scope{Project: o.Stack}, nil, &in); err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	if err := o.check(in); err != nil {
		return err
	}
	return c.StopAndDelete(ctx, o.Stack, name)
}
