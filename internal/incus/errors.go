package incus

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error kinds the app layer turns into protocol error codes. This package
// wraps every failure in one of them so callers never parse messages.
var (
	ErrUnreachable = errors.New("cluster unreachable")
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrTimeout     = errors.New("timeout")
)

// classify names what failed. The kind travels with the error: a
// *StatusError unwraps to ErrNotFound / ErrConflict by its status code.
func classify(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// alreadyExists recognises a create that lost to an existing object: Incus
// answers 409 for some objects, and a 500 saying "already exists" or, when
// two creates race inside the database, "UNIQUE constraint failed".
func alreadyExists(err error) bool {
	if statusIs(err, http.StatusConflict) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "already exists") || strings.Contains(msg, "UNIQUE constraint failed")
}
