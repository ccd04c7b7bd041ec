package composeload

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Error is the single error type Load returns for invalid input, so callers
// (the protocol layer) can report which field was wrong without parsing text.
type Error struct {
	// Field is a dotted Compose path ("services.db.deploy.replicas") or the
	// name of a Load option ("name", "files", "inline", "services").
	Field string
	// Message says what was wrong and how to fix it; it stands on its own.
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Field + " is invalid"
	}
	return e.Message
}

// errorf builds an *Error; kept short because it is called from every check.
func errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// serviceErr builds an *Error about one attribute of one service, with the
// message prefixed the same way everywhere: `service "db": <attr> ...`.
func serviceErr(service, attr, format string, args ...any) *Error {
	return &Error{
		Field:   "services." + service + "." + attr,
		Message: fmt.Sprintf("service %q: %s %s", service, attr, fmt.Sprintf(format, args...)),
	}
}

var (
	// compose-go reports most problems as "services.web.deploy.x: ..." or
	// "validating FILE: services.web.x ...": the first dotted path is the field.
	composePathRe = regexp.MustCompile(`\bservices\.[A-Za-z0-9._-]*[A-Za-z0-9_-]`)
	// ... and consistency problems as `service "web" ...`.
	composeServiceRe = regexp.MustCompile(`service "([^"]+)"`)
)

// fromCompose turns a compose-go error (plain text, no structure) into an
// *Error, recovering the field from the text where compose-go names one.
func fromCompose(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	field := "compose"
	if m := composePathRe.FindString(msg); m != "" {
		field = m
	} else if m := composeServiceRe.FindStringSubmatch(msg); m != nil {
		field = "services." + m[1]
	}
	// The JSON-schema validator words unknown attributes as "false schema",
	// which tells a user nothing.
	msg = strings.ReplaceAll(msg, " false schema", " is not a Compose attribute (check its spelling and indentation)")
	return &Error{Field: field, Message: "invalid compose input: " + sortedListing(uniqueLines(msg))}
}

// sortedListing sorts the lines of a listing that compose-go gathers in
// map order ("decoding failed due to the following error(s):" and one
// line per field), so the same input lists them in the same order.
func sortedListing(msg string) string {
	head, list, ok := strings.Cut(msg, "error(s):\n")
	if !ok {
		return msg
	}
	lines := strings.Split(strings.TrimLeft(list, "\n"), "\n")
	slices.Sort(lines)
	return head + "error(s):\n\n" + strings.Join(lines, "\n")
}

// uniqueLines drops repeated lines: compose-go reports a variable that is
// required (${X:?msg}) once per use, so an error about several of them
// would say the same thing many times.
func uniqueLines(msg string) string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
