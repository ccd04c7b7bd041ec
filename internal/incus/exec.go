package incus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// execPost is POST /1.0/instances/{name}/exec without any websocket: the
// output is recorded by Incus and read back through the logs API.
type execPost struct {
	Command          []string          `json:"command"`
	Environment      map[string]string `json:"environment,omitempty"`
	WaitForWebsocket bool              `json:"wait-for-websocket"`
	Interactive      bool              `json:"interactive"`
	RecordOutput     bool              `json:"record-output"`
}

// ExecResult is a finished command: its exit code and recorded output.
type ExecResult struct {
	Code           int
	Stdout, Stderr string
}

// maxExecOutput bounds the recorded output read back (a health check's
// output is for messages, not data).
const maxExecOutput = 64 << 10

// Exec runs a command inside an instance and returns its exit code. A
// command still running at the timeout counts as failed (-1), as Docker
// counts a timed-out healthcheck.
func (c *Client) Exec(ctx context.Context, stack, name string, argv []string, timeout time.Duration) (int, error) {
	r, err := c.ExecOutput(ctx, stack, name, argv, timeout)
	return r.Code, err
}

// ExecOutput runs a command like Exec and also returns what it wrote to
// stdout and stderr (recorded by Incus, read through the logs API and then
// deleted there).
func (c *Client) ExecOutput(ctx context.Context, stack, name string, argv []string, timeout time.Duration) (ExecResult, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	s := Scope{Project: stack}
	op, err := c.startOp(ctx, http.MethodPost, "/instances/"+url.PathEscape(name)+"/exec", s,
		execPost{Command: argv, RecordOutput: true})
	if err != nil {
		return ExecResult{Code: -1}, classify(err, "exec in %s", name)
	}
	done, err := c.waitOp(ctx, op.ID, timeout, "exec in "+name)
	if err != nil {
		if errors.Is(err, errOpTimeout) && ctx.Err() == nil {
			c.cancelOp(op.ID)
			return ExecResult{Code: -1}, nil
		}
		return ExecResult{Code: -1}, err
	}
	code, err := exitCode(done, name)
	if err != nil {
		return ExecResult{Code: -1}, err
	}
	res := ExecResult{Code: code}
	var output map[string]string
	_ = json.Unmarshal(done.Metadata["output"], &output)
	res.Stdout = c.readExecLog(ctx, stack, output["1"])
	res.Stderr = c.readExecLog(ctx, stack, output["2"])
	return res, nil
}

// execEnv runs argv in an instance with extra environment and no recorded
// output, and returns its exit code; a command still running after
// timeout is an ErrTimeout error. The operation may live on another
// member: Incus forwards the wait to it.
func (c *Client) execEnv(ctx context.Context, stack, name string, argv []string, env map[string]string, timeout time.Duration) (int, error) {
	op, err := c.startOp(ctx, http.MethodPost, "/instances/"+url.PathEscape(name)+"/exec", Scope{Project: stack},
		execPost{Command: argv, Environment: env})
	if err != nil {
		return -1, classify(err, "exec in %s", name)
	}
	done, err := c.waitOp(ctx, op.ID, max(timeout, time.Second), "exec in "+name)
	if err != nil {
		return -1, err
	}
	return exitCode(done, name)
}

// exitCode is a finished exec operation's exit code.
func exitCode(done *Operation, name string) (int, error) {
	var code float64
	if json.Unmarshal(done.Metadata["return"], &code) != nil {
		return -1, fmt.Errorf("exec in %s returned no exit code", name)
	}
	return int(code), nil
}

// readExecLog reads one recorded output file and deletes it, so health
// checks do not pile up log files. Output is best effort: "" if unreadable.
func (c *Client) readExecLog(ctx context.Context, stack, path string) string {
	if !strings.HasPrefix(path, "/1.0/instances/") {
		return ""
	}
	p := path
	if stack != "" {
		p += "?project=" + url.QueryEscape(stack)
	}
	resp, err := c.t.send(ctx, request{method: http.MethodGet, path: p})
	if err != nil {
		return ""
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxExecOutput))
	resp.Body.Close()
	if del, err := c.t.send(ctx, request{method: http.MethodDelete, path: p}); err == nil {
		del.Body.Close()
	}
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(data)
}

// instanceState is GET /1.0/instances/{name}/state, as far as we read it.
type instanceState struct {
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
}

const statusRunning, statusStopped = 103, 102

// Running reports whether an instance is running. A container whose init
// has exited is not, even when Incus cannot say so (exited.go).
func (c *Client) Running(ctx context.Context, stack, name string) (bool, error) {
	var st instanceState
	if _, err := c.call(ctx, http.MethodGet, "/instances/"+url.PathEscape(name)+"/state", Scope{Project: stack}, nil, &st); err != nil {
		if initExited(err) {
			return false, nil
		}
		return false, classify(err, "read state of %s", name)
	}
	return st.StatusCode == statusRunning, nil
}

// HealthcheckArgv turns a Compose healthcheck test into argv: CMD runs its
// arguments, CMD-SHELL runs one string with /bin/sh -c. NONE has no argv.
func HealthcheckArgv(test []string) ([]string, error) {
	if len(test) == 0 {
		return nil, nil
	}
	switch test[0] {
	case "NONE":
		return nil, nil
	case "CMD":
		if len(test) < 2 {
			return nil, fmt.Errorf("healthcheck test CMD has no command")
		}
		return test[1:], nil
	case "CMD-SHELL":
		if len(test) != 2 {
			return nil, fmt.Errorf("healthcheck test CMD-SHELL takes exactly one command string")
		}
		return []string{"/bin/sh", "-c", test[1]}, nil
	default:
		// Compose's string form is normalised to CMD-SHELL by the loader;
		// a bare list is taken as CMD for robustness.
		return test, nil
	}
}
