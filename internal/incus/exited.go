package incus

import (
	"context"
	"errors"
	"strings"
)

// initExited recognises Incus 6.0's answer to a state read of a container
// whose init has exited (or is exiting): GET /1.0/instances/NAME/state
// fails with "Invalid PID '…'" (measured on 6.0.4) instead of saying
// Stopped. A container that restarts on failure (boot.autorestart) answers
// it most of the time while it flaps. Every state read takes it as "not
// running": the main process is gone, which is what the caller asks about.
func initExited(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Invalid PID")
}

// RunError is a new instance that Incus created but that cannot run as its
// spec says: its user is unknown to the image, or it does not start. The
// spec is at fault, not the cluster, so an update stops at it for good
// (rollout.GateError) instead of retrying on the next run.
type RunError struct{ Err error }

func (e *RunError) Error() string { return e.Err.Error() }
func (e *RunError) Unwrap() error { return e.Err }

// IsRunError reports whether err is (or wraps) a RunError.
func IsRunError(err error) bool { return errors.As(err, new(*RunError)) }

// ClusterFault reports whether a failed request is the cluster's doing (a
// member unreachable, not ready or too slow, the run cancelled), not an
// answer about the instance itself.
func ClusterFault(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrTimeout) ||
		errors.Is(err, errOpVanished) || isNotReady(err)
}

// flapped recognises a stop or delete that lost a race with a container
// that stops and restarts by itself (StopAndDelete). Incus answers a stop
// that comes too late with "The instance is already stopped" or, from
// liblxc, `container is not running: "PROJECT_NAME"` (both measured), and a
// delete that comes too early with "Instance is running".
func flapped(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Instance is running") || strings.Contains(msg, "already stopped") || strings.Contains(msg, "is not running")
}

// alreadyRunning recognises a start that found the instance running: what
// the start wanted holds. Seen under load in a rollback that re-created a
// slot whose previous instance flapped (boot.autorestart): the start's
// operation answered "The instance is already running".
func alreadyRunning(err error) bool {
	return strings.Contains(err.Error(), "The instance is already running")
}
