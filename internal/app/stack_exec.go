package app

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type stackExecParams struct {
	Name    string   `json:"name"`
	Target  string   `json:"target"` // SERVICE, SERVICE.SLOT or an instance name
	Command []string `json:"command"`
	Timeout *float64 `json:"timeout"` // seconds; default 300
}

// stackExec runs a command in one replica and returns its exit code and
// output. Incus records the output and it is read back when the command
// ends (up to 64 KiB per stream): an answer, not a stream.
func stackExec(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p stackExecParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	in, err := resolveReplica(ctx, c, p.Name, p.Target)
	if err != nil {
		return protocol.Response{}, err
	}
	if in.Status != "Running" {
		return protocol.Response{}, fmt.Errorf("%s (%s of stack %s) is %s, not running; start it with `stack up` or pick another slot: %w",
			in.Name, p.Target, p.Name, in.Status, incus.ErrConflict)
	}
	timeout := 300 * time.Second
	if p.Timeout != nil {
		timeout = time.Duration(*p.Timeout * float64(time.Second))
	}
	res, err := c.ExecOutput(ctx, p.Name, in.Name, p.Command, timeout)
	if err != nil {
		return protocol.Response{}, err
	}
	resp := protocol.Response{Comment: fmt.Sprintf("%s on %s exited with %d", in.Name, in.Member, res.Code)}
	// The command ran: result true even for a non-zero exit, which is the
	// command's answer, not a failure of the action.
	resp.Result = protocol.True()
	resp.Set("instance", in.Name)
	resp.Set("member", in.Member)
	resp.Set("exit_code", res.Code)
	resp.Set("stdout", res.Stdout)
	resp.Set("stderr", res.Stderr)
	return resp, nil
}

// execStream is `stack exec` without --json: the command's stdout and
// stderr stream to the writers as they come (no size limit) and stdin is
// fed to it; it returns the command's exit code.
func execStream(ctx context.Context, req *protocol.Request, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var p stackExecParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return -1, err
	}
	in, err := resolveReplica(ctx, c, p.Name, p.Target)
	if err != nil {
		return -1, err
	}
	if in.Status != "Running" {
		return -1, fmt.Errorf("%s (%s of stack %s) is %s, not running; start it with `stack up` or pick another slot: %w",
			in.Name, p.Target, p.Name, in.Status, incus.ErrConflict)
	}
	return c.ExecStream(ctx, p.Name, in.Name, p.Command, stdin, stdout, stderr)
}

// resolveReplica finds the instance a target names: SERVICE (slot 1),
// SERVICE.SLOT, or the instance's own name. One request.
func resolveReplica(ctx context.Context, c *incus.Client, stack, target string) (incus.OwnedInstance, error) {
	insts, err := stackInstances(ctx, c, stack)
	if err != nil {
		return incus.OwnedInstance{}, err
	}
	svc, slot := target, 1
	if i := strings.LastIndexByte(target, '.'); i > 0 {
		if n, err := strconv.Atoi(target[i+1:]); err == nil {
			svc, slot = target[:i], n
		}
	}
	var known []string
	for _, in := range insts {
		_, s, n, _ := in.Owned()
		if in.Name == target || (s == svc && n == slot) {
			return in, nil
		}
		known = append(known, fmt.Sprintf("%s.%d", s, n))
	}
	sort.Strings(known)
	return incus.OwnedInstance{}, protocol.Errorf(protocol.CodeNotFound,
		"stack %s has no replica %q (give SERVICE, SERVICE.SLOT or an instance name; it has: %s)", stack, target, strings.Join(known, ", "))
}

// stackInstances lists the instances a stack owns (by recorded ownership),
// or says the stack is not deployed.
func stackInstances(ctx context.Context, c *incus.Client, stack string) ([]incus.OwnedInstance, error) {
	exists, err := c.ProjectState(stack)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("stack %q is not deployed (no Incus project %q); deploy it with stack.present: %w", stack, stack, incus.ErrNotFound)
	}
	all, err := c.ListOwnedInstances(ctx, stack)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if owner, _, _, ok := in.Owned(); ok && owner == stack {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		_, a, x, _ := out[i].Owned()
		_, b, y, _ := out[j].Owned()
		if a != b {
			return a < b
		}
		if x != y {
			return x < y
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
