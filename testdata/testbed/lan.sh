#!/usr/bin/env bash
# The test bed's stand-in for a LAN that instances share across members:
#
#   lan.sh up      create (or repair) the bridge, the namespace, the veth and
#                  dnsmasq, and set the cluster's default parent bridge
#   lan.sh down    remove dnsmasq, the namespace (with its veth end) and the bridge
#   lan.sh status  print what exists
#
# Strictly isolated: the bridge has NO uplink, NO NAT, NO route and NO host
# address (IPv6 is off on it, so not even a link-local one). The only other
# port on it is a veth into a network namespace of its own, where dnsmasq
# hands out 198.18.0.0/24 (RFC 2544 benchmarking range) by DHCP: no router,
# no DNS server option, DNS service off. Instances attach with
# `nictype: bridged, parent: <bridge>`; every member of the bed runs on this
# host, so all of them share the one L2, as members of a real cluster share a
# LAN. Only instances talk on it; the host never connects to their addresses.
#
# Names derive from TESTBED_PORT_BASE (see lib.sh: LAN_*), so several beds
# coexist; each bed's LAN is its own isolated bridge.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root"

LAN_STATE=$TESTBED_DIR/lan
DNSMASQ_PID=$LAN_STATE/dnsmasq.pid

dnsmasq_running() {
	local pid
	[[ -s $DNSMASQ_PID ]] || return 1
	pid=$(<"$DNSMASQ_PID")
	[[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--pid-file=$DNSMASQ_PID"
}

link_exists() { ip link show "$1" >/dev/null 2>&1; }
netns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

lan_up() {
	command -v dnsmasq >/dev/null || die "dnsmasq missing: run install.sh"
	mkdir -p "$LAN_STATE"
	# down reads these back: a bed is torn down by its TESTBED_DIR alone, and
	# must never take another bed's LAN (names from another port base).
	printf 'LAN_BRIDGE=%s\nLAN_NETNS=%s\nLAN_VETH_HOST=%s\n' "$LAN_BRIDGE" "$LAN_NETNS" "$LAN_VETH_HOST" >"$LAN_STATE/names"
	if ! link_exists "$LAN_BRIDGE"; then
		log "creating isolated bridge $LAN_BRIDGE (no uplink, no address)"
		ip link add "$LAN_BRIDGE" type bridge stp_state 0 forward_delay 0
	fi
	# No host address of any kind on the bridge, not even IPv6 link-local.
	sysctl -qw "net.ipv6.conf.$LAN_BRIDGE.disable_ipv6=1"
	ip link set "$LAN_BRIDGE" up
	if ! netns_exists "$LAN_NETNS"; then
		ip netns add "$LAN_NETNS"
	fi
	if ! link_exists "$LAN_VETH_HOST"; then
		# A half-made pair (host end gone) leaves the peer in the namespace.
		ip -n "$LAN_NETNS" link del "$LAN_VETH_NS" 2>/dev/null || true
		ip link add "$LAN_VETH_HOST" type veth peer name "$LAN_VETH_NS" netns "$LAN_NETNS"
	fi
	sysctl -qw "net.ipv6.conf.$LAN_VETH_HOST.disable_ipv6=1"
	ip link set "$LAN_VETH_HOST" master "$LAN_BRIDGE" up
	ip -n "$LAN_NETNS" link set lo up
	if ! ip -n "$LAN_NETNS" -4 addr show dev "$LAN_VETH_NS" | grep -q "$LAN_SERVER_IP/"; then
		ip -n "$LAN_NETNS" addr add "$LAN_SERVER_IP/24" dev "$LAN_VETH_NS"
	fi
	ip -n "$LAN_NETNS" link set "$LAN_VETH_NS" up
	if ! dnsmasq_running; then
		log "starting dnsmasq in netns $LAN_NETNS ($LAN_SUBNET)"
		# --port=0: no DNS at all (names come from incus-fleet's hosts
		# block); empty options 3 and 6: no router, no DNS server.
		# --no-ping: offer at once instead of probing the address first.
		# Leases of 2 minutes (dnsmasq's minimum): the suite creates hundreds
		# of instances, each with a fresh MAC, and the pool has 241
		# addresses; instances also release theirs when they stop (image.sh).
		ip netns exec "$LAN_NETNS" dnsmasq --conf-file=/dev/null --no-hosts --no-resolv --port=0 \
			--user=root --group=root \
			--interface="$LAN_VETH_NS" --bind-interfaces --except-interface=lo \
			--dhcp-range="$LAN_RANGE_START,$LAN_RANGE_END,255.255.255.0,2m" \
			--dhcp-option=3 --dhcp-option=6 --dhcp-authoritative --no-ping \
			--dhcp-leasefile="$LAN_STATE/leases" --pid-file="$DNSMASQ_PID" \
			--log-facility="$LAN_STATE/dnsmasq.log" --log-dhcp
		for ((i = 0; i < 50; i++)); do
			dnsmasq_running && break
			sleep 0.1
		done
		dnsmasq_running || die "dnsmasq did not start (see $LAN_STATE/dnsmasq.log)"
	fi
	# A plain Compose file gets networking: the cluster's default parent.
	if [[ $(inc node1 config get "$LAN_PARENT_KEY" 2>/dev/null) != "$LAN_BRIDGE" ]]; then
		inc node1 config set "$LAN_PARENT_KEY" "$LAN_BRIDGE"
	fi
}

lan_down() {
	if [[ ! -s $LAN_STATE/names ]]; then
		log "no LAN recorded under $LAN_STATE; nothing to remove"
		return 0
	fi
	# shellcheck disable=SC1091
	source "$LAN_STATE/names"
	if dnsmasq_running; then
		log "stopping dnsmasq (pid $(<"$DNSMASQ_PID"))"
		kill "$(<"$DNSMASQ_PID")" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			dnsmasq_running || break
			sleep 0.1
		done
	fi
	if netns_exists "$LAN_NETNS"; then
		log "removing netns $LAN_NETNS"
		# Anything else still inside (a dnsmasq whose pid file is gone).
		ip netns pids "$LAN_NETNS" 2>/dev/null | xargs -r kill -s KILL 2>/dev/null || true
		ip netns del "$LAN_NETNS"
	fi
	if link_exists "$LAN_VETH_HOST"; then
		ip link del "$LAN_VETH_HOST"
	fi
	if link_exists "$LAN_BRIDGE"; then
		log "removing bridge $LAN_BRIDGE"
		ip link del "$LAN_BRIDGE"
	fi
	rm -rf "$LAN_STATE"
}

lan_status() {
	printf 'bridge %s: %s\n' "$LAN_BRIDGE" "$(link_exists "$LAN_BRIDGE" && echo present || echo absent)"
	printf 'netns %s: %s\n' "$LAN_NETNS" "$(netns_exists "$LAN_NETNS" && echo present || echo absent)"
	printf 'dnsmasq: %s\n' "$(dnsmasq_running && echo "running pid $(<"$DNSMASQ_PID")" || echo stopped)"
}

case ${1:-} in
up) lan_up ;;
down) lan_down ;;
status) lan_status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
