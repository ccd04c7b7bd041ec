package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	return c.callIfMatch(ctx, method, path, s, "", body, out)
}

// callIfMatch is call with an If-Match ETag: Incus refuses the write with
// 412 (ErrConflict) when the object changed since it was read.
func (c *Client) callIfMatch(ctx context.Context, method, path string, s Scope, etag string, body, out any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	what := method + " " + path
	if method != http.MethodGet {
		if err := c.guard(ctx); err != nil {
			return "", err
		}
	}
	r := request{method: method, path: "/1.0" + pathWithScope(path, s), body: body}
	if etag != "" {
		r.header = http.Header{"If-Match": {etag}}
	}
	resp, tag, err := c.t.do(ctx, r)
	if err != nil {
		return "", classify(err, "%s", what)
	}
	if out != nil && len(resp.Metadata) > 0 && string(resp.Metadata) != "null" {
		if err := json.Unmarshal(resp.Metadata, out); err != nil {
			return "", fmt.Errorf("%s: cannot decode the response: %v", what, err)
		}
	}
	return tag, nil
}

// callOp makes one REST call that starts a background operation and waits
// for it within the call timeout. what names the action in errors.
func (c *Client) callOp(ctx context.Context, method, path string, s Scope, body any, what string) error {
	_, err := c.startAndWait(ctx, method, path, s, body, what)
	return err
}

// startAndWait is callOp returning the finished operation (its metadata
// carries results such as an exec's exit code).
func (c *Client) startAndWait(ctx context.Context, method, path string, s Scope, body any, what string) (*Operation, error) {
	op, err := c.startOp(ctx, method, path, s, body)
	if err != nil {
		return nil, classify(err, "%s", what)
	}
	// The operation runs on the target member, and only that member may
	// know it: the wait goes there too (with ?target=).
	return c.waitOpOn(ctx, op.ID, s.Target, c.timeout, what)
}

// startOp makes a call answered by a background operation and returns it.
func (c *Client) startOp(ctx context.Context, method, path string, s Scope, body any) (*Operation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.guard(ctx); err != nil {
		return nil, err
	}
	resp, _, err := c.t.do(ctx, request{method: method, path: "/1.0" + pathWithScope(path, s), body: body})
	if err != nil {
		return nil, err
	}
	var op Operation
	if err := json.Unmarshal(resp.Metadata, &op); err != nil || op.ID == "" {
		return nil, fmt.Errorf("%s %s: Incus answered without an operation (%s)", method, path, resp.Type)
	}
	return &op, nil
}

// Raw makes one REST call outside this package's typed calls, for tests
// that check what Incus holds without trusting incus-fleet's own reports.
// Actions of the tool itself belong in this package, not on top of Raw.
func (c *Client) Raw(ctx context.Context, method, path string, s Scope, etag string, body, out any) (string, error) {
	return c.callIfMatch(ctx, method, path, s, etag, body, out)
}

// RawOp is Raw for a call answered by a background operation; it waits for
// the operation and returns its metadata.
func (c *Client) RawOp(ctx context.Context, method, path string, s Scope, body any) (map[string]json.RawMessage, error) {
	op, err := c.startAndWait(ctx, method, path, s, body, method+" "+path)
	if err != nil {
		return nil, err
	}
	return op.Metadata, nil
}

// RawStart is RawOp without the wait: it returns the operation's id and
// metadata as soon as Incus created it (e.g. a join token).
func (c *Client) RawStart(ctx context.Context, method, path string, s Scope, body any) (string, map[string]json.RawMessage, error) {
	op, err := c.startOp(ctx, method, path, s, body)
	if err != nil {
		return "", nil, classify(err, "%s %s", method, path)
	}
	return op.ID, op.Metadata, nil
}
