package incus

import (
	"context"
	"errors"
	"fmt"

	incusclient "github.com/lxc/incus/v6/client"
)

// wait waits for an operation within the call timeout, naming what hung.
func (c *Client) wait(ctx context.Context, op incusclient.Operation, what string) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := op.WaitContext(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s did not finish within %s: %w", what, c.timeout, ErrTimeout)
	}
	return classify(err, "%s", what)
}
