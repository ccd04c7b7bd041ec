// Package names computes, without any I/O, what every instance of a stack
// must resolve: the /etc/hosts file the fleet writes into each instance.
//
// Why /etc/hosts (see README "Design notes: name resolution"): it works the
// same on OVN and on a plain bridge, needs no DNS server (so no member whose
// loss breaks resolution), and needs no change to images: every libc reads
// it on every lookup.
package names

import (
	"fmt"
	"strings"
)

// Entry is one line of a hosts file: an address and its names.
type Entry struct {
	IP    string
	Names []string
}

// Hosts is everything one instance's /etc/hosts holds.
type Hosts struct {
	Stack    string
	Instance string
	// Hostname is the instance's own name for itself (Compose hostname:),
	// the instance name when empty.
	Hostname string
	// Fleet are the names of the stack: services, tasks.<service>,
	// instances and aliases on the networks the instance shares.
	Fleet []Entry
	// Extra are Compose extra_hosts, written last, as Docker does; they
	// are the service's own and do not change with replicas.
	Extra []Entry
}

// Markers of the fleet-managed section, so a reader (or a test) can tell
// what the fleet owns.
const (
	BeginMarker = "# BEGIN incus-fleet names"
	EndMarker   = "# END incus-fleet names"
)

// Render writes the whole file. One writer renders all of it, so
// extra_hosts and the fleet's names never race; the file replaces the
// image's /etc/hosts atomically (written aside, then renamed).
func Render(h Hosts) []byte {
	var b strings.Builder
	host := h.Hostname
	if host == "" {
		host = h.Instance
	}
	fmt.Fprintf(&b, "# Written by incus-fleet for %s of stack %s; rewritten whenever the stack changes.\n", h.Instance, h.Stack)
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	if !hasName(h.Fleet, host) {
		// A Compose hostname resolves to the instance's own address, as
		// in Docker; with no address (yet) to 127.0.1.1, as Debian does.
		own := "127.0.1.1"
		if ip := addressOf(h.Fleet, h.Instance); ip != "" {
			own = ip
		}
		fmt.Fprintf(&b, "%s\t%s\n", own, host)
	}
	b.WriteString(BeginMarker + "\n")
	for _, e := range h.Fleet {
		writeEntry(&b, e)
	}
	b.WriteString(EndMarker + "\n")
	if len(h.Extra) > 0 {
		b.WriteString("# extra_hosts\n")
		for _, e := range h.Extra {
			writeEntry(&b, e)
		}
	}
	return []byte(b.String())
}

func writeEntry(b *strings.Builder, e Entry) {
	if e.IP == "" || len(e.Names) == 0 {
		return
	}
	fmt.Fprintf(b, "%s\t%s\n", e.IP, strings.Join(e.Names, " "))
}

func hasName(entries []Entry, name string) bool { return addressOf(entries, name) != "" }

// addressOf is the address a name has among the entries, "" if none.
func addressOf(entries []Entry, name string) string {
	for _, e := range entries {
		for _, n := range e.Names {
			if n == name && e.IP != "" {
				return e.IP
			}
		}
	}
	return ""
}
