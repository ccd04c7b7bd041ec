package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
)

// maxReadFile bounds a file read from an instance (account databases are
// small; a huge one is not what we think it is).
const maxReadFile = 4 << 20

// readInstanceFile is GET /1.0/instances/{name}/files?path=…: the raw
// content of a file of a (possibly stopped) instance, through whichever
// member holds it. A missing file is ErrNotFound.
func (c *Client) readInstanceFile(ctx context.Context, stack, instance, path string) ([]byte, error) {
	data, _, err := c.ReadFile(ctx, stack, instance, path)
	return data, err
}

// ReadFile reads a file from an instance with its mode (also for tests
// and diagnostics). Like every file API request it rides out Incus 6.0's
// helper race (retryForkfile) and waits for a member that is not ready
// (untilReady); the raw answer does not go through transport.do.
func (c *Client) ReadFile(ctx context.Context, stack, instance, path string) (data []byte, mode os.FileMode, err error) {
	err = retryForkfile(ctx, func() error {
		return c.t.untilReady(ctx, notReadyKey("/1.0"+filePath(instance)), nil, func() error {
			data, mode, err = c.readFileOnce(ctx, stack, instance, path)
			return err
		})
	})
	return data, mode, err
}

func (c *Client) readFileOnce(ctx context.Context, stack, instance, path string) ([]byte, os.FileMode, error) {
	what := "read " + path + " in " + instance
	s := Scope{Project: stack, Query: url.Values{"path": {path}}}
	resp, err := c.t.send(ctx, request{method: http.MethodGet, path: "/1.0" + pathWithScope(filePath(instance), s)})
	if err != nil {
		return nil, 0, classify(err, "%s", what)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		// Errors come in Incus's JSON envelope, content does not.
		var env apiResponse
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env)
		return nil, 0, classify(env.statusError(resp.StatusCode), "%s", what)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReadFile+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v: %w", what, err, ErrUnreachable)
	}
	if len(data) > maxReadFile {
		return nil, 0, fmt.Errorf("%s: larger than %d bytes", what, maxReadFile)
	}
	mode, _ := strconv.ParseUint(resp.Header.Get("X-Incus-Mode"), 8, 32)
	return data, os.FileMode(mode), nil
}
