package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxReadFile bounds a file read from an instance (account databases are
// small; a huge one is not what we think it is).
const maxReadFile = 4 << 20

// readInstanceFile is GET /1.0/instances/{name}/files?path=…: the raw
// content of a file of a (possibly stopped) instance, through whichever
// member holds it. A missing file is ErrNotFound.
func (c *Client) readInstanceFile(ctx context.Context, stack, instance, path string) ([]byte, error) {
	what := "read " + path + " in " + instance
	s := Scope{Project: stack, Query: url.Values{"path": {path}}}
	resp, err := c.t.send(ctx, request{method: http.MethodGet, path: "/1.0" + pathWithScope(filePath(instance), s)})
	if err != nil {
		return nil, classify(err, "%s", what)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		// Errors come in Incus's JSON envelope, content does not.
		var env apiResponse
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env)
		msg := env.Error
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, classify(&StatusError{Code: resp.StatusCode, Msg: msg}, "%s", what)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReadFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", what, err, ErrUnreachable)
	}
	if len(data) > maxReadFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", what, maxReadFile)
	}
	return data, nil
}
