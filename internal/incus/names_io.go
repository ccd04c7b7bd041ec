package incus

import (
	"context"
	"fmt"
	"sort"
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
		ep := names.Endpoint{Instance: in.Name, Service: svc, Addrs: map[string]string{}}
		for _, nic := range nics[svc] {
			ip := in.State.Network[nic.Name].inet4()
			for _, net := range nic.Networks {
				if ip != "" {
					ep.Addrs[net] = ip
				}
			}
		}
		out = append(out, ep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Instance < out[j].Instance })
	return out, nil
}

// WaitAddresses waits until every NIC of a new instance has its IPv4
// address (DHCP on a bridge, OVN's own on OVN), so its names can be
// published before anyone is sent to it. It returns the instance's address
// on each Compose network, and the NICs still without one at the timeout.
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
		if len(missing) == 0 || time.Now().After(deadline) {
			return addrs, missing, nil
		}
		select {
		case <-ctx.Done():
			return addrs, missing, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeHostsScript replaces /etc/hosts atomically: written aside, then
// renamed over it, so a lookup never sees a half-written or empty file.
const writeHostsScript = `printf '%s' "$INCUS_FLEET_HOSTS" > /etc/.hosts.incus-fleet && mv -f /etc/.hosts.incus-fleet /etc/hosts`

// WriteHosts puts a rendered hosts file into a running instance. Through
// exec (the content travels in the environment, no stdio needed) so the
// replacement is atomic; an image without /bin/sh gets it through the file
// API instead (written in place).
func (c *Client) WriteHosts(ctx context.Context, stack, instance string, content []byte) error {
	code, err := c.execEnv(ctx, stack, instance, []string{"/bin/sh", "-c", writeHostsScript},
		map[string]string{"INCUS_FLEET_HOSTS": string(content)}, 10*time.Second)
	if err == nil && code == 0 {
		return nil
	}
	if err != nil && (isNotFound(err) || ctx.Err() != nil) {
		return fmt.Errorf("write %s in %s: %w", HostsPath, instance, err)
	}
	// No shell, or no mv: the file API still works, without atomicity.
	return c.pushFiles(ctx, stack, instance, []model.File{{Target: HostsPath, Mode: 0o644, Content: content, Source: "names of stack " + stack}})
}
