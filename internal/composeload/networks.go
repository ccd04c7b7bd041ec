package composeload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// toNetworks fills the stack's networks and each service's memberships from
// the Compose project. compose-go has already put services that list no
// network on `default` and declared `default`; a network no service joins
// is left out (Compose does not create it either).
func toNetworks(p *types.Project, st *model.Stack, w *warnings) error {
	used := map[string]bool{}
	for i := range st.Services {
		svc := &st.Services[i]
		s := p.Services[svc.Name]
		for _, key := range sortedKeys(s.Networks) {
			if _, ok := p.Networks[key]; !ok {
				return serviceErr(svc.Name, "networks", "names network %q, which is not declared under the top-level networks: key; declare it there (networks: {%s: {}})", key, key)
			}
			sn := model.ServiceNetwork{Network: key}
			if cfg := s.Networks[key]; cfg != nil {
				if err := checkAliases(svc.Name, key, cfg.Aliases); err != nil { // netkeys.go
					return err
				}
				sn.Aliases = slices.Clone(cfg.Aliases)
				sort.Strings(sn.Aliases)
				if cfg.Ipv4Address != "" || cfg.Ipv6Address != "" || cfg.MacAddress != "" {
					w.add(fmt.Sprintf("service %q: networks.%s: fixed ipv4_address/ipv6_address/mac_address ignored: replicas take their addresses from the network (one address cannot serve several replicas)", svc.Name, key))
				}
			}
			svc.Networks = append(svc.Networks, sn)
			used[key] = true
		}
		linkAliases(s, w)
	}
	for _, key := range sortedKeys(p.Networks) {
		if !used[key] {
			continue
		}
		n, err := toNetwork(key, p.Networks[key], w)
		if err != nil {
			return err
		}
		st.Networks = append(st.Networks, n)
	}
	if err := subnetConflicts(st.Networks); err != nil {
		return err
	}
	for i := range st.Services {
		st.Services[i].Hash = withNetworks(st.Services[i].Hash, st.Services[i].Networks, st)
	}
	return nil
}

// withNetworks folds into a service's hash the networks it joins and how
// each is defined at the top level (which Compose's own service hash leaves
// out): selecting another Incus network or subnet is an update of the
// replicas on it, which get new NICs. Instances deployed before networks
// existed are replaced once, so they get theirs.
func withNetworks(hash string, joins []model.ServiceNetwork, st *model.Stack) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", hash)
	for _, sn := range joins {
		n := st.Network(sn.Network)
		if n == nil {
			continue
		}
		fmt.Fprintf(h, "network %q existing=%q subnets=%q gateway=%q internal=%t aliases=%q\n",
			sn.Network, n.Existing, n.Subnets, n.Gateway, n.Internal, sn.Aliases)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// subnetConflicts refuses two networks of the stack whose ipam subnets
// overlap: their addresses would be ambiguous, and Docker refuses it too.
func subnetConflicts(nets []model.Network) error {
	type owned struct {
		network string
		ipn     *net.IPNet
	}
	var seen []owned
	for _, n := range nets {
		for _, s := range n.Subnets {
			_, ipn, err := net.ParseCIDR(s)
			if err != nil {
				continue // refused earlier
			}
			for _, o := range seen {
				if o.ipn.Contains(ipn.IP) || ipn.Contains(o.ipn.IP) {
					return errorf("networks."+n.Name+".ipam", "network %q: ipam subnet %s overlaps subnet %s of network %q; give each network its own range", n.Name, s, o.ipn, o.network)
				}
			}
			seen = append(seen, owned{n.Name, ipn})
		}
	}
	return nil
}

// toNetwork maps one top-level network. `external: true` or an explicit
// `name:` select an existing Incus network; compose-go names the others
// <project>_<key>, which is not an Incus name and is not used.
func toNetwork(key string, cfg types.NetworkConfig, w *warnings) (model.Network, error) {
	n := model.Network{Name: key, Internal: cfg.Internal, Driver: cfg.Driver}
	switch {
	case bool(cfg.External):
		n.Existing = cfg.Name
		if n.Existing == "" {
			n.Existing = key
		}
	case cfg.Name != "" && !strings.HasSuffix(cfg.Name, "_"+key):
		// compose-go names every network <project>_<key>, and a bundle's
		// compose file carries that name from the project it was made in.
		n.Existing = cfg.Name
	}
	switch cfg.Driver {
	case "", "bridge", "overlay":
		// What the fleet gives every network anyway: one network across members.
	default:
		w.add(fmt.Sprintf("network %q: driver %q has no meaning on Incus and is ignored (the cluster's network settings decide what backs it)", key, cfg.Driver))
	}
	if len(cfg.DriverOpts) > 0 {
		n.DriverOpts = map[string]string(cfg.DriverOpts)
		w.add(fmt.Sprintf("network %q: driver_opts %v have no meaning on Incus and are ignored", key, sortedKeys(cfg.DriverOpts)))
	}
	ipamWarnings(key, cfg, w)   // netkeys.go
	family := map[bool]string{} // IPv4? -> the subnet kept for it
	for i, pool := range cfg.Ipam.Config {
		if pool == nil || pool.Subnet == "" {
			continue
		}
		ip, _, err := parseCIDR(pool.Subnet)
		if err != nil {
			return n, errorf(fmt.Sprintf("networks.%s.ipam.config[%d].subnet", key, i), "network %q: ipam subnet %q is not a CIDR (e.g. 10.20.0.0/24): %v", key, pool.Subnet, err)
		}
		// An Incus network has one range per address family; a second
		// one used to overwrite the first when the network was created.
		v4 := net.ParseIP(ip).To4() != nil
		if first, ok := family[v4]; ok {
			w.add(fmt.Sprintf("network %q: ipam subnet %s ignored: an Incus network has one range per address family, and %s is used", key, pool.Subnet, first))
			continue
		}
		family[v4] = pool.Subnet
		n.Subnets = append(n.Subnets, pool.Subnet)
		if n.Gateway == "" {
			n.Gateway = pool.Gateway
		}
	}
	if n.Existing != "" && len(n.Subnets) > 0 {
		w.add(fmt.Sprintf("network %q: ipam ignored: it selects the existing Incus network %q, whose own settings apply", key, n.Existing))
		n.Subnets, n.Gateway = nil, ""
	}
	return n, nil
}

func parseCIDR(s string) (string, int, error) {
	_, ipn, err := net.ParseCIDR(s)
	if err != nil {
		return "", 0, err
	}
	ones, _ := ipn.Mask.Size()
	return ipn.IP.String(), ones, nil
}
