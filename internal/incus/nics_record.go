package incus

import (
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/names"
)

// KeyNICs records, on each instance, which Compose networks each of its
// NICs carries ("eth0=back,default;eth1=edge"). The names read an
// instance's addresses by its own layout: during an update that changes a
// service's networks, the old replicas still have the old NICs, and
// mapping them with the new layout would publish them on the wrong
// networks.
const KeyNICs = "user.fleet.nics"

// EncodeNICs is the KeyNICs value of an instance created with these NICs.
func EncodeNICs(nics []NIC) string {
	parts := make([]string, 0, len(nics))
	for _, n := range nics {
		parts = append(parts, n.Name+"="+strings.Join(n.Networks, ","))
	}
	return strings.Join(parts, ";")
}

// decodeNICs reads a KeyNICs value back (devices are not needed there).
func decodeNICs(s string) []NIC {
	var out []NIC
	for _, part := range strings.Split(s, ";") {
		name, nets, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			continue
		}
		out = append(out, NIC{Name: name, Networks: strings.Split(nets, ",")})
	}
	return out
}

// endpointOf is one running instance's place in the names: its address on
// each Compose network, read through the NIC layout it was created with
// (KeyNICs), or the plan's for instances created before it was recorded.
func endpointOf(in instanceFull, service string, planned []NIC) names.Endpoint {
	nics := planned
	if rec, ok := in.Config[KeyNICs]; ok {
		nics = decodeNICs(rec)
	}
	ep := names.Endpoint{Instance: in.Name, Service: service, Addrs: map[string]string{}}
	for _, nic := range nics {
		ip := in.State.Network[nic.Name].inet4()
		if ip == "" {
			continue
		}
		for _, net := range nic.Networks {
			ep.Addrs[net] = ip
		}
	}
	return ep
}
