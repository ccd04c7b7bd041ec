#!/usr/bin/env bash
# Extra standalone daemons for cluster-join tests.
#
#   spare.sh start NAME PORT         start an uninitialised, unclustered incusd
#                                    in $TESTBED_DIR/NAME, API on 127.0.0.1:PORT
#   spare.sh join NAME PORT [ADDR]   join it to the test cluster (token from
#                                    node1, like up.sh does); ADDR, if given,
#                                    becomes its user.publish_address
#   spare.sh stop NAME               stop its daemon (SIGTERM, then SIGKILL)
#   spare.sh remove NAME             stop it and delete its directory; run
#                                    `incus cluster remove --force NAME` first
#                                    if it had joined
#
# Once joined, a spare is an ordinary member: member.sh works on it, and
# down.sh removes it with everything else. Ports 8443-8445 (or
# TESTBED_PORT_BASE..+2) belong to node1..node3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

usage() {
	echo "usage: $0 start NAME PORT | join NAME PORT [PUBLISH_ADDR] | stop NAME | remove NAME" >&2
	exit 2
}

(($# >= 2)) || usage
action=$1
name=$2
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || die "bad spare name: $name"
for m in "${MEMBERS[@]}" image image-alt env; do
	[[ $name != "$m" ]] || die "$name is reserved"
done
dir=$(member_dir "$name")

need_port() {
	if ! [[ ${1:-} =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then
		usage
	fi
}

case $action in
start)
	(($# == 3)) || usage
	port=$3
	need_port "$port"
	start_daemon "$name"
	wait_ready "$name" 60
	current=$(inc "$name" config get core.https_address)
	if [[ $current != "127.0.0.1:$port" ]]; then
		# Fails if the port is taken; the daemon then stays up without an
		# address, so say so loudly.
		inc "$name" config set core.https_address "127.0.0.1:$port" ||
			die "could not listen on 127.0.0.1:$port (in use?)"
	fi
	log "spare $name up: 127.0.0.1:$port dir=$dir"
	;;
join)
	(($# == 3 || $# == 4)) || usage
	port=$3
	need_port "$port"
	publish=${4:-}
	daemon_running node1 || die "node1 is not running: run up.sh"
	daemon_running "$name" || die "spare $name is not running: spare.sh start $name $port"
	if inc node1 cluster list --format csv --columns n | grep -qx "$name"; then
		log "$name is already a cluster member"
	else
		# A pending token for this name (earlier failed attempt) would
		# block a new one.
		inc node1 cluster revoke-token "$name" >/dev/null 2>&1 || true
		token=$(inc node1 cluster add "$name" --quiet)
		cat >"$dir/preseed.yaml" <<EOF
cluster:
  enabled: true
  server_name: $name
  server_address: 127.0.0.1:$port
  cluster_token: $token
  member_config:
  # Per-member source of the dir pool: empty = default, inside this INCUS_DIR.
  - entity: storage-pool
    name: local
    key: source
    value: ""
EOF
		inc "$name" admin init --preseed <"$dir/preseed.yaml"
	fi
	if [[ -n $publish ]]; then
		inc node1 cluster set "$name" user.publish_address "$publish"
	fi
	inc node1 cluster list --format csv --columns n,u,s | grep "^$name,"
	;;
stop)
	(($# == 2)) || usage
	signal_daemon "$name" TERM 30
	log "spare $name stopped"
	;;
remove)
	(($# == 2)) || usage
	[[ -d $dir ]] || exit 0
	signal_daemon "$name" TERM 10
	kill_under "$dir"
	umount_under "$dir"
	rm -rf --one-file-system "$dir"
	log "spare $name removed"
	;;
*)
	usage
	;;
esac
