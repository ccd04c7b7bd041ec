package incus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// ConsoleRing is the size of the console ring buffer Incus keeps of a
// container (lxc.console.buffer.size = auto: 128 KiB, measured on 6.0.4):
// GET .../console returns at most this much, the newest output.
const ConsoleRing = 128 << 10

// ConsoleLog reads an instance's console log: what its first process (and
// everything it started without redirecting) wrote to stdout and stderr.
// Incus forwards the read to the member running the instance. Incus keeps
// no time per line.
func (c *Client) ConsoleLog(ctx context.Context, stack, name string) ([]byte, error) {
	what := "read the console log of " + name
	path := "/1.0" + pathWithScope("/instances/"+url.PathEscape(name)+"/console", Scope{Project: stack})
	resp, err := c.t.send(ctx, request{method: http.MethodGet, path: path})
	if err != nil {
		return nil, classify(err, "%s", what)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		var env apiResponse
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env)
		return nil, classify(env.statusError(resp.StatusCode), "%s", what)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4*ConsoleRing))
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", what, err, ErrUnreachable)
	}
	return data, nil
}

// AppendFile appends content to a file in an instance (created 0600 by
// root when missing: Incus 6.0 answers 404 to an append to a missing
// file), through whichever member holds it.
func (c *Client) AppendFile(ctx context.Context, stack, instance, path string, content []byte) error {
	err := c.putFile(ctx, stack, instance, path, "append", content)
	if isNotFound(err) {
		err = c.putFile(ctx, stack, instance, path, "overwrite", content)
	}
	return classify(err, "append to %s in %s", path, instance)
}

func (c *Client) putFile(ctx context.Context, stack, instance, path, mode string, content []byte) error {
	h := http.Header{
		"X-Incus-Type":  {"file"},
		"X-Incus-Mode":  {"0600"},
		"X-Incus-Uid":   {"0"},
		"X-Incus-Gid":   {"0"},
		"X-Incus-Write": {mode},
	}
	s := Scope{Project: stack, Query: url.Values{"path": {path}}}
	return retryForkfile(ctx, func() error {
		_, _, err := c.t.do(ctx, request{method: http.MethodPost, path: "/1.0" + pathWithScope(filePath(instance), s),
			body: bytes.NewReader(content), header: h})
		return err
	})
}
