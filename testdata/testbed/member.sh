#!/usr/bin/env bash
# Controls one member daemon of the test cluster, for member-loss tests.
#
#   member.sh start NAME    start NAME's incusd in its existing INCUS_DIR and
#                           wait until it answers (instances that were running
#                           are started again by incusd itself)
#   member.sh stop NAME     SIGTERM: incusd exits, its containers keep running
#                           (like restarting the daemon); SIGKILL after 30s
#   member.sh shutdown NAME `incus admin shutdown`: stops NAME's instances,
#                           then the daemon (like powering the host off cleanly)
#   member.sh kill NAME     SIGKILL incusd only; containers and proxy devices
#                           keep running (daemon crash)
#   member.sh crash NAME    SIGKILL incusd, its containers and its proxy
#                           processes, as if the host had died; published
#                           ports go away too
#   member.sh status NAME   print "NAME running|stopped pid=..."
#
# NAME is node1..node3 or a spare created by spare.sh. The other members only
# notice a lost member after cluster.offline_threshold (default 20s).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

usage() {
	echo "usage: $0 start|stop|shutdown|kill|crash|status NAME" >&2
	exit 2
}

(($# == 2)) || usage
action=$1
name=$2
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || die "bad member name: $name"
dir=$(member_dir "$name")
[[ -d $dir ]] || die "no such member: $dir"

case $action in
start)
	if daemon_running "$name"; then
		log "$name already running (pid $(daemon_pid "$name"))"
		exit 0
	fi
	start_daemon "$name"
	# Needs database quorum: with 3 voters at least one other member must be
	# up, otherwise this times out.
	wait_ready "$name" 60
	log "$name started (pid $(daemon_pid "$name"))"
	;;
stop)
	signal_daemon "$name" TERM 30
	log "$name stopped"
	;;
shutdown)
	if daemon_running "$name"; then
		# Stops all instances on this member first (honours their
		# shutdown timeouts), then the daemon exits.
		inc "$name" admin shutdown --timeout 60 || true
		signal_daemon "$name" TERM 10
	fi
	log "$name shut down"
	;;
kill)
	if pid=$(daemon_pid "$name"); then
		kill -s KILL "$pid"
		for ((i = 0; i < 50; i++)); do
			daemon_running "$name" || break
			sleep 0.1
		done
	fi
	log "$name killed"
	;;
crash)
	# Everything started from this INCUS_DIR at once: the daemon, lxc
	# monitors, container processes, forkproxy listeners, forkexec...
	kill_under "$dir"
	# Like after a reboot: no stale cgroups for the restarted instances.
	mapfile -t lxc_names < <(find "$dir/containers" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null)
	remove_stale_cgroups "${lxc_names[@]}"
	log "$name crashed (daemon, containers and proxies killed)"
	;;
status)
	if pid=$(daemon_pid "$name"); then
		echo "$name running pid=$pid dir=$dir"
	else
		echo "$name stopped dir=$dir"
	fi
	;;
*)
	usage
	;;
esac
