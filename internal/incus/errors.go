package incus

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lxc/incus/v6/shared/api"
)

// Error kinds the app layer turns into protocol error codes. This package
// wraps every failure in one of them so callers never parse messages.
var (
	ErrUnreachable = errors.New("cluster unreachable")
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrTimeout     = errors.New("timeout")
)

// classify wraps an Incus client error with the kind it represents.
func classify(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, ErrUnreachable), errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrTimeout):
		return fmt.Errorf("%s: %w", what, err)
	case api.StatusErrorCheck(err, http.StatusNotFound):
		return fmt.Errorf("%s: %v: %w", what, err, ErrNotFound)
	case api.StatusErrorCheck(err, http.StatusConflict, http.StatusPreconditionFailed):
		return fmt.Errorf("%s: %v: %w", what, err, ErrConflict)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// alreadyExists recognises a create that lost to an existing object: Incus
// answers 409 for some objects, and a 500 saying "already exists" or, when
// two creates race inside the database, "UNIQUE constraint failed".
func alreadyExists(err error) bool {
	if api.StatusErrorCheck(err, http.StatusConflict) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "already exists") || strings.Contains(msg, "UNIQUE constraint failed")
}
