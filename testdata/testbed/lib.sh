# shellcheck shell=bash
# Shared helpers for the incus-fleet test bed. Sourced by the other scripts,
# never run directly.
#
# Layout under $TESTBED_DIR (default /tmp/incus-fleet-testbed):
#   node1/ node2/ node3/   INCUS_DIR of each cluster member
#   <spare>/               INCUS_DIR of each spare daemon (spare.sh)
#   image/ image-alt/      busybox image tarballs (image.sh)
#   env                    `export` lines for tests (up.sh)
#
# Every daemon is identified by its --logfile argument (<INCUS_DIR>/incusd.log),
# which is unique per INCUS_DIR, so we never touch an incusd we did not start.

TESTBED_DIR="${TESTBED_DIR:-/tmp/incus-fleet-testbed}"
# Strip a trailing slash so prefix matching on paths is exact.
TESTBED_DIR="${TESTBED_DIR%/}"
INCUSD="${INCUSD:-/usr/libexec/incus/incusd}"

# The arrays below are used by the scripts that source this file.
# shellcheck disable=SC2034
MEMBERS=(node1 node2 node3)
# API/cluster ports on 127.0.0.1: 8443, 8444, 8445 unless TESTBED_PORT_BASE
# moves them (e.g. to run a second test bed next to a running one).
TESTBED_PORT_BASE=${TESTBED_PORT_BASE:-8443}
# shellcheck disable=SC2034
declare -A MEMBER_PORT=([node1]=$((TESTBED_PORT_BASE)) [node2]=$((TESTBED_PORT_BASE + 1))
	[node3]=$((TESTBED_PORT_BASE + 2)))
# Default bind address of published ports, one loopback address per member so
# that replicas of one service on different members don't clash on this host.
# shellcheck disable=SC2034
# A second test bed sets TESTBED_PUBLISH_PREFIX (e.g. 127.0.1) so published
# ports of the two beds never clash on one host.
TESTBED_PUBLISH_PREFIX=${TESTBED_PUBLISH_PREFIX:-127.0.0}
declare -A MEMBER_PUBLISH=([node1]=${TESTBED_PUBLISH_PREFIX}.1 [node2]=${TESTBED_PUBLISH_PREFIX}.2 [node3]=${TESTBED_PUBLISH_PREFIX}.3)

# The isolated stand-in LAN (lan.sh): interface names derive from the port
# base so several beds coexist (Linux interface names have at most 15 chars).
# Every bed uses the same lab subnet, each on its own unconnected bridge.
# shellcheck disable=SC2034
LAN_BRIDGE=fbr${TESTBED_PORT_BASE}
# shellcheck disable=SC2034
LAN_NETNS=fleet-lan-${TESTBED_PORT_BASE}
# shellcheck disable=SC2034
LAN_VETH_HOST=fvh${TESTBED_PORT_BASE}
# shellcheck disable=SC2034
LAN_VETH_NS=fvn${TESTBED_PORT_BASE}
# shellcheck disable=SC2034
LAN_SUBNET=198.18.0.0/24
# shellcheck disable=SC2034
LAN_SERVER_IP=198.18.0.1
# shellcheck disable=SC2034
LAN_RANGE_START=198.18.0.10
# shellcheck disable=SC2034
LAN_RANGE_END=198.18.0.250
# The cluster config key incus-fleet reads for the default parent bridge.
# shellcheck disable=SC2034
LAN_PARENT_KEY=user.fleet.network.parent

log() { printf '[testbed] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

member_dir() { printf '%s/%s\n' "$TESTBED_DIR" "$1"; }

# inc NAME ARGS... runs the incus client against NAME's unix socket.
# INCUS_SOCKET/INCUS_REMOTE are dropped because a sourced env file would
# otherwise redirect every call to node1; --force-local ignores any default
# remote configured in the client config.
inc() {
	local name=$1
	shift
	env -u INCUS_SOCKET -u INCUS_REMOTE INCUS_DIR="$(member_dir "$name")" \
		incus --force-local "$@"
}

# daemon_pid NAME prints the pid of NAME's incusd and fails if none is alive.
# Zombies have an empty cmdline, so a SIGKILLed daemon that was not reaped yet
# counts as dead.
daemon_pid() {
	local logfile f pid
	local -a argv
	logfile="$(member_dir "$1")/incusd.log"
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		mapfile -d '' -t argv 2>/dev/null <"$f" || continue
		((${#argv[@]} >= 3)) || continue
		[[ ${argv[0]} == *incusd ]] || continue
		# Only the daemon itself has "--logfile <ours>"; its helper children
		# (forkproxy, forkexec, ...) run with other arguments.
		local i
		for ((i = 1; i < ${#argv[@]} - 1; i++)); do
			if [[ ${argv[i]} == --logfile && ${argv[i + 1]} == "$logfile" ]]; then
				printf '%s\n' "$pid"
				return 0
			fi
		done
	done
	return 1
}

daemon_running() { daemon_pid "$1" >/dev/null; }

# start_daemon NAME launches incusd for NAME in the background (no waiting).
start_daemon() {
	local name=$1 dir
	dir=$(member_dir "$name")
	if daemon_running "$name"; then
		return 0
	fi
	[[ -x $INCUSD ]] || die "$INCUSD missing: run install.sh"
	mkdir -p "$dir"
	# Unprivileged container roots (uid 1000000+) must traverse into the
	# instance rootfs under this directory.
	chmod 0711 "$dir"
	(
		cd /
		# There is no systemd here, so we start incusd ourselves.
		# - setsid: own session, so killing the caller's process group (e.g.
		#   a test runner timing out) doesn't take the daemon down with it.
		# - HTTPS_PROXY/HTTP_PROXY to a closed loopback port: incusd fetches
		#   instance types from the internet at start-up; this makes that
		#   fail at once on loopback instead of resolving/contacting outside
		#   hosts. Loopback (cluster traffic) is never proxied.
		export INCUS_DIR="$dir"
		export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9
		export https_proxy=$HTTPS_PROXY http_proxy=$HTTP_PROXY
		export NO_PROXY=127.0.0.0/8,localhost,::1 no_proxy=127.0.0.0/8,localhost,::1
		unset INCUS_SOCKET
		exec setsid "$INCUSD" --group root --logfile "$dir/incusd.log" \
			</dev/null >>"$dir/incusd.stderr" 2>&1
	) &
	echo "$!" >"$dir/incusd.pid"
}

# wait_ready NAME [SECONDS] waits for NAME's API; dumps its log on failure.
wait_ready() {
	local name=$1 timeout=${2:-60}
	if ! inc "$name" admin waitready --timeout "$timeout"; then
		log "incusd $name not ready after ${timeout}s; last log lines:"
		tail -n 20 "$(member_dir "$name")/incusd.log" >&2 || true
		tail -n 20 "$(member_dir "$name")/incusd.stderr" >&2 || true
		return 1
	fi
}

# signal_daemon NAME SIGNAL [GRACE]: send SIGNAL, wait GRACE seconds for the
# daemon to exit, then SIGKILL it.
signal_daemon() {
	local name=$1 sig=$2 grace=${3:-15} pid i
	pid=$(daemon_pid "$name") || return 0
	kill -s "$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		daemon_running "$name" || return 0
		sleep 0.1
	done
	log "incusd $name (pid $pid) ignored SIG$sig for ${grace}s; sending SIGKILL"
	kill -s KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		daemon_running "$name" || return 0
		sleep 0.1
	done
	die "incusd $name (pid $pid) survived SIGKILL"
}

# pids_under PREFIX prints the pids of every incusd-related process of the
# daemons whose INCUS_DIR is PREFIX or below it, plus all their descendants:
#   - incusd itself and its helpers (forkproxy listeners, forkexec, ...):
#     they inherit INCUS_DIR from the daemon, and stay alive (reparented to
#     pid 1) when the daemon dies, so the environment is what identifies them;
#   - "[lxc monitor] PREFIX/.../containers NAME" (by command line);
#   - container init and everything inside the container: descendants of the
#     lxc monitor, found through the parent links.
# Only bash builtins are used: this scans every process on the host.
pids_under() {
	local prefix=$1 f pid line ppid e is_root
	local -A parent=()
	local -a roots=() argv envv rest
	for f in /proc/[0-9]*/stat; do
		pid=${f#/proc/}
		pid=${pid%/stat}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		read -r line 2>/dev/null <"$f" || continue
		# comm (field 2) may contain spaces: cut after the last ')'; then
		# state is rest[0] and ppid rest[1].
		read -r -a rest <<<"${line##*) }"
		ppid=${rest[1]:-}
		[[ -n $ppid ]] || continue
		parent[$pid]=$ppid
		mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || continue
		((${#argv[@]})) || continue # kernel thread or zombie
		is_root=0
		if [[ ${argv[0]} == "[lxc monitor] $prefix/"* ]]; then
			is_root=1
		elif [[ ${argv[0]} == *incusd ]]; then
			mapfile -d '' -t envv 2>/dev/null <"/proc/$pid/environ" || envv=()
			for e in "${envv[@]}"; do
				if [[ $e == "INCUS_DIR=$prefix" || $e == "INCUS_DIR=$prefix/"* ]]; then
					is_root=1
					break
				fi
			done
		fi
		((is_root)) && roots+=("$pid")
	done
	local -A keep=()
	for pid in "${roots[@]}"; do keep[$pid]=1; done
	# Propagate to descendants until nothing changes (process trees are shallow).
	local changed=1
	while ((changed)); do
		changed=0
		for pid in "${!parent[@]}"; do
			if [[ -z ${keep[$pid]:-} && -n ${keep[${parent[$pid]}]:-} ]]; then
				keep[$pid]=1
				changed=1
			fi
		done
	done
	((${#keep[@]})) && printf '%s\n' "${!keep[@]}"
	return 0
}

# kill_under PREFIX SIGKILLs every process pids_under finds, then waits a
# moment for them to go.
kill_under() {
	local prefix=$1 i
	local -a pids
	mapfile -t pids < <(pids_under "$prefix")
	((${#pids[@]})) || return 0
	log "killing ${#pids[@]} leftover process(es) under $prefix"
	kill -s KILL "${pids[@]}" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		mapfile -t pids < <(pids_under "$prefix")
		((${#pids[@]})) || return 0
		sleep 0.1
	done
	log "warning: processes still alive under $prefix: ${pids[*]}"
}

# umount_under PREFIX unmounts everything mounted at or below PREFIX (deepest
# first): shmounts, guestapi, devIncus, storage pools, instance mounts.
umount_under() {
	local prefix=$1 mp i
	local -a mps
	for ((i = 0; i < 5; i++)); do
		# Field 5 of mountinfo is the mount point (spaces appear as \040;
		# our paths have none).
		mapfile -t mps < <(awk -v p="$prefix" '$5 == p || index($5, p "/") == 1 {print $5}' \
			/proc/self/mountinfo | sort -r)
		((${#mps[@]})) || return 0
		for mp in "${mps[@]}"; do
			umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
		done
	done
	die "could not unmount: ${mps[*]}"
}

# remove_stale_cgroups NAME... drops the cgroups LXC leaves behind for
# containers that were SIGKILLed (down.sh, member.sh crash), so a later
# container with the same name starts in a fresh one. NAMEs are LXC container
# names (<project>_<instance> outside the default project), taken from
# <INCUS_DIR>/containers. rmdir only succeeds on empty cgroups, so a live
# container is never affected.
remove_stale_cgroups() {
	local name d
	for name in "$@"; do
		[[ -n $name && $name != */* ]] || continue
		for d in /sys/fs/cgroup/*/lxc.payload."$name" /sys/fs/cgroup/*/lxc.monitor."$name" \
			/sys/fs/cgroup/lxc.payload."$name" /sys/fs/cgroup/lxc.monitor."$name"; do
			[[ -d $d ]] || continue
			# Depth-first: cgroups created inside the container go first.
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done
	done
}

# cluster_members_csv NAME prints "name,url,status" for each member as seen
# by NAME (fails if NAME is not reachable or not clustered).
cluster_members_csv() {
	inc "$1" cluster list --format csv --columns n,u,s 2>/dev/null
}
