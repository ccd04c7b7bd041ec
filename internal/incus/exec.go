package incus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lxc/incus/v6/shared/api"
)

// Exec runs a command inside an instance without attaching stdio (Incus then
// needs no websocket) and returns its exit code. A command still running at
// the timeout counts as failed, as Docker counts a timed-out healthcheck.
func (c *Client) Exec(ctx context.Context, stack, name string, argv []string, timeout time.Duration) (int, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	srv := c.srv.UseProject(stack)
	op, err := srv.ExecInstance(name, api.InstanceExecPost{Command: argv, WaitForWS: false}, nil)
	if err != nil {
		return -1, classify(err, "exec in %s", name)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := op.WaitContext(wctx); err != nil {
		if errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			_ = op.Cancel()
			return -1, nil
		}
		return -1, classify(err, "exec in %s", name)
	}
	code, ok := op.Get().Metadata["return"].(float64)
	if !ok {
		return -1, fmt.Errorf("exec in %s returned no exit code", name)
	}
	return int(code), nil
}

// Running reports whether an instance is running.
func (c *Client) Running(ctx context.Context, stack, name string) (bool, error) {
	st, _, err := c.srv.UseProject(stack).GetInstanceState(name)
	if err != nil {
		return false, classify(err, "read state of %s", name)
	}
	return st.StatusCode == api.Running, nil
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
