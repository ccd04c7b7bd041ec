package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func callCommand() *cli.Command {
	return &cli.Command{
		Name:      "call",
		Usage:     "run one JSON protocol request (stdin, or -f FILE) and print one JSON response",
		ArgsUsage: " ",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read the request from `FILE` instead of stdin"}},
		Action: func(c *cli.Context) error {
			in := c.App.Reader
			if path := c.String("file"); path != "" {
				f, err := os.Open(path)
				if err != nil {
					return writeResponse(c.App.Writer, failure("", protocol.Errorf(protocol.CodeInvalidRequest, "cannot open request file: %v", err)))
				}
				defer f.Close()
				in = f
			}
			return writeResponse(c.App.Writer, run(c.Context, in, c.App.ErrWriter))
		},
	}
}

// run decodes, validates and serves one request.
func run(ctx context.Context, in io.Reader, stderr io.Writer) protocol.Response {
	req, perr := protocol.Decode(in)
	if perr != nil {
		return failure("", perr)
	}
	resp := serve(ctx, &env{stderr: stderr}, req)
	if os.Getenv("INCUS_FLEET_STATS") != "" {
		fmt.Fprintf(stderr, "incus-fleet: %s made %d Incus API requests\n", req.Action, incus.TotalRequests())
	}
	return resp
}

// runRequest is the CLI's entry: it marshals the request so a human command
// is validated exactly like a protocol call.
func runRequest(c *cli.Context, req protocol.Request) protocol.Response {
	if s := c.String("socket"); s != "" && req.Connection == nil {
		req.Connection = &protocol.Connection{Socket: s}
	}
	data, err := json.Marshal(req)
	if err != nil {
		return failure(req.Action, protocol.Errorf(protocol.CodeInternal, "%v", err))
	}
	return run(c.Context, bytes.NewReader(data), c.App.ErrWriter)
}

func writeResponse(w io.Writer, resp protocol.Response) error {
	data, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	// MarshalIndent re-sorts nothing: Response.MarshalJSON already emits
	// sorted keys, so the bytes are stable.
	if _, err := fmt.Fprintf(w, "%s\n", data); err != nil {
		return err
	}
	if code := resp.ExitCode(); code != 0 {
		return exitError{code}
	}
	return nil
}
