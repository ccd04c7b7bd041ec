package bundle

import (
	"errors"
	"fmt"
)

// Error says why a bundle (or a project being bundled) was refused. Entry
// names the file concerned, inside the bundle or the project, when there is
// one, so a tampered file is reported by name.
type Error struct {
	Entry   string
	Message string
}

func (e *Error) Error() string {
	if e.Entry == "" {
		return e.Message
	}
	return e.Entry + ": " + e.Message
}

// ErrNotFound marks a bundle path that does not exist.
var ErrNotFound = errors.New("not found")

func errorf(entry, format string, args ...any) *Error {
	return &Error{Entry: entry, Message: fmt.Sprintf(format, args...)}
}
