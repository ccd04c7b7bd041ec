package protocol

import "fmt"

// Error codes of the contract.
const (
	CodeInvalidRequest     = "invalid_request"
	CodeComposeInvalid     = "compose_invalid"
	CodeNoSuitableNode     = "no_suitable_node"
	CodeClusterUnreachable = "cluster_unreachable"
	CodeNotFound           = "not_found"
	CodeConflict           = "conflict"
	CodeUpdatePaused       = "update_paused"
	CodeRolledBack         = "rolled_back"
	CodeTimeout            = "timeout"
	CodeInternal           = "internal"
)

// Error is the one typed error that crosses the protocol boundary.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
}

// Detail points at one offending field (or thing) with its own message.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds an invalid_request error naming the field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeInvalidRequest, Message: field + ": " + msg,
		Details: []Detail{{Field: field, Message: msg}}}
}
