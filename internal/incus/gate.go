package incus

import (
	"context"
	"net/url"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// instanceConfigPatch is a PATCH /1.0/instances/NAME body: Incus merges the
// given config keys into the instance's and leaves everything else alone.
type instanceConfigPatch struct {
	Config map[string]string `json:"config"`
}

// MarkGatePassed records on a stack's instance that it passed its update
// gate (model.KeyGate).
func (c *Client) MarkGatePassed(ctx context.Context, stack, name string) error {
	body := instanceConfigPatch{Config: map[string]string{model.KeyGate: model.GatePassed}}
	_, err := c.call(ctx, "PATCH", "/instances/"+url.PathEscape(name), Scope{Project: stack}, body, nil)
	return err
}
