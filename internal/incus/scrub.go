package incus

import (
	"errors"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// scrubbedError carries a message with every secret removed and the error
// kind of the original, so callers still classify it but nothing can print
// the original text (which may quote what Incus was sent).
type scrubbedError struct {
	msg  string
	kind error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.kind }

// scrub removes secrets from err's message, keeping its kind.
func scrub(err error, secrets ...cluster.Secret) error {
	if err == nil {
		return nil
	}
	var kind error
	for _, k := range []error{ErrUnreachable, ErrNotFound, ErrConflict, ErrTimeout} {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	return &scrubbedError{msg: cluster.Scrub(err.Error(), secrets...), kind: kind}
}
