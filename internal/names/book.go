package names

import (
	"hash/fnv"
	"sort"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Endpoint is one running instance of the stack and its address on each
// Compose network it joins.
type Endpoint struct {
	Instance string
	Service  string
	Addrs    map[string]string // Compose network key -> IPv4 address
}

// Book computes every endpoint's hosts entries: for each network the
// instance joins, every running instance of every service on that network
// under `<instance>`, `<service>`, `tasks.<service>` and the service's
// aliases on that network. Names resolve only among services sharing a
// network. There is no virtual IP: `<service>` lists every running replica
// (Swarm's endpoint_mode dnsrr); lines come in an order of their own per
// instance, so clients that take the first address spread over replicas.
func Book(stack *model.Stack, eps []Endpoint) map[string][]Entry {
	eps = append([]Endpoint(nil), eps...)
	sort.Slice(eps, func(i, j int) bool { return eps[i].Instance < eps[j].Instance })
	joins := map[string]map[string][]string{} // service -> network -> aliases
	nets := map[string][]string{}             // service -> networks, sorted
	for _, svc := range stack.Services {
		m := map[string][]string{}
		for _, sn := range svc.Networks {
			m[sn.Network] = sn.Aliases
			nets[svc.Name] = append(nets[svc.Name], sn.Network)
		}
		joins[svc.Name] = m
	}
	out := map[string][]Entry{}
	for _, self := range eps {
		byIP := map[string][]string{}
		var order []string
		for _, net := range nets[self.Service] {
			for _, peer := range eps {
				aliases, ok := joins[peer.Service][net]
				ip := peer.Addrs[net]
				if !ok || ip == "" {
					continue
				}
				if _, seen := byIP[ip]; !seen {
					order = append(order, ip)
				}
				names := append([]string{peer.Instance, peer.Service, "tasks." + peer.Service}, aliases...)
				byIP[ip] = appendNew(byIP[ip], names...)
			}
		}
		sort.Slice(order, func(i, j int) bool {
			return spread(self.Instance, order[i]) < spread(self.Instance, order[j])
		})
		entries := make([]Entry, 0, len(order))
		for _, ip := range order {
			entries = append(entries, Entry{IP: ip, Names: byIP[ip]})
		}
		out[self.Instance] = entries
	}
	return out
}

// spread orders one instance's lines: stable for a given instance and peer
// (the file does not change while nothing else does), different between
// instances.
func spread(self, ip string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(self + "\x00" + ip))
	return h.Sum64()
}

func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		dup := false
		for _, have := range list {
			if have == n {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, n)
		}
	}
	return list
}
