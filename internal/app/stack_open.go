package app

import (
	"context"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// stackNameParams are the params of the actions that name a stack only.
type stackNameParams struct {
	Name string `json:"name"`
}

// openStack decodes a stack name, connects, and tells whether the stack's
// project exists (and is ours): the common start of status, absent and
// rollback.
func openStack(ctx context.Context, req *protocol.Request) (stackNameParams, *incus.Client, bool, error) {
	var p stackNameParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return p, nil, false, err
	}
	exists, err := c.ProjectState(p.Name)
	return p, c, exists, err
}
