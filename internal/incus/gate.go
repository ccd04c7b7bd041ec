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

// ImagePresent reports whether the image with this fingerprint is in the
// cluster's image store as the stack's project sees it.
func (c *Client) ImagePresent(ctx context.Context, stack, fingerprint string) (bool, error) {
	if _, err := c.call(ctx, "GET", "/images/"+url.PathEscape(fingerprint), Scope{Project: stack}, nil, nil); err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
