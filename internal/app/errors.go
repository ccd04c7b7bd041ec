package app

import (
	"context"
	"errors"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
	"github.com/incus-fleet/incus-fleet/internal/composeload"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// toProtocolError is the one place where errors of every layer become the
// protocol's typed error.
func toProtocolError(err error) *protocol.Error {
	var perr *protocol.Error
	var cerr *composeload.Error
	var nerr *scheduler.NoSuitableNodeError
	var serr *planner.SpecError
	var held *heldUpdateError
	switch {
	case errors.As(err, &perr):
		return perr
	case errors.As(err, &held):
		return protocol.Errorf(held.code(), "%v", err)
	case errors.As(err, new(*rolledBackError)):
		return protocol.Errorf(protocol.CodeRolledBack, "%v", err)
	case errors.As(err, new(*rollout.PausedError)):
		return protocol.Errorf(protocol.CodeUpdatePaused, "%v", err)
	case errors.As(err, &cerr):
		e := protocol.Errorf(protocol.CodeComposeInvalid, "%s", cerr.Error())
		if cerr.Field != "" {
			e.Details = []protocol.Detail{{Field: cerr.Field, Message: cerr.Message}}
		}
		return e
	case errors.As(err, new(*bundle.Error)), errors.Is(err, bundle.ErrNotFound):
		return bundleError(err) // bundle_errors.go
	case errors.As(err, new(*incus.NetworkError)):
		return protocol.Errorf(protocol.CodeComposeInvalid, "%v", err)
	case errors.As(err, &nerr):
		return protocol.Errorf(protocol.CodeNoSuitableNode, "%s", nerr.Error())
	case errors.As(err, new(*planner.NotFoundError)):
		return protocol.Errorf(protocol.CodeNotFound, "%s", err.Error())
	case errors.As(err, &serr):
		return protocol.Errorf(protocol.CodeComposeInvalid, "%s", serr.Error())
	case errors.As(err, new(*planner.ConflictError)):
		return protocol.Errorf(protocol.CodeConflict, "%s", err.Error())
	case errors.Is(err, incus.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return protocol.Errorf(protocol.CodeTimeout, "%v", err)
	case errors.Is(err, incus.ErrUnreachable):
		return protocol.Errorf(protocol.CodeClusterUnreachable, "%v", err)
	case errors.Is(err, incus.ErrNotFound):
		return protocol.Errorf(protocol.CodeNotFound, "%v", err)
	case errors.Is(err, incus.ErrConflict):
		return protocol.Errorf(protocol.CodeConflict, "%v", err)
	default:
		return protocol.Errorf(protocol.CodeInternal, "%v", err)
	}
}
