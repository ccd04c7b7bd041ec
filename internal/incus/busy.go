package incus

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// retryBusy retries fn while Incus reports the instance busy with another
// operation. Operations outlive the client that started them: a run killed
// mid-create leaves the create running in Incus, and the next run must wait
// for it rather than fail. Bounded by the call timeout.
func (c *Client) retryBusy(ctx context.Context, what string, fn func() error) error {
	deadline := time.Now().Add(c.timeout)
	for {
		err := fn()
		if err == nil || !strings.Contains(err.Error(), "is busy running") {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still busy after %s (%v): %w", what, c.timeout, err, ErrTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
