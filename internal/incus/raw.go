package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// Scope places one REST call: the Incus project and cluster member it acts
// in, plus any further query parameters. Empty fields are left out.
type Scope struct {
	Project string
	Target  string
	Query   url.Values
}

// pathWithScope renders path (under /1.0, e.g. "/storage-pools/local") with
// the scope's query string.
func pathWithScope(path string, s Scope) string {
	q := url.Values{}
	for k, vs := range s.Query {
		q[k] = append([]string(nil), vs...)
	}
	if s.Project != "" {
		q.Set("project", s.Project)
	}
	if s.Target != "" {
		q.Set("target", s.Target)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// call makes one synchronous REST call and decodes the response metadata
// into out (when out is non-nil). body is sent as JSON when non-nil. Errors
// carry ErrNotFound / ErrConflict like every other call of this package.
// The returned string is the response ETag.
//
// New API calls (networks, storage volumes, pools, ...) go through call and
// callOp, so they do not depend on how the transport is implemented.
func (c *Client) call(ctx context.Context, method, path string, s Scope, body, out any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	what := method + " " + path
	resp, etag, err := c.srv.RawQuery(method, "/1.0"+pathWithScope(path, s), body, "")
	if err != nil {
		return "", classify(err, "%s", what)
	}
	if out != nil && len(resp.Metadata) > 0 {
		if err := json.Unmarshal(resp.Metadata, out); err != nil {
			return "", fmt.Errorf("%s: cannot decode the response: %v", what, err)
		}
	}
	return etag, nil
}

// callOp makes one REST call that starts a background operation and waits
// for it within the call timeout. what names the action in errors.
func (c *Client) callOp(ctx context.Context, method, path string, s Scope, body any, what string) error {
	srv := c.srv
	if s.Target != "" {
		// The operation runs on the target member, and only that member
		// knows it: waiting for it must be sent there too (with ?target=).
		srv = srv.UseTarget(s.Target)
	}
	// RawOperation adds the /1.0 prefix itself (unlike RawQuery).
	op, _, err := srv.RawOperation(method, pathWithScope(path, s), body, "")
	if err != nil {
		return classify(err, "%s", what)
	}
	return c.wait(ctx, op, what)
}
