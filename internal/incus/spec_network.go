package incus

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// NIC is one network device of a service's instances and the Compose
// networks it carries. Networks that attach the same way (several Compose
// networks on the one parent bridge) share a NIC: a second device on the
// same L2 would only add a second address to tell apart.
type NIC struct {
	Name     string // eth0, eth1, ... in the order of the first network
	Device   map[string]string
	Networks []string // Compose network keys, sorted
}

// ServiceNICs lists the NICs of a service's instances under the plan.
// Deterministic, so the names code finds each network's interface again.
func (p *NetPlan) ServiceNICs(svc *model.Service) []NIC {
	if !p.Enabled() {
		return nil
	}
	var nics []NIC
	byDevice := map[string]int{}
	for _, sn := range svc.Networks { // sorted by network
		a, ok := p.Attach[sn.Network]
		if !ok {
			continue
		}
		key := deviceKey(a.Device)
		i, ok := byDevice[key]
		if !ok {
			i = len(nics)
			byDevice[key] = i
			nics = append(nics, NIC{Name: fmt.Sprintf("eth%d", i), Device: maps.Clone(a.Device)})
		}
		nics[i].Networks = append(nics[i].Networks, sn.Network)
	}
	return nics
}

// NetworkDevices are the instance devices for a service's NICs.
func NetworkDevices(nics []NIC) map[string]map[string]string {
	devices := map[string]map[string]string{}
	for _, n := range nics {
		d := maps.Clone(n.Device)
		d["name"] = n.Name
		devices[n.Name] = d
	}
	return devices
}

func deviceKey(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + d[k] + ";")
	}
	return b.String()
}
