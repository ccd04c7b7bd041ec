package incus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/names"
)

// HostsPath is the file the fleet's names live in, inside every instance.
const HostsPath = "/etc/hosts"

// Endpoints reads, in one call, every running instance of the stack and
// its address on each Compose network its service joins. Instances on a
// member that is offline are not running as far as Incus can tell, so they
// drop out of the names.
func (c *Client) Endpoints(ctx context.Context, stack *model.Stack, plan *NetPlan) ([]names.Endpoint, error) {
	insts, err := c.listInstancesFull(ctx, stack.Name)
	if err != nil {
		return nil, fmt.Errorf("read the instances of stack %s for its names: %w", stack.Name, err)
	}
	nics := map[string][]NIC{}
	for i := range stack.Services {
		nics[stack.Services[i].Name] = plan.ServiceNICs(&stack.Services[i])
	}
	var out []names.Endpoint
	for _, in := range insts {
		svc := in.Config[model.KeyService]
		if in.Status != "Running" || in.State == nil || in.Config[model.KeyStack] != stack.Name || svc == "" {
			continue
		}
		if in.Config[model.KeyHealth] == "unhealthy" {
			continue // out of the names until its check passes again (stack watch)
		}
		out = append(out, endpointOf(in, svc, nics[svc]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Instance < out[j].Instance })
	return out, nil
}

// WaitAddresses waits until every NIC of a new instance has its IPv4
// address (DHCP on a bridge, OVN's own on OVN), so its names can be
// published before anyone is sent to it. It returns the instance's address
// on each Compose network, and the NICs still without one at the timeout,
// each followed by the reason in parentheses when the fleet's address hook
// left one (spec_dhcp.go: e.g. the image has no DHCP client).
func (c *Client) WaitAddresses(ctx context.Context, stack, instance string, nics []NIC, timeout time.Duration) (map[string]string, []string, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := c.instanceNetState(ctx, stack, instance)
		if initExited(err) {
			// A one-shot service (service_completed_successfully) may
			// have exited already: Incus cannot read a state then.
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if st.Status != "" && st.Status != "Running" {
			return nil, nil, nil // stopped: it has no address to publish
		}
		addrs := map[string]string{}
		var missing []string
		for _, n := range nics {
			ip := st.Network[n.Name].inet4()
			if ip == "" {
				missing = append(missing, n.Name)
				continue
			}
			for _, net := range n.Networks {
				addrs[net] = ip
			}
		}
		if len(missing) == 0 {
			return addrs, nil, nil
		}
		if time.Now().After(deadline) {
			return addrs, c.addressTrouble(ctx, stack, instance, missing), nil
		}
		select {
		case <-ctx.Done():
			return addrs, missing, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// addressTrouble adds the address hook's reason, if it left one, to the
// NICs without an address (one read, only when an address is missing).
func (c *Client) addressTrouble(ctx context.Context, stack, instance string, missing []string) []string {
	data, err := c.readInstanceFile(ctx, stack, instance, addressStatusPath)
	why := strings.TrimSpace(string(data))
	if err != nil || why == "" {
		return missing
	}
	out := make([]string, len(missing))
	for i, m := range missing {
		out[i] = m + " (" + why + ")"
	}
	return out
}

// hostsWriteTimeout bounds one hosts write; a write still running then is
// stopped (stopHostsWrite). A variable so the fake-API tests can shorten it.
var hostsWriteTimeout = 10 * time.Second

// writeHostsScript replaces /etc/hosts atomically: written aside, then
// renamed over it, so a lookup never sees a half-written, empty or missing
// file. The staging file is named for this one write ($1, a random token),
// so two writers at once never write into the same file: the last rename
// wins, whole. A failed write removes its staging file and leaves
// /etc/hosts as it was.
const writeHostsScript = `umask 022; s=/etc/.hosts.incus-fleet.$1; ` +
	`printf '%s' "$INCUS_FLEET_HOSTS" > "$s" && mv -f "$s" /etc/hosts || { rm -f "$s"; exit 1; }`

// stopHostsScript kills every process of one write (its shell carries the
// token in its arguments, mv in the staging name) and removes the staging
// file. cmdline separates arguments with NULs, which busybox grep stops
// at, hence tr. Incus refuses to cancel an exec operation started without
// websockets ("This operation can't be cancelled", measured on 6.0.4), so
// signalling its processes is how such an operation is ended.
const stopHostsScript = `for p in /proc/[0-9]*; do i=${p#/proc/}; [ "$i" = "$$" ] && continue; ` +
	`tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qF "$INCUS_FLEET_TOKEN" && kill -9 "$i" 2>/dev/null; done; ` +
	`rm -f "/etc/.hosts.incus-fleet.$INCUS_FLEET_TOKEN"; exit 0`

// WriteHosts puts a rendered hosts file into a running instance, through
// exec (the content travels in the environment, no stdio needed) so the
// replacement is atomic. There is no other way in: the file API can only
// delete and re-create a file, which leaves a moment, or after a failure
// for good, without /etc/hosts. So a write that fails leaves the old file
// and returns an error; one that runs past hostsWriteTimeout is stopped
// first. (An instance's first file is pushed before it starts, when no one
// looks it up.)
func (c *Client) WriteHosts(ctx context.Context, stack, instance string, content []byte) error {
	token, err := writeToken()
	if err != nil {
		return fmt.Errorf("write %s in %s: %w", HostsPath, instance, err)
	}
	argv := []string{"/bin/sh", "-c", writeHostsScript, "incus-fleet-hosts", token}
	code, err := c.execEnv(ctx, stack, instance, argv, map[string]string{"INCUS_FLEET_HOSTS": string(content)}, hostsWriteTimeout)
	switch {
	case errors.Is(err, errOpTimeout) && ctx.Err() == nil:
		if serr := c.stopHostsWrite(ctx, stack, instance, token); serr != nil {
			return fmt.Errorf("write %s in %s: %w; stopping the write failed too: %v", HostsPath, instance, err, serr)
		}
		return fmt.Errorf("write %s in %s: %w; the write was stopped and the file left as it was", HostsPath, instance, err)
	case err != nil:
		return fmt.Errorf("write %s in %s: %w", HostsPath, instance, err)
	case code != 0:
		return fmt.Errorf("write %s in %s: the write exited with code %d and left the file as it was "+
			"(the names need /bin/sh, printf and mv in the image, and a writable /etc)", HostsPath, instance, code)
	}
	return nil
}

// stopHostsWrite ends a timed-out write: its processes are killed from a
// second exec, bounded too.
func (c *Client) stopHostsWrite(ctx context.Context, stack, instance, token string) error {
	code, err := c.execEnv(ctx, stack, instance, []string{"/bin/sh", "-c", stopHostsScript},
		map[string]string{"INCUS_FLEET_TOKEN": token}, hostsWriteTimeout)
	if err == nil && code != 0 {
		err = fmt.Errorf("exited with code %d", code)
	}
	return err
}

// writeToken names one write's staging file: random, so concurrent
// writers (two runs, a run and the watch) never share one.
func writeToken() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("no random token for the staging file: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
