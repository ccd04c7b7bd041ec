// Package protocol is the JSON contract of incus-fleet (PROTOCOL.md): the
// request and response envelopes, the typed error, and schema validation.
package protocol

import (
	"encoding/json"
	"sort"
)

// Version is the only protocol version this binary speaks.
const Version = 1

// Request is one protocol request.
type Request struct {
	Version    int             `json:"version"`
	Action     string          `json:"action"`
	Test       bool            `json:"test,omitempty"`
	Connection *Connection     `json:"connection,omitempty"`
	Params     json.RawMessage `json:"params,omitempty"`
}

// Connection says how to reach Incus. Empty means the local unix socket.
type Connection struct {
	Socket            string `json:"socket,omitempty"`
	URL               string `json:"url,omitempty"`
	ClientCert        string `json:"client_cert,omitempty"`
	ClientKey         string `json:"client_key,omitempty"`
	ServerCert        string `json:"server_cert,omitempty"`
	ServerFingerprint string `json:"server_fingerprint,omitempty"`
	Project           string `json:"project,omitempty"`
}

// Response is one protocol response. Result is true (done / nothing to do),
// nil (test mode with pending changes) or false (failed).
type Response struct {
	Action   string
	Result   *bool
	Changes  map[string]Change
	Comment  string
	Warnings []string
	Error    *Error
	// Fields holds the action-specific fields (plan, members, instances...).
	Fields map[string]any
}

// Change is Salt's {"old": ..., "new": ...} shape.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// True and False are the two definite results; nil is the third.
func True() *bool  { t := true; return &t }
func False() *bool { f := false; return &f }

// Set adds an action-specific field.
func (r *Response) Set(key string, value any) {
	if r.Fields == nil {
		r.Fields = map[string]any{}
	}
	r.Fields[key] = value
}

// MarshalJSON writes the envelope with sorted keys so output is byte-stable.
func (r Response) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range r.Fields {
		out[k] = v
	}
	changes := r.Changes
	if changes == nil {
		changes = map[string]Change{}
	}
	warnings := append([]string{}, r.Warnings...)
	sort.Strings(warnings)
	out["version"] = Version
	out["action"] = r.Action
	out["result"] = r.Result
	out["changes"] = changes
	out["comment"] = r.Comment
	out["warnings"] = warnings
	if r.Error != nil {
		out["error"] = r.Error
	}
	return json.Marshal(out)
}

// ExitCode is the process exit status the contract assigns to a response.
func (r Response) ExitCode() int {
	switch {
	case r.Error == nil:
		return 0
	case r.Error.Code == CodeInvalidRequest:
		return 2
	default:
		return 1
	}
}
