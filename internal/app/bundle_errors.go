package app

import (
	"errors"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// bundleError maps bundle failures (called from toProtocolError only): a
// missing bundle file is not_found; a refused bundle (tampered, truncated,
// hostile) or a project that cannot be bundled is compose_invalid, since
// the bundle is the compose input, with the offending file as the detail.
func bundleError(err error) *protocol.Error {
	if errors.Is(err, bundle.ErrNotFound) {
		return protocol.Errorf(protocol.CodeNotFound, "%v", err)
	}
	e := protocol.Errorf(protocol.CodeComposeInvalid, "bundle refused: %v", err)
	var berr *bundle.Error
	if errors.As(err, &berr) && berr.Entry != "" {
		e.Details = []protocol.Detail{{Field: "bundle:" + berr.Entry, Message: berr.Message}}
	}
	return e
}
