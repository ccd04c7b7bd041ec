package incus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Cluster config keys (`incus config set KEY VALUE`, once per cluster) that
// say how Compose networks are backed. With neither set, instances get no
// network device, as before networks were supported.
const (
	// KeyNetworkParent names a host bridge that exists on every member and
	// joins one shared L2 (the LAN, or a VXLAN between members) with DHCP.
	// Every Compose network attaches as `nictype: bridged, parent: <it>`.
	KeyNetworkParent = "user.fleet.network.parent"
	// KeyOVNUplink names the uplink network of OVN networks: every Compose
	// network becomes an OVN network of its own (created on first deploy).
	// It wins over KeyNetworkParent.
	KeyOVNUplink = "user.fleet.network.ovn_uplink"
)

// Config keys on the OVN networks the fleet creates, so they are found
// (and removed with the stack) by ownership, never by name alone.
const (
	keyNetworkStack   = "user.fleet.stack"
	keyNetworkCompose = "user.fleet.network"
)

// Attachment kinds.
const (
	AttachOVN      = "ovn"      // an OVN network the fleet manages
	AttachBridged  = "bridged"  // the cluster's parent bridge, or an existing host bridge
	AttachExisting = "existing" // an existing managed Incus network
)

// NetPlan says how each Compose network of a stack attaches on Incus.
type NetPlan struct {
	Stack string
	// Attach is keyed by Compose network; a network missing here gets no
	// device (no network settings on the cluster).
	Attach   map[string]NetAttach
	Warnings []string
	create   []networkCreate // OVN networks to create before the first instance
}

// NetAttach is one Compose network on Incus.
type NetAttach struct {
	Kind      string
	IncusName string            // the Incus network or parent bridge
	Device    map[string]string // the NIC device, without its name
}

// Enabled reports whether instances of the stack get network devices.
func (p *NetPlan) Enabled() bool { return p != nil && len(p.Attach) > 0 }

// NetworkError is bad network input found before anything is created:
// the protocol reports it as compose_invalid.
type NetworkError struct {
	Network string // Compose network key
	Member  string // the member concerned, if any
	Message string
}

func (e *NetworkError) Error() string { return e.Message }

// ResolveNetworks decides, from the cluster's network settings, how each
// Compose network of the stack attaches, and checks everything it can
// before anything is created: networks named by external/name exist, the
// parent bridge exists on every online member, ipam subnets do not clash
// with existing OVN networks. Nothing is changed here.
func (c *Client) ResolveNetworks(ctx context.Context, stack *model.Stack, members []model.Member) (*NetPlan, error) {
	plan := &NetPlan{Stack: stack.Name, Attach: map[string]NetAttach{}}
	if len(stack.Networks) == 0 {
		return plan, nil
	}
	cfg, err := c.clusterConfig(ctx)
	if err != nil {
		return nil, err
	}
	r := &resolver{c: c, ctx: ctx, plan: plan, stack: stack, members: members,
		parent: cfg[KeyNetworkParent], uplink: cfg[KeyOVNUplink], checked: map[string]bool{}}
	for _, n := range stack.Networks {
		if err := r.resolve(n); err != nil {
			return nil, err
		}
	}
	r.warnShared()
	sort.Strings(plan.Warnings)
	return plan, nil
}

type resolver struct {
	c       *Client
	ctx     context.Context
	plan    *NetPlan
	stack   *model.Stack
	members []model.Member
	parent  string
	uplink  string
	checked map[string]bool // host bridges found on every member
	all     []networkInfo   // every network, read once when needed
	listed  bool
}

func (r *resolver) warnf(format string, args ...any) {
	r.plan.Warnings = append(r.plan.Warnings, fmt.Sprintf(format, args...))
}

func (r *resolver) resolve(n model.Network) error {
	switch {
	case n.Existing != "":
		return r.existing(n)
	case r.uplink != "":
		return r.ovn(n)
	case r.parent != "":
		if err := r.hostBridge(n, r.parent, "the cluster's parent bridge "+r.parent+" ("+KeyNetworkParent+")"); err != nil {
			return err
		}
		r.plan.Attach[n.Name] = bridged(r.parent)
		r.notOnBridge(n, r.parent)
		return nil
	default:
		if n.Name != "default" || len(r.stack.Networks) > 1 || r.joiners(n.Name) > 1 {
			r.warnf("network %q: not wired: the cluster has no network settings; set %s (a host bridge on every member, on one shared LAN) or %s (OVN), see README \"Networks\"", n.Name, KeyNetworkParent, KeyOVNUplink)
		}
		return nil
	}
}

// joiners counts the services on a Compose network: with more than one,
// an unwired network means services that cannot reach each other.
func (r *resolver) joiners(network string) int {
	n := 0
	for _, svc := range r.stack.Services {
		for _, sn := range svc.Networks {
			if sn.Network == network {
				n++
			}
		}
	}
	return n
}

func bridged(parent string) NetAttach {
	return NetAttach{Kind: AttachBridged, IncusName: parent,
		Device: map[string]string{"type": "nic", "nictype": "bridged", "parent": parent}}
}

// existing selects an Incus network named by external/name. A managed one
// attaches by network; an unmanaged one is a host bridge, which must exist
// on every member.
func (r *resolver) existing(n model.Network) error {
	info, err := r.c.getNetwork(r.ctx, n.Existing, "")
	if isNotFound(err) {
		return fmt.Errorf("network %q selects the Incus network %q (external/name), which does not exist: create it (incus network create %s ...) or drop external/name to let incus-fleet provide the network: %w",
			n.Name, n.Existing, n.Existing, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if !info.Managed {
		if err := r.hostBridge(n, n.Existing, "the host bridge "+n.Existing); err != nil {
			return err
		}
		r.plan.Attach[n.Name] = bridged(n.Existing)
		r.notOnBridge(n, n.Existing)
		return nil
	}
	r.plan.Attach[n.Name] = NetAttach{Kind: AttachExisting, IncusName: n.Existing,
		Device: map[string]string{"type": "nic", "network": n.Existing}}
	if info.Type == "bridge" && r.c.clustered {
		// A managed bridge is one bridge per member, each its own L2 with
		// its own DHCP: replicas on different members never meet on it.
		r.warnf("network %q: the Incus network %q is a managed bridge, which each member runs on its own: instances on different members cannot reach each other through it; use OVN (%s) or a host bridge on one shared LAN (%s)",
			n.Name, n.Existing, KeyOVNUplink, KeyNetworkParent)
	}
	if n.Internal && info.Type != "ovn" {
		r.warnf("network %q: internal not enforced: the Incus %s network %q decides what it routes", n.Name, info.Type, n.Existing)
	}
	return nil
}

// hostBridge checks that a host bridge exists on every online member: an
// instance placed on a member without it would fail to start.
func (r *resolver) hostBridge(n model.Network, bridge, what string) error {
	if r.checked[bridge] {
		return nil
	}
	for _, m := range r.members {
		if m.Status != "Online" {
			continue
		}
		target := m.Name
		if !r.c.clustered {
			target = ""
		}
		_, err := r.c.getNetwork(r.ctx, bridge, target)
		if isNotFound(err) {
			return fmt.Errorf("network %q: %s does not exist on member %s; create it there (every member needs it, on the same LAN) or set %s to a bridge every member has: %w",
				n.Name, what, m.Name, KeyNetworkParent, ErrNotFound)
		}
		if err != nil {
			// A member that stopped answering but is not marked offline
			// yet: the check cannot tell, and placement will not use it
			// once Incus notices. Not a reason to stop every other change.
			continue
		}
	}
	r.checked[bridge] = true
	return nil
}

// notOnBridge warns about what a shared bridge cannot do for a network.
func (r *resolver) notOnBridge(n model.Network, bridge string) {
	if len(n.Subnets) > 0 {
		r.warnf("network %q: ipam subnet %s not applied: on the bridge %s instances take their addresses from the LAN's DHCP server (use OVN for fleet-managed subnets)", n.Name, strings.Join(n.Subnets, ", "), bridge)
	}
	if n.Internal {
		r.warnf("network %q: internal not enforced: the bridge %s routes whatever the LAN routes (use OVN for isolation)", n.Name, bridge)
	}
}

// warnShared says that Compose networks sharing one bridge are one L2:
// names stay scoped per network, traffic is not isolated.
func (r *resolver) warnShared() {
	by := map[string][]string{}
	for key, a := range r.plan.Attach {
		if a.Kind == AttachBridged {
			by[a.IncusName] = append(by[a.IncusName], key)
		}
	}
	for bridge, keys := range by {
		if len(keys) > 1 {
			sort.Strings(keys)
			r.warnf("networks %s share the bridge %s: names resolve only within each network, but traffic between them is not isolated (OVN isolates them)", strings.Join(keys, ", "), bridge)
		}
	}
}

// ovn maps a fleet-managed Compose network onto an OVN network of its own,
// created on first deploy, found again by name and ownership.
func (r *resolver) ovn(n model.Network) error {
	name := OVNNetworkName(r.stack.Name, n.Name)
	info, err := r.c.getNetwork(r.ctx, name, "")
	switch {
	case isNotFound(err):
		body, err := r.ovnCreate(n, name)
		if err != nil {
			return err
		}
		r.plan.create = append(r.plan.create, body)
	case err != nil:
		return err
	case info.Config[keyNetworkStack] != r.stack.Name || info.Config[keyNetworkCompose] != n.Name:
		return fmt.Errorf("network %q of stack %s would be the OVN network %q, but a network of that name exists and is not this stack's; rename the Compose network or select that network with external: true: %w",
			n.Name, r.stack.Name, name, ErrConflict)
	}
	r.plan.Attach[n.Name] = NetAttach{Kind: AttachOVN, IncusName: name,
		Device: map[string]string{"type": "nic", "network": name}}
	if n.Internal {
		r.warnf("network %q: internal: the OVN network %s gets no NAT (ipv4.nat=false); it still routes to its uplink %s", n.Name, name, r.uplink)
	}
	return nil
}

// ovnCreate is the exact request that creates the OVN network of n. An ipam
// subnet becomes the network's own range (its gateway address, first host
// by default), after a check against every existing network's range.
func (r *resolver) ovnCreate(n model.Network, name string) (networkCreate, error) {
	cfg := map[string]string{"network": r.uplink, keyNetworkStack: r.stack.Name, keyNetworkCompose: n.Name}
	if n.Internal {
		cfg["ipv4.nat"] = "false"
		cfg["ipv6.nat"] = "false"
	}
	for _, s := range n.Subnets {
		gw, ipn, err := gatewayCIDR(s, n.Gateway)
		if err != nil {
			return networkCreate{}, &NetworkError{Network: n.Name, Message: fmt.Sprintf("network %q: %v", n.Name, err)}
		}
		if err := r.subnetFree(n, ipn); err != nil {
			return networkCreate{}, err
		}
		if ipn.IP.To4() != nil {
			cfg["ipv4.address"] = gw
		} else {
			cfg["ipv6.address"] = gw
		}
	}
	return networkCreate{Name: name, Type: "ovn", Config: cfg,
		Description: fmt.Sprintf("incus-fleet: network %s of stack %s", n.Name, r.stack.Name)}, nil
}

// subnetFree refuses a subnet that overlaps a range of an existing network.
func (r *resolver) subnetFree(n model.Network, ipn *net.IPNet) error {
	if !r.listed {
		all, err := r.c.listNetworks(r.ctx)
		if err != nil {
			return err
		}
		r.all, r.listed = all, true
	}
	for _, other := range r.all {
		for _, key := range []string{"ipv4.address", "ipv6.address"} {
			_, o, err := net.ParseCIDR(other.Config[key])
			if err != nil {
				continue
			}
			if o.Contains(ipn.IP) || ipn.Contains(o.IP) {
				return &NetworkError{Network: n.Name, Message: fmt.Sprintf(
					"network %q: ipam subnet %s overlaps the Incus network %q (%s %s); choose a free range",
					n.Name, ipn, other.Name, key, other.Config[key])}
			}
		}
	}
	return nil
}

// gatewayCIDR turns a Compose subnet (and optional gateway) into the
// address/prefix form Incus takes for a network's own address.
func gatewayCIDR(subnet, gateway string) (string, *net.IPNet, error) {
	_, ipn, err := net.ParseCIDR(subnet)
	if err != nil {
		return "", nil, fmt.Errorf("ipam subnet %q is not a CIDR: %v", subnet, err)
	}
	ones, _ := ipn.Mask.Size()
	gw := net.ParseIP(gateway)
	if gateway != "" && (gw == nil || !ipn.Contains(gw)) {
		return "", nil, fmt.Errorf("ipam gateway %q is not an address inside %s", gateway, subnet)
	}
	if gw == nil {
		gw = append(net.IP(nil), ipn.IP...)
		gw[len(gw)-1]++
	}
	return fmt.Sprintf("%s/%d", gw, ones), ipn, nil
}

// OVNNetworkName is the Incus name of a stack's Compose network on OVN:
// <stack>-<network>, or, past 15 characters (Incus network names are
// interface names), a prefix and a hash that keep it unique.
func OVNNetworkName(stack, network string) string {
	name := stack + "-" + network
	if len(name) <= 15 {
		return name
	}
	sum := sha256.Sum256([]byte(stack + "\x00" + network))
	return name[:8] + "-" + hex.EncodeToString(sum[:])[:6]
}

// EnsureNetworks creates the OVN networks the plan needs, once, before the
// first instance that uses them. Another run that created one first is fine.
func (c *Client) EnsureNetworks(ctx context.Context, plan *NetPlan) error {
	if plan == nil {
		return nil
	}
	for _, body := range plan.create {
		if err := c.createNetwork(ctx, body); err != nil && !alreadyExists(err) {
			return fmt.Errorf("create OVN network %s for network %s of stack %s: %w", body.Name, body.Config[keyNetworkCompose], plan.Stack, err)
		}
	}
	plan.create = nil
	return nil
}

// DeleteStackNetworks removes the OVN networks the fleet created for a
// stack (found by their ownership keys), after its instances are gone.
func (c *Client) DeleteStackNetworks(ctx context.Context, stack string) ([]string, error) {
	all, err := c.listNetworks(ctx)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, n := range all {
		if n.Config[keyNetworkStack] != stack || n.Config[keyNetworkCompose] == "" {
			continue
		}
		if err := c.deleteNetwork(ctx, n.Name); err != nil && !isNotFound(err) {
			return deleted, fmt.Errorf("delete network %s of stack %s: %w", n.Name, stack, err)
		}
		deleted = append(deleted, n.Name)
	}
	return deleted, nil
}
