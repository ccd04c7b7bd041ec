package composeload

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// validHostName tells a name that may be a hostname: letters, digits, '-'
// and '.', no empty label.
func validHostName(s string) bool { return len(s) <= 253 && hostnameRe.MatchString(s) }

// namesEntryRe is what may go into a hosts file or a DNS answer as a name:
// a hostname, or one with '_' (Docker resolves service names and aliases
// such as db_primary). Anything else (a newline, a space, a '#') could add
// a line or a comment to every other instance's names, so it is refused
// rather than written.
var namesEntryRe = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$`)

func validNamesEntry(s string) bool { return len(s) <= 253 && namesEntryRe.MatchString(s) }

// checkAliases refuses a network alias that is not a host name.
func checkAliases(service, network string, aliases []string) error {
	for _, a := range aliases {
		if !validNamesEntry(a) {
			return serviceErr(service, "networks."+network+".aliases", "%q is not a valid host name (letters, digits, '-', '_' and '.', at most 63 characters per label)", a)
		}
	}
	return nil
}

// checkExtraHost refuses an extra_hosts entry whose name is not a host name
// or whose address is not an IP address (Compose writes IPv6 in brackets).
func checkExtraHost(service, name, addr string) (string, error) {
	if !validNamesEntry(name) {
		return "", serviceErr(service, "extra_hosts", "name %q is not a valid host name (letters, digits, '-', '_' and '.')", name)
	}
	ip := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if net.ParseIP(ip) == nil {
		return "", serviceErr(service, "extra_hosts."+name, "address %q is not an IP address; give one such as 192.0.2.10 or ::1", addr)
	}
	return ip, nil
}

// linkAliases reports `links: [db:database]`: the alias is a second name
// for db as seen from this service only, which the stack's shared names
// cannot express (the service name itself still resolves).
func linkAliases(s types.ServiceConfig, w *warnings) {
	for _, l := range s.Links {
		target, alias, ok := strings.Cut(l, ":")
		if ok && alias != "" && alias != target {
			w.add(unsupported(s.Name, fmt.Sprintf("links alias %q (for %q)", alias, target), "names are shared by the whole stack, not per linking service; add the alias to "+target+"'s networks.<name>.aliases"))
		}
	}
}

// ipamWarnings names the network settings that have no place in an Incus
// network and would otherwise be dropped without a word (a second subnet
// of one family is reported by toNetwork).
func ipamWarnings(key string, cfg types.NetworkConfig, w *warnings) {
	if d := cfg.Ipam.Driver; d != "" && d != "default" {
		w.add(fmt.Sprintf("network %q: ipam.driver %q ignored: Incus assigns addresses itself", key, d))
	}
	if len(cfg.Ipam.Options) > 0 {
		w.add(fmt.Sprintf("network %q: ipam.options %v ignored: Incus assigns addresses itself", key, sortedKeys(cfg.Ipam.Options)))
	}
	for i, pool := range cfg.Ipam.Config {
		if pool == nil {
			continue
		}
		if pool.IPRange != "" {
			w.add(fmt.Sprintf("network %q: ipam.config[%d].ip_range %s ignored: Incus hands out addresses from the whole subnet", key, i, pool.IPRange))
		}
		if len(pool.AuxiliaryAddresses) > 0 {
			w.add(fmt.Sprintf("network %q: ipam.config[%d].aux_addresses %v ignored: Incus reserves no addresses for other hosts", key, i, sortedKeys(pool.AuxiliaryAddresses)))
		}
	}
	if cfg.EnableIPv6 != nil && *cfg.EnableIPv6 {
		w.add(fmt.Sprintf("network %q: enable_ipv6 ignored: whether instances get IPv6 addresses is up to the Incus network (on OVN, give an IPv6 ipam subnet)", key))
	}
	if cfg.EnableIPv4 != nil && !*cfg.EnableIPv4 {
		w.add(fmt.Sprintf("network %q: enable_ipv4: false ignored: instances get IPv4 addresses from the Incus network", key))
	}
}
