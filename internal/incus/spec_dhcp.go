package incus

import (
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// A service whose command, entrypoint or user replaces or demotes the
// image's init gets its NICs' addresses from us: nothing else would
// configure them (a replaced init never runs; an init run as the user
// cannot). One script, pushed into the instance before its first start,
// does it (addressScript):
//   - LXC runs it as a start hook (lxc.hook.start), as root, inside the
//     container, after the NICs are in place and before it switches to
//     lxc.init.uid/gid and runs the first process. So it works under user:
//     and needs no privilege-dropping tool in the image, and it runs again
//     on every start (autorestart, member reboot).
//   - It starts the image's DHCP client on every NIC and, for busybox
//     udhcpc (which applies nothing itself), serves as its event script
//     (-s): address, default route, resolvers.
// Only the image's own tools are used; an image without a DHCP client gets
// a clear line on its console and in addressStatusPath, which
// WaitAddresses reports. OCI images are left alone: Incus runs their
// networking itself, and many have no /bin/sh for a hook.

// addressHookPath is where the script lives in the instance. /etc is never
// a tmpfs, so udhcpc finds its event script on every renewal.
const addressHookPath = "/etc/incus-fleet-net"

// addressStatusPath is where the script writes what went wrong: /dev is
// the container's own tmpfs (LXC autodev), writable even on a read-only
// root, and gone with the container.
const addressStatusPath = "/dev/.incus-fleet-net"

// addressScript is the start hook and udhcpc event script. A start hook is
// called with no argument (hook version 1) or with "NAME lxc start"; udhcpc
// calls it with one of its event names.
//
// The hook waits for the first lease of every NIC (udhcpc -b returns once
// it has one, or after -t tries; dhcpcd and dhclient are waited for by
// polling the NICs), in parallel, so the service's process starts with its
// addresses; the client stays behind to renew. Default routes
// get a metric per NIC (eth0 100, eth1 101, ...) so several NICs with a
// router do not collide; resolvers come from eth0's lease only, so the
// file does not flip between NICs.
const addressScript = `#!/bin/sh
# incus-fleet: brings up the NICs of a service whose command, entrypoint or
# user replaces the image's init (LXC start hook), and applies busybox
# udhcpc's leases (its -s event script).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
status=` + addressStatusPath + `
lease() {
	dev=$interface
	case $1 in
	deconfig)
		ip -4 addr flush dev "$dev"
		ip link set dev "$dev" up
		;;
	bound | renew)
		if ! ip -4 addr show dev "$dev" | grep -qF "inet $ip/${mask:-24} "; then
			ip -4 addr flush dev "$dev"
			ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$dev"
		fi
		n=${dev#eth}
		case $n in '' | *[!0-9]*) n=0 ;; esac
		for r in $router; do
			ip route replace default via "$r" dev "$dev" metric $((100 + n))
			break
		done
		if [ "$dev" = eth0 ] && [ -n "$dns" ]; then
			umask 022
			{
				[ -n "$domain" ] && echo "search $domain"
				for s in $dns; do echo "nameserver $s"; done
			} >/etc/.resolv.conf.incus-fleet && mv -f /etc/.resolv.conf.incus-fleet /etc/resolv.conf
		fi
		;;
	esac
}
case $1 in
deconfig | bound | renew | leasefail | nak)
	lease "$1" >/dev/null 2>&1
	exit 0
	;;
esac
# The start hook. Nothing may keep LXC's output pipe open (it waits for
# EOF), so the clients get /dev/null.
exec </dev/null >/dev/null 2>&1
rm -f "$status"
nics=
for d in /sys/class/net/*; do
	n=${d##*/}
	[ "$n" = lo ] || [ ! -e "$d" ] || nics="$nics $n"
done
[ -n "$nics" ] || exit 0
for n in $nics; do ip link set dev "$n" up; done
# leased waits (at most about 6 s) until every NIC has an IPv4 address, for
# the clients that return before their first lease (dhcpcd -b, dhclient
# -nw): a process started without one resolves no name at all (glibc's
# getaddrinfo with AI_ADDRCONFIG, as nginx uses it).
leased() {
	i=0
	while [ $i -lt 60 ]; do
		all=1
		for n in $nics; do
			ip -4 addr show dev "$n" 2>/dev/null | grep -q "inet " || all=
		done
		[ -n "$all" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
}
if command -v udhcpc >/dev/null; then
	client=udhcpc
elif command -v busybox >/dev/null && busybox udhcpc --help >/dev/null 2>&1; then
	client="busybox udhcpc"
elif command -v dhcpcd >/dev/null; then
	dhcpcd -b $nics
	leased
	exit 0
elif command -v dhclient >/dev/null; then
	dhclient -nw $nics
	leased
	exit 0
else
	echo "incus-fleet: the image has no DHCP client (udhcpc, dhcpcd or dhclient), so$nics got no IPv4 address; add one to the image" >/dev/console
	echo "no DHCP client in the image: add udhcpc, dhcpcd or dhclient" >"$status"
	exit 0
fi
for n in $nics; do
	$client -b -t 5 -T 1 -A 3 -i "$n" -s "$0" &
done
wait
exit 0
`

// addressHookLine is the raw.lxc line that runs the script.
const addressHookLine = "lxc.hook.start = " + addressHookPath

// wantsAddressHook tells whether InstanceSpec's instance needs the script:
// a system container image whose init is replaced (command, entrypoint) or
// run as another user (user:).
func wantsAddressHook(svc *model.Service, img Image) bool {
	if img.oci != nil {
		return false
	}
	rt := svc.Runtime
	return len(svc.Entrypoint)+len(svc.Command) > 0 || rt.UID != nil || rt.GID != nil || rt.User != ""
}

// withAddressHook adds the start hook to an instance that wants it and has
// a NIC, and returns the script to push before its first start.
func withAddressHook(post *InstancesPost) (model.File, bool) {
	if !post.addressHook || !hasNIC(post.Devices) {
		return model.File{}, false
	}
	raw := post.Config["raw.lxc"]
	if !strings.Contains(raw, addressHookLine) {
		if raw != "" {
			raw += "\n"
		}
		post.Config["raw.lxc"] = raw + addressHookLine
	}
	return model.File{Target: addressHookPath, Mode: 0o755, Content: []byte(addressScript), Source: "the address hook of incus-fleet"}, true
}

func hasNIC(devices map[string]map[string]string) bool {
	for _, d := range devices {
		if d["type"] == "nic" {
			return true
		}
	}
	return false
}
