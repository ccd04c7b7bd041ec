package app

import (
	"context"
	"fmt"
	"io"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// lockStack takes a stack's lock for a run that changes it (not for a dry
// run: test is true) and returns what releases it; a failed release is a
// warning on stderr, since the run itself is done by then.
func lockStack(ctx context.Context, c *incus.Client, stack string, test bool, stderr io.Writer) (release func(), err error) {
	if test {
		return func() {}, nil
	}
	lock, err := c.AcquireLock(ctx, stack, defaultLockWait)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := lock.Release(); err != nil {
			fmt.Fprintf(stderr, "warning: could not release the lock of stack %s: %v\n", stack, err)
		}
	}, nil
}
